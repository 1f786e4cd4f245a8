"""Cutouts: the stored gzipped FITS stamps, decoded to arrays or rendered as PNG.

A stamp that cannot be decoded (damaged before the ingest verified cutouts) raises
:class:`CutoutUnreadable`, which the API answers with a 404 naming the cutout, never a 500.
"""
from __future__ import annotations

import io
import threading
import zlib

import numpy as np
from astropy.io import fits

from science.stamps import fits_problem, inflate
from store import Store

KINDS = ("Science", "Template", "Difference")


_FITS_LOCK = threading.Lock()  # astropy.io.fits is not safe across threads (its warning registry)


class CutoutUnreadable(ValueError):
    """A stored stamp that does not decode to a 2-D FITS image; the message says why."""


def decode_stamp(blob: bytes) -> np.ndarray:
    """A gzipped (or plain) FITS stamp → its 2-D float array (NaN where blank)."""
    data = fits_bytes(blob)
    try:
        with _FITS_LOCK, fits.open(io.BytesIO(data), memmap=False) as hdul:
            image = np.asarray(hdul[0].data, dtype=float)
    except Exception as exc:  # astropy raises many kinds on a damaged file
        raise CutoutUnreadable(f"FITS unreadable ({type(exc).__name__}: {exc})") from None
    if image.ndim != 2:
        raise CutoutUnreadable(f"FITS image has {image.ndim} axes, expected 2")
    return image


def decode_or_none(blob: bytes | None) -> np.ndarray | None:
    """:func:`decode_stamp`, with None for an absent or undecodable stamp."""
    if not blob:
        return None
    try:
        return decode_stamp(blob)
    except CutoutUnreadable:
        return None


def fits_bytes(blob: bytes) -> bytes:
    """The FITS file of a stamp, checked to hold a 2-D image (else :class:`CutoutUnreadable`)."""
    if not isinstance(blob, (bytes, bytearray)) or not blob:
        raise CutoutUnreadable("empty stamp")
    try:
        data = inflate(blob)
    except (zlib.error, EOFError) as exc:
        raise CutoutUnreadable(f"gzip stream damaged ({exc})") from None
    reason = fits_problem(data)
    if reason:
        raise CutoutUnreadable(reason)
    return data


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
