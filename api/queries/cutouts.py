"""Cutouts: the stored gzipped FITS stamps, decoded to arrays or rendered as PNG."""
from __future__ import annotations

import gzip
import io
import threading

import numpy as np
from astropy.io import fits

from store import Store

KINDS = ("Science", "Template", "Difference")


_FITS_LOCK = threading.Lock()  # astropy.io.fits is not safe across threads (its warning registry)


def decode_stamp(blob: bytes) -> np.ndarray:
    """A gzipped (or plain) FITS stamp → its 2-D float array (NaN where blank)."""
    data = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    with _FITS_LOCK, fits.open(io.BytesIO(data), memmap=False) as hdul:
        return np.asarray(hdul[0].data, dtype=float)


def fits_bytes(blob: bytes) -> bytes:
    return gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob


def find_alert(store: Store, object_id: str, candid: int | None, kinds) -> dict | None:
    """The cutout cells (and isdiffpos) of one alert: ``candid``'s, else the latest."""
    main = store.table("main")
    columns = [f"b:cutout{k}_stampData" for k in kinds] + ["i:candid", "i:isdiffpos", "i:jd"]
    if candid is None:
        found = next(main.scan(row_prefix=main.keys.prefix(object_id), columns=columns, reverse=True, limit=1), None)
        return found[1] if found else None
    for _, cells in main.scan(row_prefix=main.keys.prefix(object_id), columns=columns):
        if cells.get("i:candid") == candid:
            return cells
    return None
