"""Query frames: float32 as published, exact candids with gaps, g - r from nearest detections."""
import math

from api.queries.frame import to_frame


def test_float32_rounded_ints_exact_and_columns_in_schema_order():
    rows = [{"i:magpsf": 19.520000457763672, "i:candid": 2481242665515015008, "i:objectId": "A", "i:jd": 2460000.5,
             "i:fid": 1},
            {"i:magpsf": 18.1, "i:objectId": "A", "i:jd": 2460000.6, "i:fid": 2}]
    df = to_frame(rows)
    assert df["i:magpsf"].tolist() == [19.52, 18.1]
    assert df["i:candid"].tolist()[0] == 2481242665515015008
    assert list(df.columns)[:5] == ["i:objectId", "i:jd", "i:fid", "i:candid", "i:magpsf"]


def test_g_minus_r_uses_the_nearest_detections_within_a_day():
    rows = [{"i:objectId": "A", "i:jd": 10.0, "i:fid": 1, "i:magpsf": 18.0},
            {"i:objectId": "A", "i:jd": 10.3, "i:fid": 2, "i:magpsf": 17.5},
            {"i:objectId": "A", "i:jd": 20.0, "i:fid": 1, "i:magpsf": 19.0},
            {"i:objectId": "B", "i:jd": 10.0, "i:fid": 1, "i:magpsf": 15.0}]
    gr = to_frame(rows)["v:g-r"].tolist()
    assert gr[0] == 0.5 and gr[1] == 0.5
    assert math.isnan(gr[2])  # no r detection within a day of jd 20
    assert math.isnan(gr[3])  # object B has no r detection
