"""Admission of expensive requests (fits, cross-matches, big cones): a few at a time per
client and per server, shared by every gunicorn worker and thread.

A slot is a lock file: ``flock`` on ``<data_dir>/run/slots/<name>.<i>``. Taking a slot opens
the file and tries a non-blocking exclusive lock on it; the kernel releases it when the
request ends, and also when the process holding it dies (a killed worker never leaks a
slot), without any server or shared memory. Each client address hashes to one of 65536
buckets (a bounded set of files); each bucket has ``compute_slots_per_client`` slots and
the server ``compute_slots`` (0: one per CPU). No slot free for the client: 429; none
free on the server: 503; both with ``Retry-After`` (a running request ends within its
time budget).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import random
import tempfile
from pathlib import Path

from .errors import ApiError

BUCKETS = 65536


class Slots:
    def __init__(self, directory: Path, total: int, per_client: int, retry_after_s: float):
        self.directory = Path(directory)
        self.total = total or (os.cpu_count() or 1)
        self.per_client = per_client
        self.retry_after = str(max(1, math.ceil(retry_after_s)))

    @contextlib.contextmanager
    def admit(self, client: str):
        """Hold a slot of ``client`` and one of the server for the block, or raise ApiError."""
        bucket = int.from_bytes(hashlib.sha256(client.encode()).digest()[:4], "big") % BUCKETS
        mine = self._take(f"client-{bucket:05d}", self.per_client)
        if mine is None:
            raise ApiError(429, f"too many expensive requests at once from this client: at most {self.per_client} "
                                f"fits, cross-matches or large cones at a time; wait for one to finish",
                           {"Retry-After": self.retry_after})
        try:
            server = self._take("server", self.total)
            if server is None:
                raise ApiError(503, f"the server is running its {self.total} expensive requests (fits, cross-matches, "
                                    f"large cones) at once; retry in a few seconds", {"Retry-After": self.retry_after})
            try:
                yield
            finally:
                os.close(server)
        finally:
            os.close(mine)

    def _take(self, name: str, n: int) -> int | None:
        """An open descriptor holding one of the ``n`` locks of ``name``, or None."""
        start = random.randrange(n)
        for k in range(n):
            fd = os.open(self.directory / f"{name}.{(start + k) % n}", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError:
                os.close(fd)
        return None


def slots_for(config) -> Slots:
    """The slots of a configuration, in ``<data_dir>/run/slots`` (or the temporary
    directory when that cannot be created, e.g. a read-only data directory)."""
    directory = Path(config.data_dir) / "run" / "slots"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        key = hashlib.sha256(str(config.data_dir).encode()).hexdigest()[:12]
        directory = Path(tempfile.gettempdir()) / f"nocturne-slots-{os.getuid()}-{key}"
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Slots(directory, config.compute_slots, config.compute_slots_per_client, config.query_time_budget_s)
