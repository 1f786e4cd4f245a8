"""Plan the ingest of a night, before anything is read: the input files, the units of work
they are cut into, how many processes prepare them, and the night alerts are filed under.

The first step of :func:`ingest.night.ingest`. A unit is about ``UNIT_BYTES`` of files (a
big file is a unit alone); the units are prepared in any process but written in their
order, so the plan fixes the order of every write.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .readers import file_kind, log_skipped

UNIT_BYTES = 8 * 1024 * 1024
UNIT_FILES = 256
MAX_WORKERS = 4


@dataclass(frozen=True)
class Plan:
    files: list[Path]          # the input files that hold alerts, sorted
    units: list[list[Path]]    # the files cut into units of work, in input order
    workers: int               # processes that prepare the units (1: this process alone)
    night: str | None = None   # file every alert under this night (default: each alert's UTC date)
    nbytes: int = 0            # bytes of the input files


def plan(path: Path, night: str | None = None, workers: int | None = None, split=None) -> Plan:
    """The plan of ingesting ``path``; FileNotFoundError when it holds no alert file.

    :param workers: processes that prepare units (default: the CPU count, at most 4).
    :param split: (units, UNIT_BYTES) -> units: a survey's regrouping of its files into units
        (Rubin: Parquet files into units of at most ``UNIT_ALERTS`` rows, a big file cut into
        slices of rows, ``ingest.rubin.readers.split_units``).
    """
    files = input_files(Path(path))
    if not files:
        raise FileNotFoundError(f"no alert files (.avro, .tar.gz, .parquet) under {path}")
    work = units(files)
    if split is not None:
        work = split(work, UNIT_BYTES)
    workers = default_workers() if workers is None else max(1, workers)
    return Plan(files, work, workers if len(work) > 1 else 1, night, sum(f.stat().st_size for f in files))


def default_workers() -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def input_files(path: Path) -> list[Path]:
    """The files of ``path`` that hold alerts, sorted; a file is returned as is."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no such file or folder: {path}")
    found, skipped = [], []
    for p in path.rglob("*"):
        if p.is_file():
            (found if file_kind(p.name) else skipped).append(p)
    if skipped:
        log_skipped(str(path), sorted(str(p.relative_to(path)) for p in skipped))
    return sorted(found)


def units(files: list[Path]) -> list[list[Path]]:
    """Files grouped into work units of about UNIT_BYTES (a big file is a unit alone)."""
    out, current, size = [], [], 0
    for f in files:
        n = f.stat().st_size
        if current and (size + n > UNIT_BYTES or len(current) >= UNIT_FILES):
            out.append(current)
            current, size = [], 0
        current.append(f)
        size += n
    if current:
        out.append(current)
    return out
