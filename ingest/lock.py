"""One ingest at a time per store: an exclusive lock file, freed when the process ends.

``flock`` is released by the kernel when the holder dies, even by ``kill -9``, so a
crashed ingest never leaves a stale lock behind.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path


class IngestLocked(RuntimeError):
    """Another ingest holds the lock."""


class IngestLock:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.fh = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "unknown"
            self.fh.close()
            raise IngestLocked(f"another ingest is running on this store ({holder}); it holds {self.path}. "
                               f"Wait for it to finish: the lock frees itself when that process ends.") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"pid {os.getpid()}")
        self.fh.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()
