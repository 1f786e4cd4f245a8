"""The store contract: the semantics every backend must honour, run on each of them.

Test ids name the backend ([embedded], [hbase]). The main table is used throughout: its
``i`` family has typed ZTF columns, ``d`` the added values, ``b`` the cutouts.
"""
import math

import pytest

from conftest import BACKENDS, backend_config
from store import open_store
from store.errors import StoreError


def keys(rows):
    return [k for k, _ in rows]


def fill(table, names, **extra):
    with table.batch() as b:
        for i, name in enumerate(names):
            b.put(name, {"i:objectId": name, "i:ndethist": i, **extra})


def test_empty_table_reads_nothing(store):
    t = store.table("main")
    assert list(t.scan()) == []
    assert list(t.scan(row_prefix="ZTF", reverse=True, limit=3)) == []
    assert t.row("ZTF23aaaaaaa_2460000.0000000") == {}
    assert t.rows(["a", "b"]) == []
    assert t.count() == 0


def test_scan_orders_keys_as_utf8_bytes(store):
    names = ["b", "a_", "ab", "a", "Z", "é", "a0", "~", "a%"]
    fill(store.table("main"), names)
    got = keys(store.table("main").scan())
    assert got == sorted(names, key=lambda s: s.encode("utf-8"))
    assert got[0] == "Z" and got[-1] == "é"


def test_range_start_inclusive_stop_exclusive(store):
    fill(store.table("main"), ["k1", "k2", "k3", "k4"])
    t = store.table("main")
    assert keys(t.scan(row_start="k2", row_stop="k4")) == ["k2", "k3"]
    assert keys(t.scan(row_start="k2")) == ["k2", "k3", "k4"]
    assert keys(t.scan(row_stop="k2")) == ["k1"]
    assert keys(t.scan(row_start="k3", row_stop="k3")) == []
    assert keys(t.scan(row_start="k4", row_stop="k1")) == []


def test_prefix_scan_matches_only_the_prefix(store):
    t = store.table("pixel")
    kb = t.keys
    rows = [kb.build(12, 2460000.5, "ZTF1", 1), kb.build(123, 2460000.5, "ZTF2", 2),
            kb.build(12, 2460001.5, "ZTF3", 3), kb.build(1200, 2460000.5, "ZTF4", 4)]
    with t.batch() as b:
        for r in rows:
            b.put(r, {"i:objectId": kb.parse(r)["objectId"]})
    got = [c["i:objectId"] for _, c in t.scan(row_prefix=kb.prefix(12))]
    assert got == ["ZTF1", "ZTF3"]
    assert keys(t.scan(row_prefix="zzz")) == []


def test_string_key_parts_are_escaped_so_prefixes_never_collide(store):
    t = store.table("class")
    kb = t.keys
    with t.batch() as b:
        b.put(kb.build("SN", 2460000.5, "ZTF1", 1), {"i:objectId": "ZTF1"})
        b.put(kb.build("SN_candidate", 2460000.5, "ZTF2", 2), {"i:objectId": "ZTF2"})
        b.put(kb.build("SN candidate", 2460000.5, "ZTF3", 3), {"i:objectId": "ZTF3"})
    assert [c["i:objectId"] for _, c in t.scan(row_prefix=kb.prefix("SN"))] == ["ZTF1"]
    assert [c["i:objectId"] for _, c in t.scan(row_prefix=kb.prefix("SN_candidate"))] == ["ZTF2"]
    key = kb.build("SN_candidate", 2460000.5, "ZTF2", 2)
    assert kb.parse(key) == {"classification": "SN_candidate", "jd": 2460000.5, "objectId": "ZTF2", "candid": 2}


def test_reverse_scan_walks_the_same_range_backwards(store):
    fill(store.table("main"), ["a1", "a2", "a3", "a4", "b1"])
    t = store.table("main")
    assert keys(t.scan(reverse=True)) == ["b1", "a4", "a3", "a2", "a1"]
    assert keys(t.scan(reverse=True, limit=2)) == ["b1", "a4"]
    assert keys(t.scan(row_prefix="a", reverse=True, limit=3)) == ["a4", "a3", "a2"]
    assert keys(t.scan(row_start="a2", row_stop="a4", reverse=True)) == ["a3", "a2"]
    assert keys(t.scan(row_start="a2", reverse=True)) == ["b1", "a4", "a3", "a2"]


def test_limit_counts_returned_rows(store):
    fill(store.table("main"), [f"r{i:02d}" for i in range(30)])
    t = store.table("main")
    assert keys(t.scan(limit=5)) == [f"r{i:02d}" for i in range(5)]
    assert len(list(t.scan(limit=100))) == 30
    with pytest.raises(ValueError, match="limit"):
        list(t.scan(limit=0))


