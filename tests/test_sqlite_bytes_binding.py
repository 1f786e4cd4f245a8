"""The embedded store binds ``bytes`` through an adapter found at once (``bytes`` itself), not
through ``sqlite3``'s search that fails and clears an AttributeError a value
(``store.sqlite_file.bind_bytes_as_they_are``, issue 19): what is stored is unchanged."""
import sqlite3

from conftest import make_config
from hbase_schema import get_schema
from store import open_store
from store.sqlite_file import bind_bytes_as_they_are

ODD = bytes(range(256)) + b"\x00\xff\xfe" * 100  # NULs, bytes no UTF-8 decodes


def test_opening_a_store_registers_bytes_as_their_own_adapter(tmp_path, monkeypatch):
    monkeypatch.delitem(sqlite3.adapters, (bytes, sqlite3.PrepareProtocol), raising=False)
    with open_store(make_config("embedded", tmp_path), create=True, schema=get_schema("rubin")):
        pass
    assert sqlite3.adapters[(bytes, sqlite3.PrepareProtocol)] is bytes


def test_values_bind_with_their_types_and_bytes_come_back_unchanged():
    bind_bytes_as_they_are()
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (k BLOB PRIMARY KEY, b BLOB, i, f, s) WITHOUT ROWID")
    db.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                   [(b"key1", ODD, 7, 2.5, "text"), (b"key0", b"", -1, 0.0, "")])
    got = db.execute("SELECT k, b, typeof(k), typeof(b), typeof(i), typeof(f), typeof(s) FROM t ORDER BY k").fetchall()
    assert got == [(b"key0", b"", "blob", "blob", "integer", "real", "text"),
                   (b"key1", ODD, "blob", "blob", "integer", "real", "text")]
    assert db.execute("SELECT b FROM t WHERE k = ?", (b"key1",)).fetchone()[0] == ODD  # keys compare as bytes


def test_the_store_round_trips_blob_cells(tmp_path):
    with open_store(make_config("embedded", tmp_path), create=True, schema=get_schema("rubin")) as store:
        objects = store.table("objects")
        objects.put("1", {"r:diaObjectId": 1, "r:ra": 10.5})
        objects.put("2", {"r:diaObjectId": 2, "r:ra": 20.25})
        got = objects.read(keys=["1", "2"], columns=["r:ra", "r:diaObjectId"])
        assert [(cells["r:diaObjectId"], cells["r:ra"]) for _, cells in got.rows()] == [(1, 10.5), (2, 20.25)]
