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


def _stored_rows(store, table) -> list[tuple[str, dict]]:
    """Every row of ``table`` as stored, decoded blob by blob with the family codecs: the
    reference the read primitive is held to (it shares none of its code past the codec)."""
    import sqlite3
    families = table.layout.family_names
    db = sqlite3.connect(store.path)
    try:
        raw = db.execute(f"SELECT k, {', '.join(table.fcols[f] for f in families)} FROM {table.sql_name} "
                         f"ORDER BY k").fetchall()
    finally:
        db.close()
    out = []
    for k, *blobs in raw:
        cells = {}
        for family, blob in zip(families, blobs):
            if blob is not None:
                cells.update(table.layout.codecs[family].decode(_referenced(store, blob)))
        if cells:
            out.append((k.decode("utf-8"), cells))
    return out


def _referenced(store, blob: bytes) -> bytes:
    """The packed blob a row's reference names in the store's blob file (cutouts), read by
    hand: 0x03, segment uint32, offset uint64, length uint32, CRC-32 uint32, little-endian;
    any other blob as it is."""
    import struct
    import zlib
    if blob[:1] != b"\x03":
        return blob
    _, segment, offset, length, crc = struct.unpack("<BIQII", blob)
    with open(store.data_dir / "nocturne.blobs" / f"{segment:06d}.blob", "rb") as fh:
        fh.seek(offset)
        data = fh.read(length)
    assert zlib.crc32(data) == crc
    return data


def _comparable(rows):
    """Rows with NaN made comparable, each row's cells in their order (an open family's,
    e.g. the statistics' class counts, sorted: their order is the backend's)."""
    def cells(c):
        fixed = [n for n in c if not n.startswith("class:")]
        return [(n, "NaN" if isinstance(c[n], float) and math.isnan(c[n]) else c[n])
                for n in fixed + sorted(set(c) - set(fixed))]
    return [(k, cells(c)) for k, c in rows]


@pytest.mark.parametrize("name", ["main", "jd", "pixel", "class", "tns", "anomaly", "ssnamenr", "upper", "uppervalid", "statistics"])
def test_read_primitive_and_its_views_give_the_stored_rows_on_the_real_data(real_store, name):
    """The one read path (Table.read, column-wise) and the dict views built on it (rows,
    scan) give every stored cell, in each row's order, a NaN apart from a missing cell; the
    frames built from its columns equal those built from the row dicts."""
    import random

    import pandas.testing as pdt

    from api.queries.frame import columns_frame
    table = real_store.table(name)
    stored = _stored_rows(real_store, table)
    assert stored, name
    assert _comparable(table.read(ranges=[(None, None)]).rows()) == _comparable(stored)  # decoded row by row
    batch = table.read(ranges=[(None, None)])
    assert len(batch.columns) > 1  # decoded column by column first: rows() then comes from the columns
    assert _comparable(batch.rows()) == _comparable(stored)
    assert _comparable(table.scan(batch_size=97)) == _comparable(stored)
    picked = random.Random(18).sample(stored, min(300, len(stored)))
    asked = [k for k, _ in picked] + ["no-such-row"]
    assert _comparable(table.rows(asked)) == _comparable(picked)
    if name == "main":
        some = ["i:magpsf", "i:candid", "d:cdsxmatch", "d:rf_snia_vs_nonia", "b:cutoutScience_stampData"]
        want = [(k, {n: v for n, v in c.items() if n in some}) for k, c in stored]
        assert _comparable(table.read(ranges=[(None, None)], columns=some).rows()) == \
            _comparable([(k, c) for k, c in want if c])
        batch = table.read(keys=asked, columns=["i", "d"])
        light = [{n: v for n, v in c.items() if not n.startswith("b:")} for _, c in picked]
        pdt.assert_frame_equal(columns_frame(batch.columns), to_frame(light), check_exact=True)
