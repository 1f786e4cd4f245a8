"""Where packets go: one folder or one .tar.gz per night, single-alert files or containers.

Layouts (like a nightly alert archive):

- ``files``: ``ztf_public_YYYYMMDD/<candid>.avro``, one alert per Avro file
  (ZTF's nightly tarballs hold exactly such files);
- ``containers``: ``ztf_public_YYYYMMDD/part-NNNNN.avro``, multi-alert Avro
  containers of up to N alerts with codec null, deflate or snappy;

and targets: a directory per night, or a ``ztf_public_YYYYMMDD.tar.gz`` per
night (deterministic: fixed mtimes, owners and gzip header).  Every file is an
Avro object container with the schema in its header; sync markers are derived
from the seed, so the same seed gives byte-identical output.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

from .encoding import container_block, container_header, sync_marker, zigzag_varint

NIGHT_PREFIX = "ztf_public_"
TAR_MTIME = 1735689600  # 2025-01-01T00:00:00Z, fixed for reproducible archives


class DirTarget:
    """Files written under ``root/<night folder>/`` (through directory descriptors: fast)."""

    _FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC

    def __init__(self, root: Path):
        self.root = Path(root)
        self._dirs: dict[str, int] = {}

    def write(self, night: str, name: str, parts: list) -> None:
        dfd = self._dirs.get(night)
        if dfd is None:
            folder = self.root / (NIGHT_PREFIX + night)
            folder.mkdir(parents=True, exist_ok=True)
            dfd = self._dirs[night] = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        fd = os.open(name, self._FLAGS, 0o644, dir_fd=dfd)
        try:
            os.writev(fd, parts)
        finally:
            os.close(fd)

    def close(self) -> None:
        for dfd in self._dirs.values():
            os.close(dfd)
        self._dirs.clear()


class TarTarget:
    """Files appended to ``root/ztf_public_<night>.tar.gz`` (one open stream per night)."""

    def __init__(self, root: Path, level: int = 1):
        self.root = Path(root)
        self.level = level
        self._open: dict[str, tuple] = {}

    def write(self, night: str, name: str, parts: list) -> None:
        if night not in self._open:
            self.root.mkdir(parents=True, exist_ok=True)
            raw = open(self.root / f"{NIGHT_PREFIX}{night}.tar.gz", "wb")
            gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=self.level, mtime=0)
            tar = tarfile.open(fileobj=gz, mode="w|", format=tarfile.GNU_FORMAT)
            self._open[night] = (raw, gz, tar)
        tar = self._open[night][2]
        data = b"".join(parts)
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = TAR_MTIME
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))

    def close(self) -> None:
        for raw, gz, tar in self._open.values():
            tar.close()
            gz.close()
            raw.close()
        self._open.clear()


class FileLayout:
    """One alert per Avro file, named ``<candid>.avro``."""

    def __init__(self, target, schema: dict, seed: int, codec: str = "null"):
        self.target, self.schema, self.seed, self.codec = target, schema, seed, codec
        self._headers: dict[str, tuple[bytes, bytes]] = {}

    def _header(self, night: str):
        if night not in self._headers:
            sync = sync_marker("nocturne", self.seed, night)
            self._headers[night] = (container_header(self.schema, self.codec, sync), sync)
        return self._headers[night]

    def add(self, night: str, candid: int, datum: bytes) -> None:
        header, sync = self._header(night)
        if self.codec == "null":
            parts = [header, b"\x02" + zigzag_varint(len(datum)), datum, sync]
        else:
            parts = [header, container_block([datum], self.codec, sync)]
        self.target.write(night, f"{candid}.avro", parts)

    def close(self) -> None:
        self.target.close()


class ContainerLayout:
    """Multi-alert containers of up to ``size`` alerts, blocks of ``block`` alerts."""

    def __init__(self, target, schema: dict, seed: int, codec: str = "null", size: int = 10000,
                 block: int = 100):
        self.target, self.schema, self.seed, self.codec = target, schema, seed, codec
        self.size, self.block = size, block
        self._pending: dict[str, list[bytes]] = {}
        self._count: dict[str, int] = {}

    def add(self, night: str, candid: int, datum: bytes) -> None:
        buf = self._pending.setdefault(night, [])
        buf.append(datum)
        if len(buf) >= self.size:
            self._flush(night)

    def _flush(self, night: str) -> None:
        buf = self._pending.get(night)
        if not buf:
            return
        k = self._count.get(night, 0)
        sync = sync_marker("nocturne", self.seed, night, k)
        parts = [container_header(self.schema, self.codec, sync)]
        for i in range(0, len(buf), self.block):
            parts.append(container_block(buf[i:i + self.block], self.codec, sync))
        self.target.write(night, f"part-{k:05d}.avro", parts)
        self._count[night] = k + 1
        self._pending[night] = []

    def close(self) -> None:
        for night in sorted(self._pending):
            self._flush(night)
        self.target.close()
