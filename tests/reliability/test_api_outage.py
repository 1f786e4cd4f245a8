"""HBase down: the API answers 503 JSON within 5 s, and serves again unaided when it returns."""
import time

from api import create_api_app
from conftest import make_config
from relay import relay  # noqa: F401 - fixture
from store import open_store


def test_requests_get_503_within_5s_while_hbase_is_down_then_resume(relay, tmp_path):
    cfg = make_config("hbase", tmp_path, "apiout").replace(hbase_port=relay.port, hbase_thrift2_port=relay.thrift2_port,
                                                     hbase_timeout_ms=3000)
    with open_store(cfg, create=True) as s:
        s.table("main").put(s.table("main").keys.build("ZTF25aaaaaaa", 2460000.5, 1),
                            {"i:objectId": "ZTF25aaaaaaa", "i:jd": 2460000.5, "i:candid": 1, "i:magpsf": 18.5})
    client = create_api_app(cfg).test_client()
    try:
        ok = client.get("/api/v1/objects", query_string={"objectId": "ZTF25aaaaaaa"})
        assert ok.status_code == 200
        relay.stop()
        for path in ["/api/v1/objects?objectId=ZTF25aaaaaaa", "/api/v1/health", "/api/v1/conesearch?ra=1&dec=1&radius=5"]:
            t0 = time.monotonic()
            r = client.get(path)
            assert time.monotonic() - t0 < 5.0
            assert r.status_code == 503, (path, r.data[:200])
            assert r.get_json()["status"] == "error" and "unavailable" in r.get_json()["message"]
            assert r.headers.get("Retry-After")
        relay.start(relay.port)
        again = client.get("/api/v1/objects", query_string={"objectId": "ZTF25aaaaaaa"})
        assert again.status_code == 200 and again.get_json()[0]["i:magpsf"] == 18.5
    finally:
        relay.start(relay.port) if relay.server.fileno() == -1 else None
        with open_store(cfg) as s:
            s.drop_tables()
