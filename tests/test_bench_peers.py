"""The benchmark's PostgreSQL peer answers with the frames Nocturne's queries give (so
that rendering costs the same on both sides); checked without a PostgreSQL server."""
import pandas.testing as pdt

from api.queries.frame import to_frame
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
