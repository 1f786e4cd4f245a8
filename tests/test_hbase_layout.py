"""The HBase layouts (store/hbase_layout.py): per cell and packed, side by side.

The store contract (tests/test_store_contract.py and test_store_contract_ranges.py) runs on
the default HBase store, which a new store makes ``packed``; here it runs again on a store
made ``cells`` (its tests are collected
into this module, where ``store`` is a per-cell HBase store). Then: what each layout writes to
HBase, that a store made before the packed layout existed (no record in ``meta``) is still
read and written one cell a column, and that puts into existing rows merge cell by cell in a
packed table as they do on the embedded store.
"""
import inspect
import math
import uuid

import pytest

import test_store_contract as contract
import test_store_contract_ranges as contract_ranges
from conftest import _truncate, backend_config
from settings import Config, ConfigError
from store import META_ROW, encoder_store, open_store
from store.column_types import encode_cell
from store.hbase_layout import PACKABLE, RECORD

# the contract's tests that take the `store` fixture, run here on the per-cell store below
for _name, _test in [*inspect.getmembers(contract, inspect.isfunction),
                     *inspect.getmembers(contract_ranges, inspect.isfunction)]:
    if _name.startswith("test_") and "store" in inspect.signature(_test).parameters:
        globals()[_name] = _test


@pytest.fixture(scope="module")
def cells_store(tmp_path_factory):
    with backend_config("hbase", tmp_path_factory.mktemp("cells")) as cfg:
        with open_store(cfg.replace(hbase_layout="cells"), create=True) as s:
            yield s


@pytest.fixture(params=["hbase-cells"])
def store(request, cells_store):
    """A per-cell HBase store, emptied (overrides conftest's for the contract's tests here)."""
    _truncate(cells_store)
    yield cells_store


def raw_row(store, logical: str, key: str) -> dict:
    """The HBase cells of one row, as Thrift returns them."""
    with store._connection() as conn:
        return conn.table(store.table(logical).bname).row(key.encode())


ALERT = {"i:objectId": "ZTF23abcdefg", "i:candid": 2400000000015015000, "i:jd": 2460000.5,
         "i:ra": 12.5, "i:dec": -3.25, "i:magpsf": 18.25, "i:fid": 1, "i:isdiffpos": "t",
         "d:cdsxmatch": "Unknown", "d:rf_snia_vs_nonia": 0.125}


@pytest.fixture(scope="module", params=["packed", "cells"])
def layout_store(request, tmp_path_factory):
    with backend_config("hbase", tmp_path_factory.mktemp(request.param)) as cfg:
        with open_store(cfg.replace(hbase_layout=request.param), create=True) as s:
            yield request.param, s


def test_the_layout_is_recorded_at_create_and_decides_the_cells(layout_store):
    layout, s = layout_store
    recorded = s.table("meta").row(META_ROW)[RECORD]
    main = s.table("main")
    main.put("k", ALERT)
    cells = raw_row(s, "main", "k")
    if layout == "packed":
        assert sorted(recorded) == sorted(PACKABLE["ztf"])
        assert sorted(cells) == [b"d:", b"i:"]  # one cell a family
        for t in ("annotations", "users", "tokens", "statistics", "meta"):
            assert s.table(t).pack is None, t  # written by several writers at once, or read first
    else:
        assert recorded == []
        assert sorted(cells) == sorted(k.encode() for k in ALERT)
        assert cells[b"i:ra"] == encode_cell("float64", 12.5)  # big-endian, as the HBase shell reads it
    assert main.row("k") == ALERT


