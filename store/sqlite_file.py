"""The embedded store's database file: where it lies beside its blob files, its mode, and the
connections opened on it with their pragmas (store/embedded.py holds the tables).

The file holds password hashes and token digests: it is created readable and writable by
its owner only (0600; SQLite gives its ``-wal`` and ``-shm`` files the same mode), and a
store found open to others (an older version's 0644) is tightened on open, with a log line.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import DataDirError, StoreError

DB_FILE = "nocturne.sqlite3"
BLOB_DIR = "nocturne.blobs"  # the bytes-only families' segment files (store/blobfile.py)
FILE_MODE = 0o600
log = logging.getLogger("nocturne.store")


class Pragmas:
    """What a connection opened now is given (the class is the setting, for the process)."""
    # Bytes of the file a connection maps for its reads (PRAGMA mmap_size). Mapped pages are
    # shared through the OS cache (the API's processes read them without a copy, ~15 % less
    # CPU a read than through SQLite's cache), but count in each mapping process's resident
    # memory: the ingest turns it off for its run (``ingest_pragmas``, issue 19).
    mmap_bytes = 268435456
    cache_kib = 65536  # SQLite's page cache of a connection, at most (PRAGMA cache_size)
    # Bytes of a page of a store created now (PRAGMA page_size; an existing file keeps its own).
    # 16 KB rather than SQLite's 4 KB: a Rubin block of forced sources (~2.7 KB) wasted most of
    # a 4 KB page, and a first night's writer wrote a page a row it inserted at a random key;
    # measured on a first Rubin night: 3.6x fewer page writes, the writer's CPU -11 to -30 %, the
    # file -15 %; reads the same within noise (docs/benchmarks.md, "Rubin first night: 16 KB
    # pages, zstd level 2").
    page_bytes = 16384


@contextmanager
def ingest_pragmas(mmap_bytes: int = 0, cache_kib: int = 16384):
    """The pragmas of the connections this process (and the workers it forks) opens meanwhile:
    an ingest's writer wrote through a 256 MB map of a store of a night's size, ~200 MB of its
    resident memory, and a 16 MB page cache instead of 64 MB saved ~60 MB more, both for the
    same CPU (docs/benchmarks.md, "Rubin ingest memory")."""
    saved = Pragmas.mmap_bytes, Pragmas.cache_kib
    Pragmas.mmap_bytes, Pragmas.cache_kib = mmap_bytes, cache_kib
    try:
        yield
    finally:
        Pragmas.mmap_bytes, Pragmas.cache_kib = saved


def disk_bytes(data_dir: Path) -> int:
    """Bytes of an embedded store on disk: the database with its WAL and shared-memory files,
    and the blob segment files (cutouts)."""
    data_dir = Path(data_dir)
    files = [*data_dir.glob(DB_FILE + "*"), *(data_dir / BLOB_DIR).glob("*")]
    return sum(f.stat().st_size for f in files if f.is_file())


def check_path(data_dir: Path, create: bool) -> None:
    """Raise DataDirError saying what to do when ``data_dir`` cannot hold or give a store."""
    d, path = data_dir, data_dir / DB_FILE
    if not d.exists():
        raise DataDirError(f"data directory {d} does not exist; create the store with "
                           f"`python -m hbase_schema create` (or set NOCTURNE_DATA_DIR)")
    if not d.is_dir():
        raise DataDirError(f"data directory {d} is not a directory")
    if not os.access(d, os.R_OK | os.X_OK):
        raise DataDirError(f"data directory {d} is not readable by this user")
    if not path.exists() and not create:
        raise DataDirError(f"no Nocturne store in {d} (missing {DB_FILE}); create it with "
                           f"`python -m hbase_schema create`")
    if path.exists() and not os.access(path, os.R_OK):
        raise DataDirError(f"store file {path} is not readable by this user")


def bind_bytes_as_they_are() -> None:
    """Let Python's ``sqlite3`` bind ``bytes`` (the store's keys and blobs) without its search
    for an adapter. It binds ``int``, ``float``, ``str`` and ``bytearray`` at once, but looks an
    adapter up for anything else, ``bytes`` included; finding none, CPython 3.11 builds and
    clears an AttributeError (with its formatted message) for each value: ~10 % of a first Rubin
    night's writer, which binds ~3 million blobs and keys (issue 19; docs/benchmarks.md, "Rubin:
    instructions counted; bytes bound as they are; small files joined"). ``bytes`` registered as the adapter of
    ``bytes`` is found at once and gives back the very object it is given, so what is stored does
    not change. The registry is the process's: any ``sqlite3`` user here gets the same identity."""
    sqlite3.register_adapter(bytes, bytes)


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the store file ``path`` (created 0600 if missing), in WAL mode, with
    the :class:`Pragmas` of the moment."""
    secure_files(path)
    bind_bytes_as_they_are()
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        db.execute(f"PRAGMA page_size={int(Pragmas.page_bytes)}")  # (before WAL: only a new file takes it)
        wal_mode(db, 60)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA cache_size=-{int(Pragmas.cache_kib)}")
        db.execute(f"PRAGMA mmap_size={int(Pragmas.mmap_bytes)}")
    except sqlite3.Error as exc:
        raise DataDirError(f"cannot open store file {path}: {exc}") from exc
    return db


def wal_mode(db: sqlite3.Connection, wait_s: float) -> None:
    """Put the database in WAL mode. Two processes opening a new file at once race to convert
    it, and the loser's ``PRAGMA journal_mode`` fails at once with "database is locked" (SQLite
    does not wait on its busy timeout there: 50 of 300 paired first opens did, 2026-12-01):
    retried for up to ``wait_s``."""
    deadline, pause = time.monotonic() + wait_s, 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)


def secure_files(path: Path) -> None:
    """Create the store file 0600; tighten it and its WAL files when others may read them."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    except OSError:
        return  # sqlite3.connect reports what is wrong with the folder
    for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        mode = 0
        try:
            mode = stat.S_IMODE(each.stat().st_mode)
            if mode & 0o077:
                os.chmod(each, FILE_MODE)
                log.warning("store file %s was readable by others (mode %04o): now %04o", each, mode, FILE_MODE)
        except FileNotFoundError:
            continue
        except OSError as exc:  # not its owner: say so, keep serving
            log.warning("store file %s is readable by others (mode %04o) and cannot be tightened: %s",
                        each, mode, exc.strerror)


def write_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """The StoreError saying what to do about a write to ``path`` that SQLite refused."""
    text = str(exc)
    if "full" in text:
        return StoreError(f"the disk holding {path} is full ({text}); this batch was rolled back. "
                          f"Free some space and run the same command again: nothing already written is lost")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"store {path} is read-only for this user ({text})")
    if "locked" in text or "busy" in text:
        return StoreError(f"store {path} stayed locked by another writer for 60 s ({text})")
    return StoreError(f"embedded store {path} refused the write: {text}")
