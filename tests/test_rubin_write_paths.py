"""The Rubin writer's fast paths store the bytes the plain path stores (issue 19).

The writer's runs of puts go to SQLite as one ``executemany`` per run of the same families
(``EmbeddedTable._apply_in_txn``), units come back from the workers pickled
(``ingest.prepare.run_unit``) and a history row list with no key sent before goes as it is
(``RubinWriter._fresh``). Here a night is ingested twice, once through all of them (two
workers, the survey's batches) and once through none (in this process, a batch of one row:
one put a transaction), and the database files hold the same keys and the same bytes."""
from __future__ import annotations

import pytest

from conftest import make_config, need, raw_tables, shared_data
from hbase_schema import get_schema
from ingest.night import ingest
from ingest.rubin.write import RubinWriter
from rubin_inputs import rubin_dir
from rubin_sim import simulate

RUBIN = get_schema("rubin")


def _same_bytes_either_way(source, tmp_path):
    fast, plain = make_config("embedded", tmp_path / "fast"), make_config("embedded", tmp_path / "plain")
    a = ingest(source, fast, workers=2, show_progress=False, survey="rubin")
    b = ingest(source, plain, workers=1, batch_size=1, show_progress=False, survey="rubin")
    assert a.alerts == b.alerts > 0
    got, want = raw_tables(fast.data_dir), raw_tables(plain.data_dir)
    assert sum(len(rows) for rows in want.values()) > 10 * a.alerts  # the history rows are there
    assert got.keys() == want.keys()
    for name in want:
        assert got[name] == want[name], name


def test_real_alerts_store_the_same_bytes_through_the_fast_paths(tmp_path):
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    _same_bytes_either_way(rubin_dir(), tmp_path)


def test_a_simulated_first_night_stores_the_same_bytes_through_the_fast_paths(tmp_path):
    sim = simulate(tmp_path / "sim", "--nights", "1", "--alerts-per-night", "300", "--seed", "11", "--no-cutouts")
    _same_bytes_either_way(sim / "parquet", tmp_path)


def test_a_batch_of_mixed_puts_and_deletes_applies_in_order(tmp_path):
    """Runs of puts of one families' set, broken by puts of another set and by deletes (of
    rows, of cells), land as the same ops one at a time would leave them."""
    from store import open_store
    ops = [("put", "a", {"i:ra": 1.0}), ("put", "b", {"i:ra": 2.0}), ("put", "a", {"i:dec": 3.0}),
           ("put", "c", {"i:ra": 4.0, "d:cdsxmatch": "x"}), ("delete", "a", None), ("put", "a", {"i:dec": 5.0}),
           ("put", "b", {"d:cdsxmatch": "y"}), ("delete", "b", ["i:ra"]), ("put", "d", {"i:ra": 6.0}),
           ("put", "c", {"d:cdsxmatch": "z"}), ("put", "e", {})]

    def stored(name, size):
        with open_store(make_config("embedded", tmp_path / name), create=True) as store:
            t = store.table("main")
            with t.batch(size) as b:
                for op, key, arg in ops:
                    b.put(key, arg) if op == "put" else b.delete(key, arg)
            return dict(t.scan())

    together, one_by_one = stored("together", 100), stored("one", 1)
    assert together == one_by_one == {"a": {"i:dec": 5.0}, "b": {"d:cdsxmatch": "y"},
                                      "c": {"i:ra": 4.0, "d:cdsxmatch": "z"}, "d": {"i:ra": 6.0}}


@pytest.mark.parametrize("held", [set(), {"k2"}])
def test_fresh_rows_are_the_first_of_each_key_not_sent_nor_held(tmp_path, held):
    w = RubinWriter(None, None, tmp_path / "q", tmp_path / "r", dry_run=True)
    new = [("k1", 1), ("k2", 2), ("k3", 3)]
    assert w._fresh("sources", new, set()) is new  # none sent before: the list itself, no copy
    again = [("k4", 4), ("k1", 1), ("k2", 2), ("k5", 5), ("k4", 44), ("k6", 6)]
    assert w._fresh("sources", again, held) == [("k4", 4), ("k5", 5), ("k6", 6)]
    assert w._fresh("sources", [("k7", 7), ("k7", 77)], held) == [("k7", 7)]  # repeats within a list
    assert w._fresh("sources", [("k8", 8), ("k9", 9)], {"k9"}) == [("k8", 8)]  # held: confirmed in the store


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_rows_given_in_bulk_keep_their_order_with_single_puts_and_deletes(tmp_path, size):
    """RunBatch: a bulk call of one families' set is one op, split at ``batch_size`` rows;
    a call mixing sets goes a row an op; both apply in order with puts and deletes."""
    from store import open_store
    steps = [("many", [("a", {"r:ra": 1.0}), ("b", {"r:ra": 2.0}), ("c", {"r:ra": 3.0}), ("d", {"r:ra": 4.0})]),
             ("one", [("a", {"f:xm_simbad_otype": "x"})]),
             ("many", [("a", {"r:dec": 5.0}), ("e", {"r:ra": 6.0})]),
             ("delete", [("b", None)]),
             ("many", [("b", {"r:dec": 7.0}), ("f", {"f:xm_simbad_otype": "y"}), ("c", {"r:ra": 8.0, "f:xm_simbad_otype": "z"})]),
             ("delete", [("d", ["r:ra"])]),
             ("many", [("d", {"r:dec": 9.0}), ("a", {"r:ra": 10.0})])]

    def stored(name, bulk):
        with open_store(make_config("embedded", tmp_path / name), create=True, schema=RUBIN) as store:
            t = store.table("sources")
            with t.batch(size if bulk else 1) as b:
                for kind, rows in steps:
                    if kind == "delete":
                        for key, columns in rows:
                            b.delete(key, columns)
                    elif kind == "many" and bulk:
                        b.put_encoded_many([(k, t.encode(cells)) for k, cells in rows])
                    else:
                        for key, cells in rows:
                            b.put(key, cells)
            return dict(t.scan())

    assert stored("bulk", True) == stored("plain", False) == {
        "a": {"r:ra": 10.0, "r:dec": 5.0, "f:xm_simbad_otype": "x"}, "b": {"r:dec": 7.0},
        "c": {"r:ra": 8.0, "f:xm_simbad_otype": "z"}, "d": {"r:dec": 9.0}, "e": {"r:ra": 6.0}, "f": {"f:xm_simbad_otype": "y"}}


def test_a_bulk_call_counts_its_rows_for_the_batch_size(tmp_path):
    from store import open_store
    with open_store(make_config("embedded", tmp_path), create=True, schema=RUBIN) as store:
        t = store.table("sources")
        sent = []
        apply = t.apply
        kinds = set()
        t.apply = lambda ops: kinds.update(o[0] for o in ops) or sent.append(
            sum(len(o[2]) if o[0] == "rows" else 1 for o in ops)) or apply(ops)
        with t.batch(4) as b:
            b.put_encoded("x", t.encode({"r:ra": 0.0}))
            b.put_encoded_many([(f"k{i}", t.encode({"r:ra": float(i)})) for i in range(9)])
            assert sent == [4, 4]
            b.put_encoded("y", t.encode({"r:ra": 1.0}))
        assert sent == [4, 4, 3]
        assert len(list(t.scan())) == 11 and kinds == {"put", "rows"}