def test_a_store_made_before_the_packed_layout_stays_one_cell_a_column(tmp_path):
    with backend_config("hbase", tmp_path) as cfg:
        with open_store(cfg.replace(hbase_layout="cells"), create=True) as old:
            main = old.table("main")
            main.put("a", ALERT)  # as the code before the packed layout wrote it (one cell a column)
            old.table("meta").delete(META_ROW, [RECORD])  # and without the record it did not have
            before = raw_row(old, "main", "a")
        with open_store(cfg.replace(hbase_layout="packed")) as s:  # today's default configuration
            main = s.table("main")
            assert main.pack is None
            assert main.row("a") == ALERT
            assert main.read(keys=["a"], columns=["i:ra", "d"]).rows() == [
                ("a", {"i:ra": 12.5, "d:cdsxmatch": "Unknown", "d:rf_snia_vs_nonia": 0.125})]
            main.put("a", {"i:magpsf": 17.5})
            assert raw_row(s, "main", "a") == {**before, b"i:magpsf": encode_cell("float32", 17.5)}
            # an ingest worker configured "packed" encodes blobs: the writer stores them per cell
            enc = encoder_store(cfg.replace(hbase_layout="packed")).table("main")
            with main.batch() as b:
                b.put_encoded("b", enc.encode(ALERT))
            assert raw_row(s, "main", "b") == before
            assert main.row("b") == ALERT


def _updates(store, cfg) -> dict:
    """The merge cases of HBase's put on one table, returned as the rows they leave."""
    t = store.table("main")
    t.put("r1", ALERT)
    t.put("r1", {"i:ra": 99.5, "i:ndethist": 4, "d:roid": 3})  # overwrites one cell, adds two
    t.put("r2", {"i:objectId": "ZTF2", "i:magpsf": float("nan")})
    with t.batch() as b:  # several puts into one row in one batch, a cell delete, a delete then a put
        b.put("r2", {"i:jd": 2460001.5})
        b.put("r2", {"i:jd": 2460002.5, "d:cdsxmatch": "Star"})
        b.delete("r1", ["i:dec", "d:cdsxmatch"])
        b.put("r3", ALERT)
        b.delete("r3")
        b.put("r3", {"i:fid": 2})
        b.put("r4", {"d:cdsxmatch": "x"})
        b.delete("r4", ["d"])  # its only cells: the row is gone
    enc = encoder_store(cfg).table("main")
    with t.batch() as b:  # a put encoded by an ingest worker merges the same way
        b.put_encoded("r2", enc.encode({"i:fid": 1, "i:jd": 2460003.5}))
    rows = {k: {c: "NaN" if isinstance(v, float) and math.isnan(v) else v for c, v in cells.items()}
            for k, cells in t.scan()}
    rows["projection"] = t.read(ranges=[(None, None)], columns=["i:ndethist", "d:cdsxmatch"]).rows()
    rows["limited"] = t.read(ranges=[(None, None)], columns=["d:cdsxmatch"], limit=1).rows()  # r1 has d, not it
    return rows


def test_puts_into_existing_rows_merge_as_on_the_embedded_store(tmp_path):
    with backend_config("embedded", tmp_path / "e") as ecfg, open_store(ecfg, create=True) as e:
        expected = _updates(e, ecfg)
    assert expected["r1"]["i:ra"] == 99.5 and "i:dec" not in expected["r1"] and expected["r1"]["i:magpsf"] == 18.25
    assert expected["r3"] == {"i:fid": 2} and "r4" not in expected
    assert expected["limited"] == [("r2", {"d:cdsxmatch": "Star"})]
    with backend_config("hbase", tmp_path / "h") as hcfg, open_store(hcfg, create=True) as h:
        assert h.table("main").pack is not None
        assert _updates(h, hcfg) == expected


def test_an_hbase_layout_is_packed_or_cells():
    assert Config().hbase_layout == "packed"
    assert Config().replace(hbase_layout=" Cells ").hbase_layout == "cells"
    with pytest.raises(ConfigError, match="hbase_layout.*'rows' is not an HBase layout"):
        Config().replace(hbase_layout="rows")


def test_an_ingest_worker_encodes_for_the_configured_layout_without_connecting():
    cfg = Config().replace(backend="hbase", table_prefix="nowhere" + uuid.uuid4().hex[:6], hbase_port=1)
    packed = encoder_store(cfg).table("main").encode(ALERT)
    cells = encoder_store(cfg.replace(hbase_layout="cells")).table("main").encode(ALERT)
    assert sorted(packed) == [b"d:", b"i:"]
    assert sorted(cells) == sorted(k.encode() for k in ALERT)


