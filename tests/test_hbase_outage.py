"""HBase going away and coming back: a clear error within the timeout, then service resumes.

The real HBase stays up; the outage is made by a TCP relay between the store and the
Thrift port, which the test stops (every connection cut, the port closed) and starts
again on the same port, as a restarted or unreachable server looks from the client.
"""
import socket
import time

import pytest

from conftest import make_config
from relay import relay  # noqa: F401 - fixture
from store import StoreUnavailable, open_store


def test_dead_hbase_fails_fast_and_clearly_then_service_resumes(relay, tmp_path):
    cfg = make_config("hbase", tmp_path, "outage").replace(hbase_port=relay.port, hbase_thrift2_port=relay.thrift2_port,
                                                      hbase_timeout_ms=2000)
    store = open_store(cfg, create=True)
    try:
        main = store.table("main")
        main.put("ZTF1_1", {"i:ra": 1.0})
        assert main.row("ZTF1_1") == {"i:ra": 1.0}

        relay.stop()
        t0 = time.monotonic()
        with pytest.raises(StoreUnavailable) as err:
            main.row("ZTF1_1")
        elapsed = time.monotonic() - t0
        assert elapsed < 2.0 + 1.5, f"took {elapsed:.1f} s with a 2 s timeout"
        assert "unreachable" in str(err.value) and f"127.0.0.1:{relay.port}" in str(err.value)

        relay.start(relay.port)
        assert main.row("ZTF1_1") == {"i:ra": 1.0}  # same process, same store object
        assert [k for k, _ in main.scan()] == ["ZTF1_1"]
    finally:
        store.drop_tables()
        store.close()


def test_nothing_listening_is_reported_with_the_address(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    cfg = make_config("hbase", tmp_path).replace(hbase_port=free_port, hbase_timeout_ms=1500)
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{free_port}"):
        open_store(cfg)
    assert time.monotonic() - t0 < 1.5 + 1.5
