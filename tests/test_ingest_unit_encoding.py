"""The ZTF workers encode a unit's rows table by table, column-wise (ingest.unit_encoding):
every payload is the bytes ``Table.encode`` gives that row alone, and an alert with a value out
of its column's type is refused with the reason the row-by-row encoding gives, its neighbours
kept. Real packets: a ZTF night, and packets with forced photometry (fp_hists)."""
import pytest

from conftest import make_config, shared_data
from ingest.prepare import Preparer
from ingest.readers import packets_of
from ingest.rows import FORCED, SKY
from ingest.unit_encoding import dict_columns
from store.column_types import ColumnValueError
from store.sky import pixels

BACKENDS = ["embedded", "hbase"]


def _files():
    data = shared_data()
    return sorted((data / "ztf-night-2023-10-18").glob("*.avro"))[:120] + \
        sorted((data / "ztf-fp-hists").rglob("*.avro"))


def _built(preparer, files):
    """Each valid packet's rows and pixel, as the worker builds them before encoding."""
    rows = []
    for packet in packets_of(files):
        if packet.record is None or preparer._check(packet)[0]:
            continue
        rows.append(preparer.builder.build(packet.record, packet.typed))
    pix = pixels([r.ra for r in rows], [r.dec for r in rows], preparer.order).tolist()
    return rows, pix


def _one_by_one(preparer, rows, pixel):
    """What the row-by-row encoding gave: (writes, upper, badquality, forced, sky payload) or
    the reason of the first row refused, in its order (main, indexes, sky, lists)."""
    t = preparer.tables
    try:
        writes = [("main", rows.main[0], t["main"].encode(rows.main[1]))]
        writes += [(table, key, t[table].encode(cells))
                   for table, (key, cells) in preparer.builder.index_rows(rows, pixel).items()]
        sky = preparer.builder.sky_row(rows, pixel)
        sky = None if sky is None else (sky[0], sky[1], t[SKY].encode(sky[2]), sky[3])
        lists = [[(k, t[table].encode(c)) for k, c in pairs]
                 for table, pairs in (("upper", rows.upper), ("uppervalid", rows.badquality), (FORCED, rows.forced))]
    except ColumnValueError as exc:
        return f"value out of type: {exc}"
    return (writes, *lists, sky)


def _as_tuple(alert):
    return (alert.writes, alert.upper, alert.badquality, alert.forced, alert.sky)


@pytest.mark.parametrize("backend", BACKENDS)  # encoders only: no server needed
def test_every_payload_of_real_packets_is_the_bytes_of_its_row_alone(tmp_path, backend):
    preparer = Preparer(make_config(backend, tmp_path))
    rows, pix = _built(preparer, _files())
    assert len(rows) >= 100
    encoded = preparer.encoder.encode(rows, pix)
    counts = {"upper": 0, "badquality": 0, "forced": 0, "sky": 0}
    for r, p, (alert, reason) in zip(rows, pix, encoded):
        assert reason is None
        assert _as_tuple(alert) == _one_by_one(preparer, r, p), r.candid
        assert (alert.night, alert.object_id, alert.candid, alert.fid, alert.classification) == \
            (alert.night, r.object_id, r.candid, r.fid, r.classification)
        counts["upper"] += len(alert.upper)
        counts["badquality"] += len(alert.badquality)
        counts["forced"] += len(alert.forced)
        counts["sky"] += alert.sky is not None
    assert counts["upper"] > 500 and counts["badquality"] > 0 and counts["forced"] >= 100 and counts["sky"] == len(rows)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_value_out_of_type_refuses_its_alert_with_the_row_by_row_reason(tmp_path, backend):
    preparer = Preparer(make_config(backend, tmp_path))
    rows, pix = _built(preparer, _files())
    with_upper = [i for i, r in enumerate(rows) if r.upper]
    with_forced = [i for i, r in enumerate(rows) if r.forced]
    a, b, c, d = 0, with_upper[1], with_forced[0], 5
    rows[a].main[1]["i:magpsf"] = "bright"              # text in a float32 column
    rows[b].upper[-1][1]["i:diffmaglim"] = 1e300        # beyond float32
    rows[c].forced[0][1]["i:field"] = 2 ** 40           # beyond int32
    rows[d].main[1]["i:magpsf"] = float("nan")          # a NaN is a value: stored
    rows[d].upper.append((rows[d].upper[0][0] if rows[d].upper else "x", {"i:objectId": rows[d].object_id}))
    encoded = preparer.encoder.encode(rows, pix)
    for i, (r, p, (alert, reason)) in enumerate(zip(rows, pix, encoded)):
        want = _one_by_one(preparer, r, p)
        if i in (a, b, c):
            assert alert is None and isinstance(want, str) and reason == want, i
        else:
            assert reason is None and _as_tuple(alert) == want, i
    assert "magpsf" in encoded[a][1] and "diffmaglim" in encoded[b][1] and "field" in encoded[c][1]


def test_dict_columns_takes_rows_of_different_shapes():
    rows = [{"i:a": 1.5, "i:b": "x"}, {"i:b": None, "i:c": 3}, {"i:a": 2, "i:c": None}]
    cols = dict_columns(rows, {"i:a": "float64", "i:b": "string", "i:c": "int32"})
    assert list(cols) == ["i:a", "i:b", "i:c"]
    assert cols["i:a"][0].tolist() == [1.5, 0.0, 2.0] and cols["i:a"][1].tolist() == [True, False, True]
    assert cols["i:b"][0] == ["x", None, None] and cols["i:b"][1].tolist() == [True, False, False]
    assert cols["i:c"][0].tolist() == [0, 3, 0] and cols["i:c"][1].tolist() == [False, True, False]
    same = dict_columns([{"i:a": 1, "i:b": "y"}, {"i:b": "z", "i:a": True}], {"i:a": "int64", "i:b": "string"})
    assert same["i:a"][0].tolist() == [1, 1] and list(same["i:b"][0]) == ["y", "z"]
    assert same["i:b"][1].all()
    mixed = dict_columns([{"i:a": 1.0}, {"i:a": "1.0"}], {"i:a": "float64"})
    assert not hasattr(mixed["i:a"][0], "dtype") and list(mixed["i:a"][0]) == [1.0, "1.0"]  # left to the row-by-row path
