"""The embedded store's bulky bytes beside the database: append-only segment files.

A family whose columns are all ``bytes`` (ZTF's cutouts ``b`` of ``main``, Rubin's ``b`` of
``cutouts``: ~20 KB of gzipped FITS an alert) is not written into SQLite: in WAL mode SQLite
writes every byte twice (into the log, then into the database at the checkpoint). Its packed
blob is appended to a segment file under ``<data_dir>/nocturne.blobs/`` and the row holds a
reference of 21 bytes::

    0x03 | segment (uint32) | offset (uint64) | length (uint32) | CRC-32 of the bytes (uint32)

little-endian. A packed blob starts with 0x01 and a compressed one with 0x02
(:mod:`store.compression`), so inline blobs of a store written before this file existed, or
merged cell by cell, read as they always did, side by side with references.

Crash safety: the bytes are appended and ``fdatasync``-ed inside the SQLite write transaction
(whose lock also serialises writers of other processes), before the ``COMMIT`` that stores
their references. A writer killed between the two leaves bytes no row references (garbage,
never wrong data); the rerun appends them again. A reference whose bytes are missing or whose
CRC differs (a file damaged or removed by hand) reads as no cell, with a log line.
"""
from __future__ import annotations

import logging
import os
import struct
import threading
from pathlib import Path

from isal.isal_zlib import crc32  # ISA-L's CRC-32: zlib's value, ~30 times faster (a cutouts row is ~115 KB)

REF_BYTE = 0x03
REF = struct.Struct("<BIQII")
SEGMENT_BYTES = 1 << 30  # a new segment past 1 GiB: files stay easy to copy, and offsets small
FILE_MODE = 0o600
CHUNK_BYTES = 4 << 20
IOV_MAX = 1024  # most buffers one writev takes (Linux)
log = logging.getLogger("nocturne.store")


def _write_all(fd: int, blobs: list) -> None:
    """Write ``blobs`` whole and in order with ``writev``: never joined into one copy."""
    views, first = [memoryview(b).cast("B") for b in blobs], 0
    while first < len(views):
        done = os.writev(fd, views[first:first + IOV_MAX])
        while first < len(views) and done >= len(views[first]):
            done -= len(views[first])
            first += 1
        if done:  # a short write inside a blob: its rest goes first next time
            views[first] = views[first][done:]


def is_ref(blob) -> bool:
    return blob is not None and blob[:1] == b"\x03" and len(blob) == REF.size


class BlobFile:
    """The segment files of one store (``folder``), appended by the one writer, read by all."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._readers: dict[int, int] = {}  # segment -> read-only descriptor (pread: no shared position)
        self._writer: tuple[int, int] | None = None  # (segment, descriptor opened O_APPEND)
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def _path(self, segment: int) -> Path:
        return self.folder / f"{segment:06d}.blob"

    # -- writing (inside the SQLite write transaction) -------------------------------------
    def append_all(self, blobs: list[bytes]) -> list[bytes]:
        """Append ``blobs``, flush them to disk, and return their references, in order."""
        segment, fd = self._writable()
        offset = os.fstat(fd).st_size  # the write lock is held: no one else appends now
        if offset >= SEGMENT_BYTES:
            segment, fd = self._writable(segment + 1)
            offset = os.fstat(fd).st_size
        refs, at, chunk, size = [], offset, [], 0
        for blob in blobs:
            refs.append(REF.pack(REF_BYTE, segment, at, len(blob), crc32(blob)))
            at += len(blob)
            chunk.append(blob)
            size += len(blob)
            if size >= CHUNK_BYTES or len(chunk) >= IOV_MAX:  # written a few MB at a time
                _write_all(fd, chunk)
                chunk, size = [], 0
        if chunk:
            _write_all(fd, chunk)
        os.fdatasync(fd)
        return refs

    def _writable(self, segment: int | None = None) -> tuple[int, int]:
        self._forget_after_fork()
        if segment is None and self._writer is not None:
            return self._writer
        if segment is None:
            segment = max(self._segments(), default=1)
        if self._writer is not None:
            os.close(self._writer[1])
        self.folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(self._path(segment), os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        self._writer = (segment, fd)
        return self._writer

    def _segments(self) -> list[int]:
        try:
            return [int(p.stem) for p in self.folder.glob("*.blob") if p.stem.isdigit()]
        except OSError:
            return []

    # -- reading -----------------------------------------------------------------------------
    def resolve_all(self, blobs: list) -> list:
        """``blobs`` with each reference replaced by the bytes it names (None when they are
        missing or damaged); the same list when it holds no reference."""
        if not any(b is not None and b[:1] == b"\x03" for b in blobs):
            return blobs
        return [self.read(b) if is_ref(b) else b for b in blobs]

    def read(self, ref: bytes) -> bytes | None:
        _, segment, offset, length, crc = REF.unpack(ref)
        try:
            data = os.pread(self._readable(segment), length, offset)
        except OSError as exc:
            log.warning("cutout bytes of segment %s unreadable (%s): read as no cell", self._path(segment), exc)
            return None
        if len(data) != length or crc32(data) != crc:
            log.warning("cutout bytes at %s:%d (%d bytes) are missing or damaged: read as no cell",
                        self._path(segment), offset, length)
            return None
        return data

    def _readable(self, segment: int) -> int:
        self._forget_after_fork()
        fd = self._readers.get(segment)
        if fd is None:
            with self._lock:
                fd = self._readers.get(segment)
                if fd is None:
                    fd = self._readers[segment] = os.open(self._path(segment), os.O_RDONLY)
        return fd

    def _forget_after_fork(self) -> None:
        if self._pid != os.getpid():  # descriptors inherited by a forked worker: its own from now on
            self._readers, self._writer, self._pid = {}, None, os.getpid()

    def size_bytes(self) -> int:
        return sum(self._path(s).stat().st_size for s in self._segments())

    def close(self) -> None:
        if self._pid != os.getpid():
            return
        for fd in self._readers.values():
            os.close(fd)
        if self._writer is not None:
            os.close(self._writer[1])
        self._readers, self._writer = {}, None
