"""Rate limits shared by every worker and process of one server: a sliding one-minute window
per key, kept in a small SQLite file beside the store (``<data_dir>/limits.sqlite3``).

A key names what is limited and for whom (``api|<address>``, ``write|<user>``,
``sign-in|<address>``...). :meth:`RateLimits.take` records one hit for the key and answers 0
if the key had fewer than ``limit`` hits in the last 60 s, else the seconds until its oldest
hit leaves the window (nothing recorded then). Because the window slides, no 60 s span ever
holds more than ``limit`` accepted hits, whichever worker served them.

The file holds only timestamps of the last minute (rows older than the window are removed
as keys are used, and all of them once a minute); it is opened with ``synchronous=OFF``: a
power cut may forget the last minute's hits, which only lifts the limits for that minute.
It lives on local disk with either backend (with HBase, ``data_dir`` holds the ingest's lock
and logs). Each host of a multi-host deployment keeps its own file: the limits are per host.

If the file cannot be opened or written (a read-only ``data_dir``, a disk error), the limits
fall back to the same window kept in this process's memory, with one warning in the log:
a limit never turns a request into a 500.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from store.sqlite_file import wal_mode

from .errors import ApiError

WINDOW_S = 60.0
FILE_NAME = "limits.sqlite3"
log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, t REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_by_key ON hits (key, t);
"""


BUSY_S = 5.0  # how long a statement waits for another process's lock


class RateLimits:
    """Sliding-window counters in one SQLite database (a file, or ``:memory:``)."""

    def __init__(self, path: Path | str):
        self.path = str(path)
        self.lock = threading.Lock()
        self.pid = -1
        self.db: sqlite3.Connection | None = None
        self.fallback: RateLimits | None = None
        self.swept = 0.0

    def _connect(self) -> sqlite3.Connection:
        if self.db is not None and self.pid == os.getpid():
            return self.db
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))  # made private before SQLite opens it
        db = sqlite3.connect(self.path, timeout=BUSY_S, isolation_level=None, check_same_thread=False)
        wal_mode(db, BUSY_S)
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(SCHEMA)
        self.db, self.pid = db, os.getpid()
        return db

    def take(self, key: str, limit: int, now: float | None = None) -> float:
        """Record a hit for ``key``; 0 if within ``limit`` per minute, else the seconds to wait."""
        if limit <= 0:
            return 0.0
        now = time.time() if now is None else now
        if self.fallback is None:
            try:
                with self.lock:
                    return self._take(self._connect(), key, limit, now)
            except (sqlite3.Error, OSError) as exc:
                log.warning("rate limits: cannot use %s (%s); limits are now kept per process", self.path, exc)
                self.fallback = RateLimits(":memory:")
        return self.fallback.take(key, limit, now)

    def _take(self, db: sqlite3.Connection, key: str, limit: int, now: float) -> float:
        db.execute("BEGIN IMMEDIATE")  # one writer at a time across processes; waits up to 5 s
        try:
            if now - self.swept > WINDOW_S:
                db.execute("DELETE FROM hits WHERE t <= ?", (now - WINDOW_S,))
                self.swept = now
            else:
                db.execute("DELETE FROM hits WHERE key = ? AND t <= ?", (key, now - WINDOW_S))
            count, oldest = db.execute("SELECT count(*), min(t) FROM hits WHERE key = ?", (key,)).fetchone()
            if count < limit:
                db.execute("INSERT INTO hits (key, t) VALUES (?, ?)", (key, now))
                wait = 0.0
            else:
                wait = max(0.001, oldest + WINDOW_S - now)
            db.execute("COMMIT")
            return wait
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self.db is not None and self.pid == os.getpid():
            self.db.close()
        self.db = None


class RateLimited(ApiError):
    """A limit was reached: answered 429 with ``Retry-After`` (the API's error shape)."""

    def __init__(self, message: str, wait: float):
        super().__init__(429, message)
        self.wait = wait


_shared: dict[str, RateLimits] = {}
_shared_lock = threading.Lock()


def shared_limits(data_dir: Path | str) -> RateLimits:
    """The one :class:`RateLimits` of this process for ``data_dir``."""
    path = str(Path(data_dir) / FILE_NAME)
    with _shared_lock:
        if path not in _shared:
            _shared[path] = RateLimits(path)
        return _shared[path]


def retry_after(wait: float) -> str:
    """The Retry-After header value for a wait in seconds (at least 1)."""
    return str(max(1, int(wait + 0.999)))