def test_projection_by_family_and_by_qualifier(store):
    t = store.table("main")
    t.put("r1", {"i:ra": 10.5, "i:dec": -5.25, "d:cdsxmatch": "RRLyr", "b:cutoutScience_stampData": b"\x1f\x8b"})
    t.put("r2", {"i:ra": 11.0})
    assert t.row("r1", columns=["d"]) == {"d:cdsxmatch": "RRLyr"}
    assert t.row("r1", columns=["i:dec"]) == {"i:dec": -5.25}
    assert t.row("r1", columns=["i:ra", "b"]) == {"i:ra": 10.5, "b:cutoutScience_stampData": b"\x1f\x8b"}
    assert set(t.row("r1")) == {"i:ra", "i:dec", "d:cdsxmatch", "b:cutoutScience_stampData"}
    # a row holding none of the selected cells is not returned
    assert keys(t.scan(columns=["d"])) == ["r1"]
    assert keys(t.scan(columns=["i:dec"])) == ["r1"]
    assert keys(t.scan(columns=["i:ra"])) == ["r1", "r2"]
    assert t.row("r2", columns=["d"]) == {}


def test_unknown_columns_are_refused_by_name(store):
    t = store.table("main")
    with pytest.raises(ValueError, match="i:nosuch"):
        t.put("r1", {"i:nosuch": 1})
    with pytest.raises(ValueError, match="x:ra"):
        list(t.scan(columns=["x:ra"]))
    with pytest.raises(ValueError, match="i:magpsf"):
        t.put("r1", {"i:magpsf": "bright"})
    assert list(t.scan()) == []


def test_put_overwrites_a_cell_and_keeps_the_others(store):
    t = store.table("main")
    t.put("r1", {"i:ra": 1.0, "i:dec": 2.0, "d:cdsxmatch": "Star"})
    t.put("r1", {"i:ra": 3.0})
    t.put("r1", {"d:roid": 3})
    assert t.row("r1") == {"i:ra": 3.0, "i:dec": 2.0, "d:cdsxmatch": "Star", "d:roid": 3}


def test_delete_row_and_delete_cells(store):
    t = store.table("main")
    t.put("r1", {"i:ra": 1.0, "i:dec": 2.0, "d:cdsxmatch": "Star"})
    t.put("r2", {"i:ra": 5.0})
    t.delete("r1", columns=["i:ra"])
    assert t.row("r1") == {"i:dec": 2.0, "d:cdsxmatch": "Star"}
    t.delete("r1", columns=["d"])
    assert t.row("r1") == {"i:dec": 2.0}
    t.delete("r2")
    assert t.row("r2") == {}
    t.delete("r1", columns=["i:dec"])
    assert keys(t.scan()) == []
    t.delete("never-there")  # deleting a missing row is not an error


def test_a_batch_applies_each_rows_deletes_and_puts_in_their_order(store):
    """A row replaced in a batch (delete, then put: a later night's newer diaObject) holds
    only the new cells; a put before a delete is gone, one after it stays; other rows between
    them do not change that, whatever calls the backend groups them into."""
    t = store.table("main")
    with t.batch(batch_size=500) as b:
        for i in range(20):
            b.put(f"r{i:02d}", {"i:ra": float(i), "i:dec": -1.0, "d:cdsxmatch": "Star"})
    with t.batch(batch_size=500) as b:
        for i in range(20):
            b.delete(f"r{i:02d}")
            b.put(f"r{i:02d}", {"i:ra": 100.0 + i})
        b.put("x", {"i:ra": 1.0})
        b.delete("x")
        b.put("y", {"i:ra": 1.0})
        b.delete("y", columns=["i:ra"])
        b.put("y", {"i:dec": 2.0})
    assert {k: v for k, v in t.scan()} == {**{f"r{i:02d}": {"i:ra": 100.0 + i} for i in range(20)},
                                          "y": {"i:dec": 2.0}}