def test_packed_merges_and_deletes_give_the_embedded_store_s_rows_without_a_server(tmp_path):
    """``PackedTable.resolve`` on its own (runs where HBase does not): the same mutations applied
    to an in-memory copy of HBase's cells leave the rows the embedded store keeps."""
    from store.base import _key

    batches = [
        [("put", "r1", ALERT)],
        [("put", "r1", {"i:ra": 99.5, "i:ndethist": 4, "d:roid": 3}), ("put", "r2", {"i:magpsf": float("nan")})],
        [("put", "r2", {"i:jd": 2460001.5}), ("put", "r2", {"i:jd": 2460002.5, "d:cdsxmatch": "Star"}),
         ("delete", "r1", ["i:dec", "d:cdsxmatch"]), ("put", "r3", ALERT), ("delete", "r3", None),
         ("put", "r3", {"i:fid": 2}), ("put", "r4", {"d:cdsxmatch": "x"}), ("delete", "r4", ["d"])],
    ]
    with backend_config("embedded", tmp_path) as cfg, open_store(cfg, create=True) as e:
        main = e.table("main")
        for ops in batches:
            with main.batch() as b:
                for op, key, arg in ops:
                    b.put(key, arg) if op == "put" else b.delete(key, arg)
        expected = [(k, {c: "NaN" if v != v else v for c, v in cells.items()}) for k, cells in main.scan()]
    table = encoder_store(cfg.replace(backend="hbase", hbase_layout="packed")).table("main")
    pack, cells = table.pack, {}  # cells: row key -> its family cells, as HBase would hold them
    for ops in batches:
        encoded = [(op, _key(k), table.encode(a) if op == "put" else table.layout.projection(a)) for op, k, a in ops]
        for op, key, arg in pack.resolve(encoded, {k: dict(v) for k, v in cells.items()}):
            row = cells.setdefault(key, {})
            if op == "put":
                row.update(arg)
            elif arg is None:
                row.clear()
            else:
                for c in arg:
                    row.pop(c, None)
    found = pack.batch(sorted((k, v) for k, v in cells.items() if v), None).rows()
    assert [(k, {c: "NaN" if v != v else v for c, v in row.items()}) for k, row in found] == expected
    assert [k for k, _ in expected] == ["r1", "r2", "r3"]
    assert expected[0][1]["i:ra"] == 99.5 and "i:dec" not in expected[0][1]


STAMPS = {"b:cutoutScience_stampData": b"\x1f\x8bscience", "b:cutoutTemplate_stampData": b"\x1f\x8btemplate",
          "b:cutoutDifference_stampData": b"\x1f\x8bdifference"}


def test_a_merge_reads_only_the_families_a_partial_put_or_a_cell_delete_needs():
    """``PackedTable.to_read`` (no server): a put holding every column of its family replaces
    the stored cell, so it is not read; the cutouts are never read for a put that does not
    carry them; after a delete of the whole row nothing stored matters."""
    cfg = Config().replace(backend="hbase", table_prefix="nowhere" + uuid.uuid4().hex[:6], hbase_port=1)
    table = encoder_store(cfg).table("main")
    pack = table.pack
    partial = table.encode(ALERT)  # i and d, not every column of either
    stamps = table.encode(STAMPS)  # b: its three columns
    assert pack.is_whole(b"b:", stamps[b"b:"]) and not pack.is_whole(b"i:", partial[b"i:"])
    ops = [("put", b"a", partial),
           ("put", b"b", stamps),
           ("put", b"c", {**stamps, **partial}),
           ("delete", b"d", None), ("put", b"d", partial),
           ("delete", b"e", {"d": {"d:cdsxmatch"}}), ("put", b"e", stamps),
           ("put", b"f", stamps), ("delete", b"f", {"b": None}), ("put", b"f", partial),
           ("put", b"g", stamps), ("put", b"g", {**stamps, **partial})]
    assert pack.to_read(ops) == {b"a": {b"i:", b"d:"}, b"c": {b"i:", b"d:"}, b"e": {b"d:"},
                                 b"f": {b"i:", b"d:"}, b"g": {b"i:", b"d:"}}


