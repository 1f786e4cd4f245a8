"""Cutout stamps: a gzipped (or plain) FITS file holding one 2-D image.

:func:`stamp_problem` says why a stamp cannot be decoded, or None. It inflates the whole
stream (gzip's CRC then catches flipped bytes anywhere) and reads the primary header's
cards itself: SIMPLE, a valid BITPIX, NAXIS = 2 with positive sizes, an END card, and
enough bytes for the image. That is what the cutout endpoints need to decode it, at a
fraction of the cost of opening it with astropy (about 0.1 ms against 1 ms a stamp).
"""
from __future__ import annotations

import zlib

from isal import isal_zlib  # ISA-L's inflate: the same gzip checks (CRC, length) at about half zlib's CPU

CARD = 80
BLOCK = 2880
BITPIX = (8, 16, 32, 64, -32, -64)
MAX_SIDE = 4096


def inflate(blob: bytes) -> bytes:
    """The FITS bytes of a stamp: gunzipped when gzipped (raises zlib.error when damaged)."""
    if blob[:2] == b"\x1f\x8b":
        inflater = isal_zlib.decompressobj(31)
        try:
            data = inflater.decompress(blob)
        except isal_zlib.error as exc:
            raise zlib.error(str(exc)) from exc
        if not inflater.eof:
            raise zlib.error("the gzip stream ends early")
        return data
    return bytes(blob)


def stamp_problem(blob) -> str | None:
    """Why ``blob`` is not a decodable 2-D FITS stamp, or None when it is."""
    if not isinstance(blob, (bytes, bytearray)):
        return f"not bytes but {type(blob).__name__}"
    if not blob:
        return "empty"
    try:
        data = inflate(blob)
    except zlib.error as exc:
        return f"gzip stream damaged ({exc})"
    return fits_problem(data)


def fits_problem(data: bytes) -> str | None:
    """Why ``data`` is not a FITS file whose primary HDU is a 2-D image, or None."""
    if not data.startswith(b"SIMPLE"):
        return "not FITS (no SIMPLE card)"
    cards: dict[str, str] = {}
    end = None
    for start in range(0, min(len(data), 36 * BLOCK) - CARD + 1, CARD):
        card = data[start:start + CARD]
        key = card[:8].strip()
        if key == b"END":
            end = start + CARD
            break
        if card[8:10] == b"= " and key:
            try:
                cards[key.decode("ascii")] = card[10:].split(b"/", 1)[0].strip().decode("ascii")
            except UnicodeDecodeError:
                return f"FITS header card {start // CARD + 1} is not ASCII"
    if end is None:
        return "FITS header has no END card"
    if cards.get("SIMPLE") != "T":
        return "FITS header: SIMPLE is not T"
    try:
        bitpix, naxis = int(cards["BITPIX"]), int(cards["NAXIS"])
        sides = [int(cards[f"NAXIS{i}"]) for i in (1, 2)] if naxis == 2 else []
    except (KeyError, ValueError) as exc:
        return f"FITS header: BITPIX/NAXIS missing or not integers ({exc})"
    if bitpix not in BITPIX:
        return f"FITS header: BITPIX {bitpix} is not a FITS pixel type"
    if naxis != 2:
        return f"FITS image has {naxis} axes, expected 2"
    if not all(0 < side <= MAX_SIDE for side in sides):
        return f"FITS image size {sides[0]}x{sides[1]} is not a cutout's"
    header = -(-end // BLOCK) * BLOCK
    need = sides[0] * sides[1] * abs(bitpix) // 8
    if len(data) < header + need:
        return f"FITS image truncated ({len(data) - header} of {need} bytes)"
    return None