def test_batch_sends_every_batch_size_and_at_exit(store):
    t = store.table("main")
    with t.batch(batch_size=3) as b:
        for i in range(4):
            b.put(f"r{i}", {"i:ndethist": i})
        # the first three are sent (HBase: maybe still on their way), the fourth is buffered
        assert set(keys(t.scan())) <= {"r0", "r1", "r2"}
        for i in range(4, 7):
            b.put(f"r{i}", {"i:ndethist": i})  # the second full buffer waits for the first to land
        assert keys(t.scan())[:3] == ["r0", "r1", "r2"]
        b.send()  # returns once everything of the batch is applied
        assert keys(t.scan()) == [f"r{i}" for i in range(7)]
        b.put("r7", {"i:ndethist": 7})
    assert keys(t.scan()) == [f"r{i}" for i in range(8)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_raises_the_error_of_a_send(backend, tmp_path):
    # (a store of its own: its tables are dropped under the batch, so every send fails)
    with backend_config(backend, tmp_path) as cfg, open_store(cfg, create=True) as s:
        t = s.table("main")
        s.drop_tables()
        with pytest.raises(StoreError):
            with t.batch(batch_size=2) as b:
                for i in range(5):
                    b.put(f"r{i}", {"i:ndethist": i})


def test_batch_that_raises_leaves_nothing_half_written(store):
    t = store.table("main")
    t.put("keep", {"i:ra": 1.0})
    with pytest.raises(RuntimeError):
        with t.batch(batch_size=100) as b:
            b.put("r1", {"i:ra": 2.0})
            b.delete("keep")
            b.put("r2", {"i:ra": 3.0})
            raise RuntimeError("ingest crashed")
    assert t.row("keep") == {"i:ra": 1.0}
    assert keys(t.scan()) == ["keep"]


def test_mutations_in_a_batch_apply_in_order(store):
    t = store.table("main")
    with t.batch() as b:
        b.put("r1", {"i:ra": 1.0})
        b.delete("r1")
        b.put("r1", {"i:dec": 2.0})
        b.put("r2", {"i:ra": 1.0})
        b.delete("r2", columns=["i:ra"])
    assert t.row("r1") == {"i:dec": 2.0}
    assert t.row("r2") == {}


def test_values_come_back_typed_per_schema(store):
    t = store.table("main")
    cells = {
        "i:jd": 2460236.6632523,        # float64 keeps every digit
        "i:magpsf": 18.25,              # float32 exactly representable
        "i:candid": 2**62 + 12345,      # int64
        "i:fid": 2,                     # int32
        "d:from_upper": True,           # bool
        "i:objectId": "ZTF23abcdefg",   # string
        "b:cutoutScience_stampData": bytes(range(256)),
        "d:lc_features_g": {"amplitude": 0.5, "names": ["a", "b"]},
    }
    t.put("r1", cells)
    got = t.row("r1")
    assert got == cells
    assert type(got["i:candid"]) is int and type(got["d:from_upper"]) is bool
    t.put("r2", {"i:magpsf": 19.1})
    assert t.row("r2")["i:magpsf"] == pytest.approx(19.1, abs=1e-6)  # float32 precision


def test_unicode_values_and_keys(store):
    t = store.table("main")
    text = "Ω Centauri – 超新星 🌟 naïve"
    t.put("clé_é", {"d:cdsxmatch": text, "i:objectId": "ZTF✓"})
    assert t.row("clé_é") == {"d:cdsxmatch": text, "i:objectId": "ZTF✓"}
    assert keys(t.scan(row_prefix="clé")) == ["clé_é"]


def test_none_stores_nothing_and_nan_round_trips(store):
    t = store.table("main")
    t.put("r1", {"i:ra": 1.0, "i:magpsf": float("nan"), "i:sigmapsf": None, "d:mulens": float("nan")})
    got = t.row("r1")
    assert set(got) == {"i:ra", "i:magpsf", "d:mulens"}
    assert math.isnan(got["i:magpsf"]) and math.isnan(got["d:mulens"])
    t.put("r1", {"i:ra": None})  # None never erases an existing cell
    assert t.row("r1")["i:ra"] == 1.0
    t.put("r2", {"i:ra": None})  # a put of only None creates no row
    assert t.row("r2") == {}


def test_rows_returns_existing_rows_in_the_order_asked(store):
    fill(store.table("main"), ["a", "b", "c"])
    got = store.table("main").rows(["c", "missing", "a"], columns=["i:objectId"])
    assert got == [("c", {"i:objectId": "c"}), ("a", {"i:objectId": "a"})]


def test_open_family_takes_any_qualifier_with_its_type(store):
    t = store.table("statistics")
    key = t.keys.build(store.prefix, "20231018")
    assert key == f"{store.prefix}_20231018"
    t.put(key, {"basic:raw": 561, "class:SN candidate": 3, "class:(SIMBAD) RRLyr": 12})
    t.put(key, {"class:Unknown": 7})
    assert t.row(key) == {"basic:raw": 561, "class:SN candidate": 3, "class:(SIMBAD) RRLyr": 12,
                          "class:Unknown": 7}
    assert t.row(key, columns=["class:Unknown"]) == {"class:Unknown": 7}
    with pytest.raises(ValueError, match="class:Unknown"):
        t.put(key, {"class:Unknown": "seven"})


def _same_columns(got: dict, want: dict) -> None:
    """Column-wise values equal to row-wise ones: None where a row lacks a cell, NaN
    standing in for it in a float array."""
    assert set(got) == set(want)
    for name, values in want.items():
        column = list(got[name])
        assert len(column) == len(values), name
        for a, b in zip(column, values):
            if b is None:
                assert a is None or (isinstance(a, float) and math.isnan(a)), (name, a)
            elif isinstance(b, float) and math.isnan(b):
                assert math.isnan(a), name
            else:
                assert a == b, (name, a, b)


def _clean(rows):
    """Row dicts with NaN made comparable."""
    return [(k, {n: "NaN" if isinstance(v, float) and math.isnan(v) else v for n, v in c.items()}) for k, c in rows]


SHAPES = {  # three shapes of the main table: every row lacks something another has
    "A_0": {"i:objectId": "A", "i:jd": 2460236.6632523, "i:candid": 2**62 + 1, "i:magpsf": 18.25, "i:fid": 1,
            "d:from_upper": True, "d:cdsxmatch": "RRLyr", "d:lc_features_g": {"a": [1, 2]}},
    "A_1": {"i:objectId": "A", "i:jd": 2460237.5, "i:magpsf": float("nan"), "i:fid": 2, "d:mulens": 0.5},
    "A_2": {"i:objectId": "A", "i:jd": 2460238.5, "i:candid": 7, "i:magpsf": 19.5, "i:fid": 2,
            "d:cdsxmatch": "Unknown"},
    "B_0": {"i:objectId": "B", "i:jd": 1.0},
}


def test_read_by_keys_and_by_range_column_wise(store):
    """The read primitive: rows by key (in the order asked, the missing left out) or over a
    range, column-wise, equal to the cells put; the dict view of the same batch equal too."""
    from store.base import pivot
    t = store.table("main")
    with t.batch() as b:
        for key, cells in SHAPES.items():
            b.put(key, cells)
    for columns in (["i", "d"], None, ["i:magpsf", "d:cdsxmatch", "d:mulens"], ["d"]):
        def cut(cells):
            if columns is None:
                return cells
            return {n: v for n, v in cells.items() if n.partition(":")[0] in columns or n in columns}

        asked = ["A_2", "missing", "A_0", "A_1", "B_0"]
        want = [(k, cut(SHAPES[k])) for k in asked if k in SHAPES and cut(SHAPES[k])]
        batch = t.read(keys=asked, columns=columns)
        assert batch.keys == [k for k, _ in want] and len(batch) == len(want)
        _same_columns(batch.columns, pivot([c for _, c in want]))
        assert _clean(batch.rows()) == _clean(want)
        assert _clean(t.rows(asked, columns=columns)) == _clean(want)
        batch = t.read(ranges=[t.keys.span("A")], columns=columns)
        want = [(k, cut(SHAPES[k])) for k in sorted(SHAPES) if k.startswith("A_") and cut(SHAPES[k])]
        assert batch.keys == [k for k, _ in want]
        _same_columns(batch.columns, pivot([c for _, c in want]))
        assert _clean(batch.rows()) == _clean(want)
    # a stored NaN is a cell, an absent float is none: the batch tells them apart
    rows = dict(t.read(keys=["A_1", "B_0"], columns=["i"]).rows())
    assert math.isnan(rows["A_1"]["i:magpsf"]) and "i:magpsf" not in rows["B_0"]
    assert t.read(keys=["missing"]).columns == {} and len(t.read(keys=["missing"])) == 0
    assert len(t.read(ranges=[("C_", "D_")])) == 0
    assert t.read(ranges=[(None, None)], columns=[]).keys == sorted(SHAPES)  # keys only
    assert t.read(keys=["B_0"], columns=["d"]).keys == []  # a row without a selected cell
    batch = t.read(keys=["A_0", "B_0"], columns=["i:candid", "i:jd"])
    assert batch["i:candid"][1] is None and batch["d:mulens"] == [None, None]


def test_read_refuses_what_it_cannot_do(store):
    t = store.table("main")
    with pytest.raises(TypeError, match="keys or ranges"):
        t.read()
    with pytest.raises(TypeError, match="keys or ranges"):
        t.read(keys=["a"], ranges=[("a", "b")])
    with pytest.raises(TypeError, match="range reads"):
        t.read(keys=["a"], limit=2)
    with pytest.raises(ValueError, match="one range"):
        t.read(ranges=[("a", "b"), ("c", "d")], reverse=True)
    with pytest.raises(ValueError, match="limit"):
        t.read(ranges=[("a", "b")], limit=0)
    with pytest.raises(ValueError, match="x:ra"):
        t.read(keys=["a"], columns=["x:ra"])
