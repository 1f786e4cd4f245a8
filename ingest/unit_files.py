"""The prepared units handed from the workers to the writer through files in memory (tmpfs).

A worker's result goes back through the process pool's pipe: pickled again by the pool,
written and read 1 MB at a time, unpickled again, each a copy. A Rubin unit with cutouts is
~25 MB pickled, one without ~9 MB; through the pipe, taking 1 GB of units cost the writer
1.6-2.4 s of CPU, through files 0.5-0.6 s (``python -m bench.bench_unit_handoff``; the
workers' side less too, within its noise). The worker writes the unit to a file in
``/dev/shm``, the writer unpickles it from a read-only ``mmap`` of it; the pool carries only
the file's name.

The files live in a folder of their own for the run, ``/dev/shm/nocturne-units-<pid>-*``,
removed when the run ends; each file is removed once read. A folder left by an ingest killed
with ``kill -9`` (its process gone) is removed by the next ingest's start. Where there is no
writable ``/dev/shm`` (another OS), or a file cannot be written (the tmpfs full), the unit
goes through the pipe as before: only slower. Its bytes in tmpfs are memory as much as the
writer's were: ``bench.bench_rubin_rss`` counts them in the peak.
"""
from __future__ import annotations

import logging
import mmap
import os
import pickle
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger("nocturne.ingest")
SHM = Path("/dev/shm")
PREFIX = "nocturne-units-"


class UnitFiles:
    """This run's folder of unit files (None: none could be made, units go by the pipe)."""

    def __init__(self, base: Path | None = SHM):
        self.folder: Path | None = None
        self.warned = False  # (a worker's copy: one warning a process)
        if base is None or not writable(base):
            if base is not None:
                log.info("the workers hand their units back through the pipe: no writable %s", base)
            return
        sweep(base)
        try:
            self.folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
        except OSError as exc:
            log.info("the workers hand their units back through the pipe: %s", exc)
            self.folder = None

    def hand(self, data: bytes) -> bytes | str:
        """In a worker: ``data`` (a pickled unit) as the name of a file holding it, or as it
        is when it cannot be written."""
        if self.folder is None:
            return data
        path = None
        try:
            fd, path = tempfile.mkstemp(suffix=".unit", dir=self.folder)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return path
        except OSError as exc:  # (the tmpfs full, the folder gone)
            if path is not None:
                _remove(path)
            if not self.warned:
                self.warned = True
                log.warning("a unit goes back through the pipe, slower (%s); others may too", exc)
            return data

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def writable(base: Path = SHM) -> bool:
    """Whether ``base`` is a folder this process can make the run's folder in."""
    return base.is_dir() and os.access(base, os.W_OK)


def take(handed: bytes | str):
    """In the writer: the unit ``handed`` (:meth:`UnitFiles.hand`) unpickled; its file removed."""
    if isinstance(handed, (bytes, bytearray)):
        return pickle.loads(handed)
    try:
        with open(handed, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return pickle.loads(data)
    finally:
        _remove(handed)


def sweep(base: Path) -> list[Path]:
    """Remove the unit folders in ``base`` of ingests no longer running; the folders removed."""
    gone = []
    for folder in base.glob(f"{PREFIX}*"):
        pid = folder.name[len(PREFIX):].partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder)
    return gone


def held_bytes(base: Path = SHM, pid: int | None = None) -> int:
    """The bytes of the unit files in ``base`` (of the ingest ``pid``'s folders only, if given)."""
    pattern = f"{PREFIX}{pid}-*/*.unit" if pid is not None else f"{PREFIX}*/*.unit"
    total = 0
    for path in base.glob(pattern):
        try:
            total += path.stat().st_size
        except OSError:  # (read and removed meanwhile)
            pass
    return total


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # (another user's process)
        return True
    return True


def _remove(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
