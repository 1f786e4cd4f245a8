"""Query frames: float32 as published, exact candids with gaps, g - r from nearest detections."""
import math

import pytest

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


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    """The embedded store (the backend with its own column-wise reader) of the real night."""
    from conftest import make_config, shared_data
    from ingest.night import ingest
    from store import open_store
    cfg = make_config("embedded", tmp_path_factory.mktemp("frame"))
    ingest(shared_data() / "ztf-night-2023-10-18", cfg, show_progress=False)
    ingest(shared_data() / "fink-enriched", cfg, show_progress=False)
    with open_store(cfg) as s:
        yield s


def test_column_wise_frames_equal_row_wise_ones_on_the_real_night(real_store):
    """latests, time windows and cones build their frames column-wise (full_frame); the
    result is the frame the row dicts give, on real alerts with their gaps."""
    import pandas.testing as pdt

    from api.queries.listing import full_frame, full_rows
    for table in ("jd", "class", "pixel"):
        light = [cells for _, cells in real_store.table(table).scan(limit=400)]
        assert len(light) == 400
        keep = ("i:jd",) if table == "pixel" else ()
        pdt.assert_frame_equal(full_frame(real_store, light, keep), to_frame(full_rows(real_store, light, keep)),
                               check_exact=True)


def test_objects_frame_read_column_wise_equals_the_row_dicts(real_store):
    """objects() reads each object column-wise; the frame is the one its alerts' row dicts give."""
    import pandas.testing as pdt

    from api.queries.objects import alert_rows, objects
    oids = sorted({c["i:objectId"] for _, c in real_store.table("main").scan(columns=["i:objectId"])})[:60]
    assert len(oids) == 60
    for oid in oids:
        rows = [dict(cells, **{"d:tag": "valid"}) for cells in alert_rows(real_store, oid)]
        want = to_frame(rows).sort_values("i:jd", kind="stable").reset_index(drop=True)
        pdt.assert_frame_equal(objects(real_store, [oid]), want, check_exact=True)