def test_a_rerun_into_a_packed_store_equals_the_first_run_and_a_partial_put_still_merges(tmp_path, monkeypatch):
    import happybase

    asked = []
    rows = happybase.Table.rows
    monkeypatch.setattr(happybase.Table, "rows",
                        lambda self, keys, columns=None, **kw: asked.append(columns) or rows(self, keys, columns, **kw))
    with backend_config("hbase", tmp_path) as cfg, open_store(cfg, create=True) as s:
        main = s.table("main")
        assert main.pack is not None
        enc = encoder_store(cfg).table("main")
        alerts = {f"k{i}": {**ALERT, "i:magpsf": 18.0 + i, **STAMPS} for i in range(5)}

        def ingest():
            with main.batch() as b:
                for key, cells in alerts.items():
                    b.put_encoded(key, enc.encode(cells))
            return {k: (v, raw_row(s, "main", k)) for k, v in main.scan()}

        first = ingest()
        assert [v for v, _ in first.values()] == list(alerts.values())
        asked.clear()
        assert ingest() == first  # a rerun: the same rows, the same cells
        assert asked and all(b"b" not in (c or []) for c in asked)  # the stamps: never read to merge
        main.put("k1", {"i:magpsf": 17.5})  # a partial put still merges into the stored family
        assert main.row("k1") == {**alerts["k1"], "i:magpsf": 17.5}
        new_stamps = {k: v + b"2" for k, v in STAMPS.items()}
        main.put("k2", new_stamps)  # a whole family replaces the stored one, the rest stays
        assert main.row("k2") == {**alerts["k2"], **new_stamps}


def test_a_packed_read_of_some_columns_leaves_out_the_rows_without_them_as_embedded_does(tmp_path):
    """``PackedTable.batch`` with columns asked (no server): rows of several shapes (which
    columns their family blobs hold), read with several column sets one after another, keep the
    rows the embedded store keeps; the answer per shape is remembered within one read only."""
    rows = [("r1", {"i:ra": 1.5, "i:dec": 2.5}), ("r2", {"i:ra": 3.5}), ("r3", {"i:ndethist": 4}),
            ("r4", {"i:dec": 5.5, "d:roid": 1}), ("r5", {"d:roid": 2}), ("r6", {"i:ra": 6.5, "i:ndethist": 7})]
    with backend_config("embedded", tmp_path) as cfg, open_store(cfg, create=True) as e:
        with e.table("main").batch() as b:
            for key, data in rows:
                b.put(key, data)
        table = encoder_store(cfg.replace(backend="hbase", hbase_layout="packed")).table("main")
        stored = [(key.encode(), table.encode(data)) for key, data in rows]
        for columns in (["i:ra"], ["i:dec"], ["i:ndethist", "d:roid"], ["i:ra", "i:dec"], ["d:roid"], ["i"]):
            wanted = table.layout.projection(columns)
            got = table.pack.batch(_served(stored, wanted), wanted).rows()
            assert got == e.table("main").read(keys=[k for k, _ in rows], columns=columns).rows(), columns
    wanted = table.layout.projection(["i:dec"])
    assert [k for k, _ in table.pack.batch(_served(stored, wanted), wanted).rows()] == ["r1", "r4"]


def _served(stored, wanted):
    """What HBase returns of ``stored`` rows for a scan of ``wanted``'s families: their cells,
    the rows that have one."""
    cells = [(k, {c: v for c, v in row.items() if c.split(b":")[0].decode() in wanted}) for k, row in stored]
    return [(k, row) for k, row in cells if row]
