"""The benchmark's PostgreSQL peer answers with the frames Nocturne's queries give (so
that rendering costs the same on both sides); checked without a PostgreSQL server."""
import pandas.testing as pdt

from api.queries.frame import to_frame
from bench.bench_peers import merge_size
from bench.peers.pg import frame
from bench.peers.report import fink_ms


def test_sql_rows_become_the_frame_nocturne_builds():
    names = ["i:objectId", "i:jd", "i:candid", "i:magpsf", "i:fid", "i:jdstarthist", "d:classification"]
    rows = [("ZTF1", 2460000.5, 2481242665515015008, 19.520000457763672, 1, 2459990.5, "SN candidate"),
            ("ZTF1", 2460000.7, None, 18.1, 2, None, "Unknown"),
            ("ZTF2", 2460001.5, 7, float("nan"), 2, 2460001.5, None)]
    want = to_frame([{n: v for n, v in zip(names, r) if v is not None} for r in rows])
    got = frame(names, rows)
    pdt.assert_frame_equal(got[list(want.columns)], want, check_exact=True)
    assert got["i:candid"].tolist()[0] == 2481242665515015008  # 19 digits kept
    assert frame(names, []).empty


def test_fink_figures_are_read_from_the_published_table():
    assert fink_ms("objects, 20-alert object") == 300
    assert fink_ms("cone 5″ on an object") == 200  # the low end of 200–400
    assert fink_ms("latests n=1000") == 60000
    assert fink_ms("time window 10 min") is None


def test_the_hbase_phase_s_figures_join_the_other_backends_of_the_same_size():
    """HBase is measured after the embedded store and PostgreSQL (with none of them running
    beside it): its figures join theirs per layer and query, nothing of theirs is lost."""
    first = {"size": 10, "alerts": 12, "bytes": {"embedded": 2.0, "pg": 3.0}, "load_s": {"pg": 5.0},
             "layers": {"query": {"cone 1°": {"embedded": {"p50": 1.0}, "pg": {"p50": 2.0}}},
                        "http": {"cone 1°": {"embedded": {"p50": 3.0}, "pg": {"p50": 4.0}}}}}
    hbase = {"size": 10, "alerts": 12, "bytes": {"hbase": 1.5}, "load_s": {"hbase": 9.0},
             "layers": {"query": {"cone 1°": {"hbase": {"p50": 7.0}}, "xmatch": {"hbase": {"p50": 8.0}}},
                        "http": {"cone 1°": {"hbase": {"p50": 6.0}}}}}
    merge_size(first, hbase)
    assert first["bytes"] == {"embedded": 2.0, "pg": 3.0, "hbase": 1.5}
    assert first["load_s"] == {"pg": 5.0, "hbase": 9.0}
    assert first["layers"]["query"]["cone 1°"] == {"embedded": {"p50": 1.0}, "pg": {"p50": 2.0}, "hbase": {"p50": 7.0}}
    assert first["layers"]["query"]["xmatch"] == {"hbase": {"p50": 8.0}}
    assert first["layers"]["http"]["cone 1°"] == {"embedded": {"p50": 3.0}, "pg": {"p50": 4.0}, "hbase": {"p50": 6.0}}


def test_the_local_hbase_status_line_is_read_with_or_without_its_thrift2_server():
    """``hbase_schema/local/hbase status`` names a Thrift 2 server since it starts one: the
    benchmark's parser (which read no status at all once it did) takes both forms."""
    from pathlib import Path

    from bench.peers.hbase import parse_status
    on = ("running: master pid 11 (zookeeper 127.0.0.1:2181), thrift pid 12 (127.0.0.1:9090), "
          "thrift2 pid 13 (127.0.0.1:9091), data /tmp/hb, logs /x/logs")
    off = ("running: master pid 11 (zookeeper 127.0.0.1:2182), thrift pid 12 (127.0.0.1:9095), "
           "thrift2 off, data /tmp/hb2, logs /x/logs")
    older = "running: master pid 11 (zookeeper 127.0.0.1:2181), thrift pid 12 (127.0.0.1:9090), data /tmp/hb, logs /x"
    assert parse_status(on) == (2181, 9090, 9091, Path("/tmp/hb"))
    assert parse_status(off) == (2182, 9095, 0, Path("/tmp/hb2"))
    assert parse_status(older) == (2181, 9090, 0, Path("/tmp/hb"))
    assert parse_status("not running") is None
    assert parse_status("half running: master pid 11, thrift pid none, thrift2 pid none") is None


def test_the_running_local_hbase_status_is_parsed_with_its_ports():
    """The line ``hbase status`` prints for the HBase the suite runs on (run_tests.sh starts it
    from this checkout): the benchmark reads its Thrift and Thrift 2 ports and data folder."""
    import subprocess

    from bench.peers.hbase import SCRIPT, parse_status
    from conftest import ROOT, hbase_address, hbase_reachable, hbase_thrift2_port, need
    need(hbase_reachable(), "no HBase Thrift server (run_tests.sh starts one)")
    proc = subprocess.run([str(SCRIPT), "status"], capture_output=True, text=True, cwd=ROOT)
    need(proc.returncode == 0, f"the HBase reachable was not started by this checkout's script: {proc.stdout!r}")
    zk, thrift, thrift2, data = parse_status(proc.stdout)
    assert thrift == hbase_address()[1] and thrift2 == hbase_thrift2_port() and zk > 0
    assert (data / "hbase").is_dir() or data.is_dir()
