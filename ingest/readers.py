"""Read alert packets from the files of a night, one packet at a time.

Accepted files (``ingest.plan`` lists them: a folder is searched recursively):
- Avro: one alert per file or containers holding many, any codec fastavro reads
  (null, deflate, snappy); records are read by field name, so Spark's
  ``topLevelRecord`` naming does not matter;
- ``.tar.gz`` / ``.tgz`` / ``.tar``: a night as the ZTF public archive ships it (Avro members);
- Parquet in Fink's layout (``candidate`` struct, ``prv_candidates`` list, added values).

:func:`packets_of` yields :class:`Packet` objects in a stable order (sorted paths, then
position in file). A file that cannot be read, or stops being readable part-way, yields
one packet with ``error`` set, and with ``raw`` holding the file's bytes when small enough
to hold, else ``whole_file`` naming it, so the quarantine keeps it either way; the packets
before the damage are still yielded. Files and archive members that cannot hold alerts
(other suffixes) are skipped with one log line naming them.
"""
from __future__ import annotations

import logging
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq

from . import avro_files
from .packet_types import schema_is_clean

log = logging.getLogger("nocturne.ingest")
AVRO_SUFFIXES = (".avro",)
TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")
PARQUET_SUFFIXES = (".parquet", ".parq")
QUARANTINE_MAX_BYTES = 64 * 1024 * 1024


@dataclass
class Packet:
    source: str          # file (and member) it came from
    index: int           # position inside that source
    record: dict | None  # the alert, fields by name
    error: str | None = None
    raw: bytes | None = None  # the whole source file, kept only for unreadable single files
    whole_file: Path | None = None  # an unreadable file too big for ``raw``, kept by copying it
    size: int = 0        # bytes of the source, for throughput figures
    typed: bool = True   # False for Parquet, whose writers may turn ints into doubles
    clean: bool = False  # its Avro writer schema guarantees the stored fields' types


def log_skipped(where: str, names: list[str], shown: int = 20) -> None:
    """One log line for the files of ``where`` that hold no alerts, with their names."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    log.warning("skipped %d file(s) in %s that are not alert files (.avro, .tar.gz, .tgz, .tar, .parquet): %s%s",
                len(names), where, ", ".join(names[:shown]), more)


def file_kind(name: str) -> str | None:
    """The kind of alert file ``name`` is, by its suffix: avro, tar or parquet; None for other files."""
    lower = name.lower()
    if lower.endswith(AVRO_SUFFIXES):
        return "avro"
    if lower.endswith(TAR_SUFFIXES):
        return "tar"
    if lower.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


def packets_of(files: list[Path]) -> Iterator[Packet]:
    """Every packet of ``files``, in order."""
    for file in files:
        kind = file_kind(file.name) or "avro"
        if kind == "tar":
            yield from _tar_packets(file)
        elif kind == "parquet":
            yield from _parquet_packets(file)
        else:
            try:
                data = file.read_bytes()
            except OSError as exc:
                yield Packet(str(file), 0, None, f"unreadable file: {exc.strerror}", whole_file=file)
                continue
            yield from _avro_packets(str(file), data, file)


def _avro_packets(source: str, data: bytes, file: Path | None = None) -> Iterator[Packet]:
    n = 0
    clean = schema_is_clean(avro_files.schema_text(data))
    try:
        for record in avro_files.records(data):
            yield Packet(source, n, record, size=len(data) if n == 0 else 0, clean=clean)
            n += 1
    except Exception as exc:  # fastavro raises many kinds on damaged input
        reason = f"unreadable Avro ({type(exc).__name__}: {exc})"
        if n:
            reason = f"damaged Avro after {n} readable record(s) ({type(exc).__name__}: {exc})"
        small = len(data) <= QUARANTINE_MAX_BYTES
        yield Packet(source, n, None, reason, raw=data if small else None, whole_file=None if small else file,
                     size=len(data) if n == 0 else 0)
        return
    if n == 0:
        yield Packet(source, 0, None, "Avro file holds no record", raw=data, size=len(data))


def _tar_packets(file: Path) -> Iterator[Packet]:
    skipped, n = [], 0
    try:
        with tarfile.open(file, "r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                if file_kind(member.name) != "avro":
                    skipped.append(member.name)
                    continue
                fh = tar.extractfile(member)
                data = fh.read() if fh else b""
                n += 1
                yield from _avro_packets(f"{file}!{member.name}", data)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        where = f" after {n} member(s)" if n else ""
        yield Packet(str(file), n, None, f"damaged archive{where} ({type(exc).__name__}: {exc})", whole_file=file)
    if skipped:
        log_skipped(str(file), skipped)


def _parquet_packets(file: Path) -> Iterator[Packet]:
    n = 0
    try:
        pf = pq.ParquetFile(file)
        names = set(pf.schema_arrow.names)
        if not {"objectId", "candidate"} <= names:
            log.warning("skipping %s: a Parquet file without alert columns (objectId, candidate)", file)
            return
        size = file.stat().st_size
        for batch in pf.iter_batches(batch_size=512):
            for record in batch.to_pylist():
                yield Packet(str(file), n, record, size=size if n == 0 else 0, typed=False)
                n += 1
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
        yield Packet(str(file), n, None, f"unreadable Parquet after {n} record(s) ({type(exc).__name__}: {exc})",
                     whole_file=file)
