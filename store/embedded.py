"""The embedded backend: SQLite (standard library) in WAL mode, in one file on local disk.

Each schema table is one SQLite table ``(k BLOB PRIMARY KEY, f_<family> BLOB, ...)
WITHOUT ROWID``: rows are clustered by key, so a prefix or range scan reads contiguous
pages, and each column family is its own blob (see :mod:`store.codec`), so a scan of the
``i`` family never reads the cutouts in ``b``. WAL mode lets any number of reader
processes (gunicorn workers) read while the one writer (the nightly ingest) writes.

A put into an existing row merges cell by cell, as HBase does, through an SQL function
that runs only on key conflicts; new rows cost one ``INSERT``.

The file holds password hashes and token digests: it is created readable and writable by
its owner only (0600; SQLite gives its ``-wal`` and ``-shm`` files the same mode), and a
store found open to others (an older version's 0644) is tightened on open, with a log line.
"""
from __future__ import annotations

import json
import logging
import os
import stat
import sqlite3
import threading
from contextlib import contextmanager
from itertools import accumulate
from pathlib import Path

from hbase_schema import Schema, TableSpec

import numpy as np

from .base import Store, Table, as_bytes
from .batch import ColumnBatch
from .blobfile import BlobFile, is_ref
from .family_blobs import FamilyBlobs
from .errors import DataDirError, StoreError, TableMissing

DB_FILE = "nocturne.sqlite3"
BLOB_DIR = "nocturne.blobs"  # the bytes-only families' segment files (store/blobfile.py)
FILE_MODE = 0o600
log = logging.getLogger("nocturne.store")


def disk_bytes(data_dir: Path) -> int:
    """Bytes of an embedded store on disk: the database with its WAL and shared-memory files,
    and the blob segment files (cutouts)."""
    data_dir = Path(data_dir)
    files = [*data_dir.glob(DB_FILE + "*"), *(data_dir / BLOB_DIR).glob("*")]
    return sum(f.stat().st_size for f in files if f.is_file())


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_LEN_BITS = 12  # a bound of a joined range read: at most 4095 bytes (longer: one statement per range)
_MAX_LEN = (1 << _LEN_BITS) - 1


def _packed_spans(bounds: list[bytes]) -> str | None:
    """``bounds`` (lo, hi of each range, in turn) placed end to end, as the JSON array of one
    integer per range: where its lo starts (counted from 1, as ``substr`` does), its length,
    the length of its hi (which follows). None when a bound is too long to pack."""
    lengths = list(map(len, bounds))
    if max(lengths) > _MAX_LEN:
        return None
    starts = list(accumulate(lengths, initial=1))
    return json.dumps([starts[i] << 2 * _LEN_BITS | lengths[i] << _LEN_BITS | lengths[i + 1]
                       for i in range(0, len(bounds), 2)])


