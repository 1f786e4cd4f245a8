"""A store created now has 16 KB pages (``store.sqlite_file.Pragmas.page_bytes``); a store
created with SQLite's 4 KB pages keeps them, opens, reads and takes writes as before."""
import sqlite3

from conftest import make_config
from hbase_schema import get_schema
from store import open_store
from store.sqlite_file import DB_FILE, Pragmas


def _page_size(cfg) -> int:
    db = sqlite3.connect(cfg.data_dir / DB_FILE)
    try:
        return db.execute("PRAGMA page_size").fetchone()[0]
    finally:
        db.close()


def test_a_new_store_has_16_kb_pages_in_wal_mode(tmp_path):
    cfg = make_config("embedded", tmp_path)
    with open_store(cfg, create=True, schema=get_schema("rubin")) as store:
        store.table("objects").put("1", {"r:diaObjectId": 1, "r:ra": 10.0})
        assert store._conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert Pragmas.page_bytes == 16384
    assert _page_size(cfg) == 16384


def test_a_store_with_4_kb_pages_keeps_them_and_works(tmp_path, monkeypatch):
    cfg = make_config("embedded", tmp_path)
    monkeypatch.setattr(Pragmas, "page_bytes", 4096)
    with open_store(cfg, create=True, schema=get_schema("rubin")) as store:
        store.table("objects").put("1", {"r:diaObjectId": 1, "r:ra": 10.0})
    assert _page_size(cfg) == 4096
    monkeypatch.undo()  # the code's own setting from here on
    with open_store(cfg, schema=get_schema("rubin")) as store:
        objects = store.table("objects")
        objects.put("2", {"r:diaObjectId": 2, "r:ra": 20.0})
        got = objects.read(keys=["1", "2"], columns=["r:ra"])
        assert [cells["r:ra"] for _, cells in got.rows()] == [10.0, 20.0]
    assert _page_size(cfg) == 4096
