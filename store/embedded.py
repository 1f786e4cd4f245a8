"""The embedded backend: SQLite (standard library) in WAL mode, in one file on local disk.

Each schema table is one SQLite table ``(k BLOB PRIMARY KEY, f_<family> BLOB, ...)
WITHOUT ROWID``: rows are clustered by key, so a prefix or range scan reads contiguous
pages, and each column family is its own blob (see :mod:`store.codec`), so a scan of the
``i`` family never reads the cutouts in ``b``. A records table (``store.records``: rows of a
few KB) is a rowid table with its key indexed instead, so its rows stay on their pages. WAL
mode lets any number of reader processes (gunicorn workers) read while the one writer (the
nightly ingest) writes.

A put into an existing row merges cell by cell, as HBase does, through an SQL function
that runs only on key conflicts; new rows cost one ``INSERT``.

The database file (its place, mode, connections and pragmas) is :mod:`store.sqlite_file`'s;
the SQL statements of the reads are :mod:`store.sqlite_reads`'.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from itertools import chain, groupby
from pathlib import Path

from hbase_schema import Schema, TableSpec

import numpy as np

from .base import Store, Table, _spans
from .batch import ColumnBatch
from .blobfile import BlobFile, is_ref
from .codec import pack_cells
from .embedded_batch import RunBatch
from .family_blobs import blobs_batch, kept_rows
from .errors import DataDirError, StoreError, TableMissing
from .sqlite_file import BLOB_DIR, DB_FILE, check_path, connect, disk_bytes, write_error
from .sqlite_reads import key_statements, range_statements


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class EmbeddedTable(Table):
    batch_class = RunBatch  # rows given in bulk kept as SQLite's arguments
    def __init__(self, store: "EmbeddedStore", spec: TableSpec):
        super().__init__(store, spec)
        self.sql_name = _q(self.name)
        self.fcols = {f: _q("f_" + f) for f in self.layout.family_names}
        self._upserts: dict[tuple, str] = {}
        for codec in self.layout.codecs.values():  # zstd with a shipped dictionary, where there is one
            codec.use_compression(store.schema.survey, spec.logical)
        self._inflating = [f for f, c in self.layout.codecs.items() if c.inflates]
        # families of bytes only (cutouts): their blobs go to the store's blob file, the row
        # holds a reference (store/blobfile.py); None for the encoder-only store (no files)
        self.external = frozenset(f for f, fam in spec.families.items()
                                  if fam.open_type is None and fam.columns
                                  and all(c.type == "bytes" for c in fam.columns.values())) \
            if store.blobs is not None else frozenset()

    # -- the read primitive ----------------------------------------------------------------
    def _read(self, keys, ranges, wanted, limit, reverse, on_batch, batch_size):
        families = [f for f in self.layout.family_names if not wanted or f in wanted]  # None, {}: all
        keys_only = wanted == {}
        named = not keys_only and wanted is not None and any(n is not None for n in wanted.values())
        parts = [[] for _ in range(1 if keys_only else 1 + len(families))]  # keys, then blobs per family
        fcols = [self.fcols[f] for f in families]
        if keys is not None:
            found = {}
            for sql, chunk in key_statements(self.sql_name, fcols, keys_only, keys):
                found.update((row[0], row) for row in self._fetch(sql, chunk))
            rows = [found[k] for k in keys if k in found]
            for j, column in enumerate(zip(*rows) if rows else ()):
                parts[j] = list(column)
            if not keys_only:
                self._inflate(parts, families)
        else:
            # a limit counts the rows kept: SQL can apply it unless single columns filter rows out
            sql_limit = limit if not named else None
            for sql, args in range_statements(self.sql_name, fcols, keys_only, ranges, reverse, sql_limit):
                if self._fill(parts, sql, args, families, named, wanted, limit, on_batch, batch_size):
                    break
        if keys_only:  # (each range's statement has the whole limit: the rows past it are cut here)
            return ColumnBatch(parts[0] if limit is None else parts[0][:limit], {})
        return blobs_batch(self.layout, parts[0], families, wanted, parts[1:], limit)

    def keys_in(self, ranges) -> list[str]:
        """Each statement's keys as one string from SQLite (``group_concat``, split on newlines
        here), not a row tuple and a bytes object a key: about a third of the time for the tens
        of thousands of history keys a Rubin unit checks (issue 19). When the pieces do not
        count the rows (a key holding a newline) or a key is no UTF-8: read row by row."""
        spans = _spans(ranges)
        if not spans:
            return []
        fcols = [self.fcols[f] for f in self.layout.family_names]
        keys: list = []
        try:
            for sql, args in range_statements(self.sql_name, fcols, True, spans, False, None):
                (count, text), = self._fetch(f"SELECT count(*), group_concat(k, char(10)) FROM ({sql})", args)
                got = text.split("\n") if count else []
                if len(got) != count:
                    return super().keys_in(spans)
                keys += got
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc):
                raise
            return super().keys_in(spans)
        return keys

    def _fetch(self, sql: str, args):
        cursor = self.store._execute(self, sql, args)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    def _fill(self, parts, sql, args, families, named, wanted, limit, on_batch, batch_size) -> bool:
        """Append the rows of ``sql`` to ``parts`` (keys, then blobs per family of ``families``,
        packed; bytes only: keeping the row tuples alive would make the GC walk them). With
        ``named`` (single columns asked, so a row may hold none of them) and a ``limit``, rows
        are kept as they come until the limit; return whether it was reached."""
        cursor = self.store._execute(self, sql, args)
        size = batch_size if limit is None else max(64, min(batch_size, limit))
        try:
            while batch := cursor.fetchmany(size):
                columns = list(zip(*batch))
                if len(columns) > 1:
                    self._inflate(columns, families)
                if named and limit is not None:
                    kept = kept_rows(self.layout.codecs, columns[1:], families, wanted)
                    if kept is not None:
                        columns = [[c[i] for i in kept] for c in columns]
                for part, column in zip(parts, columns):
                    part.extend(column)
                if on_batch is not None:
                    on_batch()
                if limit is not None and len(parts[0]) >= limit:
                    return True
        finally:
            cursor.close()
        return False

    def _inflate(self, parts: list, families: list) -> None:
        """Compressed blobs of ``parts`` (keys, then blobs per family) decompressed in place,
        once, as they are read, and references to the blob file replaced by the bytes they
        name: every decoder downstream sees packed blobs."""
        if self._inflating or self.external:
            for j, family in enumerate(families, start=1):
                if family in self._inflating:
                    parts[j] = self.layout.codecs[family].inflate(parts[j])
                elif family in self.external:
                    parts[j] = self.store.blobs.resolve_all(parts[j])

    # -- writes --------------------------------------------------------------------------
    def _upsert_sql(self, families: tuple) -> str:
        sql = self._upserts.get(families)
        if sql is None:
            cols = ", ".join(self.fcols[f] for f in families)
            table = "'" + self.name.replace("'", "''") + "'"  # a literal: one value less to bind a row
            sets = ", ".join(
                f"{self.fcols[f]} = nocturne_merge({table}, '{f}', {self.fcols[f]}, excluded.{self.fcols[f]})"
                for f in families)
            marks = ", ".join("?" * (len(families) + 1))
            sql = (f"INSERT INTO {self.sql_name} (k, {cols}) VALUES ({marks}) "
                   f"ON CONFLICT(k) DO UPDATE SET {sets}")
            self._upserts[families] = sql
        return sql

    def encode_family(self, family, qualifiers, values):
        return (family,), (pack_cells(qualifiers, values),)  # (the codec's open blob)

    def _prepare(self, data, groups):
        codecs = self.layout.codecs
        return tuple(f for f, _, _ in groups), tuple([codecs[f].encode(data, mask) for f, _, mask in groups])

    def _check_columns(self, columns, n):
        per_family: dict = {}
        for name, column in columns.items():
            per_family.setdefault(name.partition(":")[0], {})[name] = column
        bad = np.zeros(n, dtype=bool)
        for family, cols in per_family.items():
            bad |= self.layout.codecs[family].check_columns(cols, n)
        if not bad.any():
            return {}
        return super()._prepare_columns(columns, n, np.flatnonzero(bad).tolist())[1]

    def _prepare_columns(self, columns, n, rows=None):
        if rows is not None:
            return super()._prepare_columns(columns, n, rows)
        per_family: dict = {}
        for name, column in columns.items():
            per_family.setdefault(name.partition(":")[0], {})[name] = column
        families = [f for f in self.layout.family_names if f in per_family]
        codecs = self.layout.codecs
        blobs, bad = [], np.zeros(n, dtype=bool)
        for family in families:
            family_blobs, family_bad = codecs[family].encode_columns(per_family[family], n)
            blobs.append(family_blobs)
            bad |= family_bad
        if len(families) == 1:
            only = (families[0],)
            payloads = [(only, (b,)) if b is not None else ((), ()) for b in blobs[0]]  # (tuples: ~30 % less to pickle than lists)
        else:
            payloads = []
            for row in zip(*blobs):
                kept = [(f, b) for f, b in zip(families, row) if b is not None]
                payloads.append((tuple(f for f, _ in kept), tuple([b for _, b in kept])))
        errors: dict = {}
        if bad.any():  # rows the column-wise path left: encoded (or refused) one by one
            slow = np.flatnonzero(bad).tolist()
            redone, errors = super()._prepare_columns(columns, n, slow)
            for i in slow:
                payloads[i] = redone[i]
        return payloads, errors

    def apply(self, ops):
        try:
            self._apply_in_txn(ops)
        except sqlite3.Error as exc:
            raise self.store._write_error(exc) from None
        except OSError as exc:  # appending to the blob file (the transaction was rolled back)
            raise self.store._write_error(sqlite3.OperationalError(
                f"{'database or disk is full' if exc.errno == 28 else 'cannot append'}: "
                f"{self.store.blobs.folder}: {exc.strerror}")) from None

    def _apply_in_txn(self, ops):
        """``ops`` in order, in one transaction: each run of puts of the same families is one
        ``executemany``, its rows ``(key, *blobs)`` made by one comprehension or given so
        (``("rows", families, rows)``: :class:`store.embedded_batch.RunBatch`); a Rubin night
        sends millions of rows: a Python loop over them was a fifth of the writer (issue 19)."""
        with self.store._write() as db:
            if self.external:
                ops = self._externalised(ops)
            shapes = [(op, payload[0]) if op == "put" else (op, key) if op == "rows" else None
                      for op, key, payload in ops]
            start = 0
            for shape, run in groupby(shapes):
                chunk = ops[start:start + len(list(run))]
                start += len(chunk)
                if shape is None:  # deletes, one by one
                    for _, key, wanted in chunk:
                        self._delete(db, key, wanted)
                elif not shape[1]:  # a put of no cell writes nothing
                    continue
                elif shape[0] == "rows":
                    db.executemany(self._upsert_sql(shape[1]), chain.from_iterable(rows for _, _, rows in chunk))
                else:
                    db.executemany(self._upsert_sql(shape[1]), [(key, *payload[1]) for _, key, payload in chunk])

    def _externalised(self, ops: list) -> list:
        """``ops`` with the blobs of bytes-only families appended to the blob file (flushed to
        disk before the transaction that stores their references commits) and replaced by
        their references."""
        spots, blobs = [], []
        for i, (op, _, payload) in enumerate(ops):
            if op == "put" and payload[0]:
                for j, family in enumerate(payload[0]):
                    if family in self.external and not is_ref(payload[1][j]):
                        spots.append((i, j))
                        blobs.append(payload[1][j])
        if not blobs:
            return ops
        ops = list(ops)
        for (i, j), ref in zip(spots, self.store.blobs.append_all(blobs)):
            op, key, (families, row) = ops[i]
            row = list(row)
            row[j] = ref
            ops[i] = (op, key, (families, row))
        return ops

    def _delete(self, db, key: bytes, wanted) -> None:
        if wanted is None:
            db.execute(f"DELETE FROM {self.sql_name} WHERE k = ?", (key,))
            return
        families = list(self.layout.family_names)
        row = db.execute(f"SELECT {', '.join(self.fcols[f] for f in families)} FROM {self.sql_name} WHERE k = ?",
                         (key,)).fetchone()
        if row is None:
            return
        blobs = dict(zip(families, row))
        for family in self.external:
            if is_ref(blobs[family]):
                blobs[family] = self.store.blobs.read(blobs[family])
        for family, names in wanted.items():
            if blobs[family] is None:
                continue
            if names is None:
                blobs[family] = None
                continue
            codec = self.layout.codecs[family]
            cells = {k: v for k, v in codec.decode(blobs[family]).items() if k not in names}
            blobs[family] = codec.encode(cells, codec.mask_of(cells)) if cells else None
        if all(b is None for b in blobs.values()):
            db.execute(f"DELETE FROM {self.sql_name} WHERE k = ?", (key,))
        else:
            sets = ", ".join(f"{self.fcols[f]} = ?" for f in families)
            db.execute(f"UPDATE {self.sql_name} SET {sets} WHERE k = ?", (*blobs.values(), key))


class _WriteTxn:
    def __init__(self, store: "EmbeddedStore"):
        self.store = store

    def __enter__(self):
        self.db = self.store._conn()
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")


class _translated:
    """Turn sqlite3 errors raised inside the block into StoreErrors that say what to do."""

    def __init__(self, store: "EmbeddedStore"):
        self.store = store

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, sqlite3.Error):
            raise self.store._write_error(exc) from None
        return False


class EmbeddedStore(Store):
    """Tables in one SQLite database file under ``data_dir``."""

    backend = "embedded"

    def __init__(self, schema: Schema, prefix: str, data_dir: Path, create: bool = False):
        super().__init__(schema, prefix)
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_FILE
        self._local = threading.local()
        self._families = {}
        self.blobs = BlobFile(self.data_dir / BLOB_DIR)
        if create and not self.data_dir.exists():
            try:
                self.data_dir.mkdir(parents=True)
            except OSError as exc:
                raise DataDirError(f"cannot create data directory {self.data_dir}: {exc.strerror}") from None
        check_path(self.data_dir, create)

    @classmethod
    def encoder(cls, schema: Schema, prefix: str) -> "EmbeddedStore":
        """A store whose tables only encode rows: no directory, no file, no connection."""
        store = cls.__new__(cls)
        Store.__init__(store, schema, prefix)
        store._local, store._families, store.blobs = threading.local(), {}, None
        return store

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None or getattr(self._local, "pid", None) != os.getpid():
            db = connect(self.path)
            db.create_function("nocturne_merge", 4, self._merge, deterministic=True)
            self._local.db, self._local.pid = db, os.getpid()
        return db

    def _merge(self, table: str, family: str, old, new):
        codec = self._families.get((table, family))
        if codec is None:
            spec = next(t for t in self.schema.tables.values() if t.physical_name(self.prefix) == table)
            codec = self._families[(table, family)] = self.table(spec.logical).layout.codecs[family]
        if is_ref(old) or is_ref(new):  # cells in the blob file: a new value holding every cell
            if old is None or new is None:  # of the old one is the merge (a rerun: the same cells)
                return new if old is None else old
            old_blob, new_blob = self.blobs.read(old) if is_ref(old) else old, self.blobs.read(new) if is_ref(new) else new
            if old_blob is None or new_blob is None:
                return new if new_blob is not None else old
            old_cells, new_cells = codec.decode(old_blob), codec.decode(new_blob)
            if old_cells.keys() <= new_cells.keys():
                return new
            merged = {**old_cells, **new_cells}  # rare: kept inline (packed), readers take both
            return codec.encode(merged, codec.mask_of(merged))
        return codec.merge(old, new)

    def _execute(self, table: Table, sql: str, args):
        try:
            return self._conn().execute(sql, args)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise TableMissing(f"table {table.name} does not exist in {self.path}; "
                                   f"create it with `python -m hbase_schema create`") from None
            raise StoreError(f"embedded store {self.path}: {exc}") from exc

    def _write(self) -> _WriteTxn:
        return _WriteTxn(self)

    def _write_error(self, exc: sqlite3.Error) -> StoreError:
        return write_error(self.path, exc)

    def _open_table(self, spec: TableSpec) -> EmbeddedTable:
        return EmbeddedTable(self, spec)

    def existing_tables(self) -> list[str]:
        names = {r[0] for r in self._conn().execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return [t for t, s in self.schema.tables.items() if s.physical_name(self.prefix) in names]

    def create_tables(self) -> list[str]:
        existing = set(self.existing_tables())
        made = []
        with _translated(self), self._write() as db:
            for logical, spec in self.schema.tables.items():
                if logical in existing:
                    continue
                cols = ", ".join(f"{_q('f_' + f)} BLOB" for f in spec.families)
                # a records table's rows are blocks of a few KB: in a rowid table they stay on
                # their page (a WITHOUT ROWID table moves what a row holds beyond ~1 KB to an
                # overflow page of its own, mostly empty: 52 % of Rubin's fp file was)
                clustered = "" if spec.records is not None else " WITHOUT ROWID"
                db.execute(f"CREATE TABLE {_q(spec.physical_name(self.prefix))} "
                           f"(k BLOB PRIMARY KEY NOT NULL, {cols}){clustered}")
                made.append(logical)
        return made

    def drop_tables(self) -> list[str]:
        dropped = self.existing_tables()
        with self._write() as db:
            for logical in dropped:
                db.execute(f"DROP TABLE {_q(self.schema.table(logical).physical_name(self.prefix))}")
        self._tables.clear()
        return dropped

    def size_bytes(self) -> int:
        """Bytes on disk: the database file plus its WAL, and the blob file."""
        return disk_bytes(self.data_dir)

    def checkpoint(self) -> None:
        """Fold the WAL into the database file (e.g. after a night's ingest)."""
        with _translated(self):
            self._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
        if self.blobs is not None:
            self.blobs.close()
