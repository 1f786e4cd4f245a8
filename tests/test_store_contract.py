"""The store contract: the semantics every backend must honour, run on each of them.

Test ids name the backend ([embedded], [hbase]). The main table is used throughout: its
``i`` family has typed ZTF columns, ``d`` the added values, ``b`` the cutouts.
"""
import math

import pytest


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


def test_batch_sends_every_batch_size_and_at_exit(store):
    t = store.table("main")
    with t.batch(batch_size=3) as b:
        for i in range(4):
            b.put(f"r{i}", {"i:ndethist": i})
        assert keys(t.scan()) == ["r0", "r1", "r2"]  # first three sent, fourth buffered
    assert keys(t.scan()) == ["r0", "r1", "r2", "r3"]


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


def test_rows_and_prefix_scans_read_column_wise_as_row_wise(store):
    from store.base import pivot
    t = store.table("main")
    cells = [  # three shapes: every row lacks something another has
        {"i:objectId": "A", "i:jd": 2460236.6632523, "i:candid": 2**62 + 1, "i:magpsf": 18.25, "i:fid": 1,
         "d:from_upper": True, "d:cdsxmatch": "RRLyr", "d:lc_features_g": {"a": [1, 2]}},
        {"i:objectId": "A", "i:jd": 2460237.5, "i:magpsf": float("nan"), "i:fid": 2, "d:mulens": 0.5},
        {"i:objectId": "A", "i:jd": 2460238.5, "i:candid": 7, "i:magpsf": 19.5, "i:fid": 2,
         "d:cdsxmatch": "Unknown"},
    ]
    with t.batch() as b:
        for i, c in enumerate(cells):
            b.put(f"A_{i}", c)
        b.put("B_0", {"i:objectId": "B", "i:jd": 1.0})
    for columns in (["i", "d"], None):
        want = t.rows(["A_2", "missing", "A_0", "A_1"], columns=columns)
        keys_got, got = t.rows_columns(["A_2", "missing", "A_0", "A_1"], columns=columns)
        assert keys_got == ["A_2", "A_0", "A_1"]
        _same_columns(got, pivot([c for _, c in want]))
        keys_got, got = t.scan_columns("A_", columns=columns)
        assert keys_got == ["A_0", "A_1", "A_2"]
        _same_columns(got, pivot([c for _, c in t.scan(row_prefix="A_", columns=columns)]))
    assert t.rows_columns(["missing"]) == ([], {})
    assert t.scan_columns("C_") == ([], {})


def test_range_scans_read_column_wise_as_value_scans(store):
    t = store.table("main")
    with t.batch() as b:
        for i in range(30):
            cells = {"i:objectId": f"O{i % 4}", "i:jd": 2460000.5 + i, "i:fid": 1 + i % 2}
            if i % 3:
                cells["i:magpsf"] = 18.0 + i / 4
            if i % 7 == 0:
                cells = {"i:rb": 0.5}  # a row with none of the columns asked: skipped by both
            b.put(f"k{i:03d}", cells)
    names = ["i:objectId", "i:jd", "i:magpsf", "i:candid"]
    for ranges in ([("k000", "k005"), ("k010", "k020")],
                   [(f"k{i:03d}", f"k{i + 2:03d}") for i in range(0, 30, 3)]):  # few ranges and many
        want = list(t.scan_values_ranges(names, ranges))
        calls = []
        keys, got = t.scan_ranges_columns(names, ranges, batch_size=4, on_batch=lambda: calls.append(1))
        assert keys == [k for k, _ in want] and len(keys) > 8
        assert set(got) == set(names)
        _same_columns(got, {n: [v[i] for _, v in want] for i, n in enumerate(names)})
        assert len(calls) >= len(keys) // 4
        no_keys, same = t.scan_ranges_columns(names, ranges, keys=False)
        assert no_keys is None
        _same_columns(same, {n: [v[i] for _, v in want] for i, n in enumerate(names)})