class EmbeddedTable(Table):
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
        if keys is not None:
            select = ", ".join(["k"] + ([] if keys_only else [self.fcols[f] for f in families]))
            present = " OR ".join(f"{self.fcols[f]} IS NOT NULL" for f in families)
            found = {}
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                sql = (f"SELECT {select} FROM {self.sql_name} WHERE k IN ({','.join('?' * len(chunk))}) "
                       f"AND ({present})")
                found.update((row[0], row) for row in self._fetch(sql, chunk))
            rows = [found[k] for k in keys if k in found]
            for j, column in enumerate(zip(*rows) if rows else ()):
                parts[j] = list(column)
            if not keys_only:
                self._inflate(parts, families)
        else:
            # a limit counts the rows kept: SQL can apply it unless single columns filter rows out
            sql_limit = limit if not named else None
            for sql, args in self._range_sql(families, keys_only, ranges, reverse, sql_limit):
                if self._fill(parts, sql, args, families, named, wanted, limit, on_batch, batch_size):
                    break
        if keys_only:  # (each range's statement has the whole limit: the rows past it are cut here)
            return ColumnBatch(parts[0] if limit is None else parts[0][:limit], {})
        return self._decoded(parts, families, wanted, limit)

    def _fetch(self, sql: str, args):
        cursor = self.store._execute(self, sql, args)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    def _range_sql(self, families, keys_only, ranges, reverse, limit) -> list[tuple[str, tuple]]:
        """Statements reading ``ranges``: one per range for a few, else one SQL join of the
        ranges with this table's key index: SQLite seeks each range in C, instead of one query
        per range from Python, and without filling a temporary table row by row. The join's
        bounds go as one BLOB, their bytes end to end, each range one integer of a JSON array
        (``json_each``) saying where its bounds lie in it (:func:`_packed_spans`); ``substr``
        cuts them from the blob byte for byte (as JSON text, a NUL byte ended a bound and
        bytes not UTF-8 could not be passed at all)."""
        fcols = [self.fcols[f] for f in families]
        spans = None
        if len(ranges) >= 8 and limit is None and not any(None in r for r in ranges):
            bounds = [as_bytes(b) for r in ranges for b in r]
            spans = _packed_spans(bounds)
        if spans is None:
            select = ", ".join(["k"] + ([] if keys_only else fcols))
            present = " OR ".join(f"{c} IS NOT NULL" for c in fcols)
            tail = f" ORDER BY k {'DESC' if reverse else 'ASC'}" + (f" LIMIT {int(limit)}" if limit else "")
            out = []
            for lo, hi in ranges:
                where = [f"({present})"] + (["k >= ?"] if lo is not None else []) + (["k < ?"] if hi is not None else [])
                args = tuple(as_bytes(b) for b in (lo, hi) if b is not None)
                out.append((f"SELECT {select} FROM {self.sql_name} WHERE {' AND '.join(where)}{tail}", args))
            return out
        select = ", ".join(["t.k"] + ([] if keys_only else [f"t.{c}" for c in fcols]))
        present = " OR ".join(f"t.{c} IS NOT NULL" for c in fcols)
        at, lo_len, hi_len = f"(r.value >> {2 * _LEN_BITS})", f"((r.value >> {_LEN_BITS}) & {_MAX_LEN})", \
            f"(r.value & {_MAX_LEN})"
        sql = (f"SELECT {select} FROM json_each(?1) r JOIN {self.sql_name} t "
               f"ON t.k >= substr(?2, {at}, {lo_len}) AND t.k < substr(?2, {at} + {lo_len}, {hi_len}) "
               f"WHERE ({present})")
        return [(sql, (spans, b"".join(bounds)))]

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
                    kept = self._kept(columns[1:], families, wanted)
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

    def _kept(self, blobs: list, families: list[str], wanted, groups: dict | None = None) -> list[int] | None:
        """Indices of the rows holding any selected cell (None: every row does). ``blobs``
        per family; ``groups``, if given, receives each family's :meth:`FamilyCodec.group_rows`."""
        n = len(blobs[0]) if blobs else 0
        keep = np.zeros(n, dtype=bool)
        for family, column in zip(families, blobs):
            names = wanted[family]
            codec = self.layout.codecs[family]
            if names is None or codec.spec.open_type is not None:
                if names is None:
                    keep |= np.fromiter((b is not None for b in column), dtype=bool, count=n)
                    continue
                for i, b in enumerate(column):  # an open family: decode to know its names
                    if b is not None and not keep[i] and codec.decode(b, names):
                        keep[i] = True
                continue
            found = codec.group_rows(column)
            if groups is not None:
                groups[family] = found
            for head, idx in found.items():
                if codec.has_any(head, names):
                    keep[idx] = True
        return None if keep.all() else np.flatnonzero(keep).tolist()

    def _decoded(self, parts, families, wanted, limit) -> ColumnBatch:
        keys, blobs = parts[0], parts[1:]
        groups: dict = {}
        if wanted is not None and any(n is not None for n in wanted.values()):
            kept = self._kept(blobs, families, wanted, groups)
            if kept is not None:
                keys, blobs, groups = [keys[i] for i in kept], [[b[i] for i in kept] for b in blobs], {}
        if limit is not None and len(keys) > limit:
            keys, blobs, groups = keys[:limit], [b[:limit] for b in blobs], {}
        return ColumnBatch(keys, source=FamilyBlobs(self.layout, families, wanted, blobs, groups))

    # -- writes --------------------------------------------------------------------------
    def _upsert_sql(self, families: tuple) -> str:
        sql = self._upserts.get(families)
        if sql is None:
            cols = ", ".join(self.fcols[f] for f in families)
            sets = ", ".join(
                f"{self.fcols[f]} = nocturne_merge(?{len(families) + 2}, '{f}', {self.fcols[f]}, excluded.{self.fcols[f]})"
                for f in families)
            marks = ", ".join("?" * (len(families) + 1))
            sql = (f"INSERT INTO {self.sql_name} (k, {cols}) VALUES ({marks}) "
                   f"ON CONFLICT(k) DO UPDATE SET {sets}")
            self._upserts[families] = sql
        return sql

    def _prepare(self, data, groups):
        codecs = self.layout.codecs
        return (tuple(f for f, _, _ in groups), [codecs[f].encode(data, mask) for f, _, mask in groups])

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
            payloads = [(only, [b]) if b is not None else ((), []) for b in blobs[0]]
        else:
            payloads = []
            for row in zip(*blobs):
                kept = [(f, b) for f, b in zip(families, row) if b is not None]
                payloads.append((tuple(f for f, _ in kept), [b for _, b in kept]))
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
        with self.store._write() as db:
            if self.external:
                ops = self._externalised(ops)
            run_sql, run_args, run_families = None, [], None
            for op, key, payload in ops:
                if op == "put":
                    families, blobs = payload
                    if not families:
                        continue
                    if families is run_families:  # (bulk-encoded rows share one tuple)
                        run_args.append((key, *blobs, self.name))
                        continue
                    run_families = families
                    sql = self._upsert_sql(families)
                    if sql != run_sql:
                        if run_args:
                            db.executemany(run_sql, run_args)
                        run_sql, run_args = sql, []
                    run_args.append((key, *blobs, self.name))
                else:
                    if run_args:
                        db.executemany(run_sql, run_args)
                        run_sql, run_args = None, []
                    run_families = None
                    self._delete(db, key, payload)
            if run_args:
                db.executemany(run_sql, run_args)

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
    # Bytes of the file a connection maps for its reads (PRAGMA mmap_size). Mapped pages are
    # shared through the OS cache (the API's processes read them without a copy, ~15 % less
    # CPU a read than through SQLite's cache), but count in each mapping process's resident
    # memory: the ingest turns it off for its run (``ingest_pragmas``, issue 19).
    mmap_bytes = 268435456
    cache_kib = 65536  # SQLite's page cache of a connection, at most (PRAGMA cache_size)

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
        self._check_path(create)

    @classmethod
    def encoder(cls, schema: Schema, prefix: str) -> "EmbeddedStore":
        """A store whose tables only encode rows: no directory, no file, no connection."""
        store = cls.__new__(cls)
        Store.__init__(store, schema, prefix)
        store._local, store._families, store.blobs = threading.local(), {}, None
        return store

    def _check_path(self, create: bool) -> None:
        d = self.data_dir
        if not d.exists():
            raise DataDirError(f"data directory {d} does not exist; create the store with "
                               f"`python -m hbase_schema create` (or set NOCTURNE_DATA_DIR)")
        if not d.is_dir():
            raise DataDirError(f"data directory {d} is not a directory")
        if not os.access(d, os.R_OK | os.X_OK):
            raise DataDirError(f"data directory {d} is not readable by this user")
        if not self.path.exists() and not create:
            raise DataDirError(f"no Nocturne store in {d} (missing {DB_FILE}); create it with "
                               f"`python -m hbase_schema create`")
        if self.path.exists() and not os.access(self.path, os.R_OK):
            raise DataDirError(f"store file {self.path} is not readable by this user")

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None or getattr(self._local, "pid", None) != os.getpid():
            self._secure_files()
            try:
                db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(f"PRAGMA cache_size=-{int(self.cache_kib)}")
                db.execute(f"PRAGMA mmap_size={int(self.mmap_bytes)}")
            except sqlite3.Error as exc:
                raise DataDirError(f"cannot open store file {self.path}: {exc}") from exc
            db.create_function("nocturne_merge", 4, self._merge, deterministic=True)
            self._local.db, self._local.pid = db, os.getpid()
        return db

    def _secure_files(self) -> None:
        """Create the store file 0600; tighten it and its WAL files when others may read them."""
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        except FileExistsError:
            pass
        except OSError:
            return  # sqlite3.connect reports what is wrong with the folder
        for path in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            mode = 0
            try:
                mode = stat.S_IMODE(path.stat().st_mode)
                if mode & 0o077:
                    os.chmod(path, FILE_MODE)
                    log.warning("store file %s was readable by others (mode %04o): now %04o", path, mode, FILE_MODE)
            except FileNotFoundError:
                continue
            except OSError as exc:  # not its owner: say so, keep serving
                log.warning("store file %s is readable by others (mode %04o) and cannot be tightened: %s",
                            path, mode, exc.strerror)

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
        text = str(exc)
        if "full" in text:
            return StoreError(f"the disk holding {self.path} is full ({text}); this batch was rolled back. "
                              f"Free some space and run the same command again: nothing already written is lost")
        if "readonly" in text or "read-only" in text:
            return StoreError(f"store {self.path} is read-only for this user ({text})")
        if "locked" in text or "busy" in text:
            return StoreError(f"store {self.path} stayed locked by another writer for 60 s ({text})")
        return StoreError(f"embedded store {self.path} refused the write: {text}")

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
                db.execute(f"CREATE TABLE {_q(spec.physical_name(self.prefix))} "
                           f"(k BLOB PRIMARY KEY NOT NULL, {cols}) WITHOUT ROWID")
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


@contextmanager
def ingest_pragmas(mmap_bytes: int = 0, cache_kib: int = 16384):
    """The pragmas of the connections this process (and the workers it forks) opens meanwhile:
    an ingest's writer wrote through a 256 MB map of a store of a night's size, ~200 MB of its
    resident memory, and a 16 MB page cache instead of 64 MB saved ~60 MB more, both for the
    same CPU (docs/benchmarks.md, "Rubin ingest memory")."""
    saved = EmbeddedStore.mmap_bytes, EmbeddedStore.cache_kib
    EmbeddedStore.mmap_bytes, EmbeddedStore.cache_kib = mmap_bytes, cache_kib
    try:
        yield
    finally:
        EmbeddedStore.mmap_bytes, EmbeddedStore.cache_kib = saved
