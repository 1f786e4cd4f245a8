"""How Nocturne creates its HBase tables: each family compressed and kept in HBase's block
cache, but cutouts (gzipped already, read one at a time). Thrift's column descriptor leaves
the block cache off unless asked, and without it every read decompressed its blocks from disk
(1,000 random reads of main rows: ~610 ms instead of ~40 on the local HBase at 200 k rows);
a store whose tables were made so is named in a warning when opened."""
import logging

from conftest import backend_config
from store import hbase as hbase_store
from store import open_store


def _families(store, logical: str) -> dict:
    with store._connection() as conn:
        return conn.table(store.table(logical).bname).families()


def test_every_family_but_cutouts_is_compressed_and_cached(tmp_path, caplog):
    with backend_config("hbase", tmp_path) as cfg:
        with open_store(cfg, create=True) as s:
            for logical, spec in s.schema.tables.items():
                found = _families(s, logical)
                for name, fam in spec.families.items():
                    got = found[name.encode()]
                    raw = fam.compression == "none"
                    assert got["block_cache_enabled"] is (not raw), (logical, name)
                    assert got["compression"] == (b"NONE" if raw else b"GZ"), (logical, name)
            assert _families(s, "main")[b"b"]["block_cache_enabled"] is False  # the cutouts
            assert s.uncached_families("main") == []
            with s._connection() as conn:
                conn.delete_table(s.table("tns").bname, disable=True)
            assert s.uncached_families("tns") == []  # a table that does not exist: nothing to name
        with caplog.at_level(logging.WARNING, logger="store.hbase"), open_store(cfg):
            pass
        assert "block cache" not in caplog.text


def test_a_store_made_without_the_block_cache_is_named_in_a_warning(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(hbase_store, "_WARNED", set())
    with backend_config("hbase", tmp_path) as cfg:
        with open_store(cfg, create=True) as s:
            main = s.table("main").bname
            with s._connection() as conn:  # main as an older Nocturne created it: no block cache
                conn.delete_table(main, disable=True)
                conn.create_table(main, {f: dict(max_versions=1, bloom_filter_type="ROW") for f in ("i", "d", "b")})
        with caplog.at_level(logging.WARNING, logger="store.hbase"), open_store(cfg) as s:
            name = main.decode()
            assert s.uncached_families("main") == [f"{name}:i", f"{name}:d"]
            assert s.table("main").row("nothing") == {}  # the store works as before
        assert f"block cache is off for {name}:i, {name}:d" in caplog.text
        assert f"alter '{name}', {{NAME => 'i', BLOCKCACHE => 'true'}}" in caplog.text
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="store.hbase"), open_store(cfg):
            pass
        assert "block cache" not in caplog.text  # once a process
