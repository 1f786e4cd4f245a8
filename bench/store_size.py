"""Bytes of an embedded store on disk: the SQLite database with its WAL and shared-memory
files, and the blob segment files of its bytes-only families (cutouts, ``store/blobfile.py``)."""
from __future__ import annotations

from pathlib import Path

from store.embedded import BLOB_DIR


def embedded_bytes(data_dir: Path | str) -> int:
    data_dir = Path(data_dir)
    files = list(data_dir.glob("nocturne.sqlite3*")) + list((data_dir / BLOB_DIR).glob("*"))
    return sum(f.stat().st_size for f in files if f.is_file())
