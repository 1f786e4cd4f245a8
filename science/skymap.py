"""Gravitational-wave sky maps: read a HEALPix probability map (LIGO/Virgo/KAGRA's
``bayestar.fits.gz``, flat or multi-order) and find its credible region.

A map becomes a list of nested HEALPix cells (``depth``, ``ipix``) with the probability
each holds. The credible level of a cell is the probability held by every cell at least
as dense as it (densest first), so the most probable cell has the lowest level and the
region at level ``c`` is the cells whose level is at most ``c`` (as Fink's skymap search
and ligo.skymap define it). Positions are tested against the region cell by cell, at each
cell's own depth: exact to the map's resolution.
"""
from __future__ import annotations

import gzip
import io
import math
import warnings
from dataclasses import dataclass
from functools import cached_property

import astropy.units as u
import numpy as np
from astropy.coordinates import Latitude, Longitude
from astropy.io import fits
from astropy.time import Time
from cdshealpix import nested, ring

MAX_DEPTH = 29
MAX_CELLS = 12 * 1024 ** 2  # a flat map of NSIDE 1024 (0.003 deg² cells); finer flat maps are refused
MAX_FITS_BYTES = 160 * 1024 * 1024  # decompressed


class SkymapError(ValueError):
    """The bytes are not a HEALPix probability map we can read; the message says why."""


@dataclass(frozen=True)
class Skymap:
    depth: np.ndarray  # nested depth (order) of each cell
    ipix: np.ndarray  # nested index of each cell at its depth
    prob: np.ndarray  # probability held by each cell (sums to ~1)
    event_jd: float | None  # DATE-OBS / MJD-OBS of the event, when the header has it

    def credible_levels(self) -> np.ndarray:
        """Each cell's credible level (0 for the densest cell, up to ~1); computed once a map,
        as it sorts every cell (4-5 s for a flat map of 12.6 M cells, and the portal's search
        asks for a region twice: its objects, then its area and cells to draw)."""
        return self._levels

    @cached_property
    def _levels(self) -> np.ndarray:
        area = 4.0 ** (-self.depth.astype(float))  # relative cell areas
        order = np.argsort(-(self.prob / area), kind="stable")
        levels = np.empty_like(self.prob)
        levels[order] = np.cumsum(self.prob[order])
        return levels

    def region(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """``(depth, ipix)`` of the cells inside the ``level`` credible region."""
        inside = self.credible_levels() <= level
        return self.depth[inside], self.ipix[inside]


def read_skymap(data: bytes) -> Skymap:
    """A :class:`Skymap` from FITS bytes, gzipped or not. Raises :class:`SkymapError`."""
    raw = _gunzip(data) if data[:2] == b"\x1f\x8b" else data
    if len(raw) > MAX_FITS_BYTES:
        raise SkymapError(f"the map is larger than {MAX_FITS_BYTES // 2**20} MB once decompressed")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # astropy's verify warnings on damaged files: we answer with the error
            hdul = fits.open(io.BytesIO(raw), memmap=False)
        with hdul:
            hdu = next((h for h in hdul[1:] if isinstance(h, fits.BinTableHDU)), None)
            if hdu is None:
                raise SkymapError("the FITS file has no binary table extension holding the map")
            header = hdu.header
            names = {n.upper(): n for n in hdu.columns.names}
            if "UNIQ" in names:
                return _multiorder(hdu.data, names, header)
            if "PROB" in names:
                return _flat(np.asarray(hdu.data[names["PROB"]], dtype=float).ravel(), header)
            raise SkymapError(f"the map's table has no PROB column (flat map) nor UNIQ and PROBDENSITY "
                              f"(multi-order map); it has {', '.join(hdu.columns.names[:6])}")
    except SkymapError:
        raise
    except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise SkymapError(f"not a readable FITS HEALPix map: {exc}") from None


def _gunzip(data: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            raw = f.read(MAX_FITS_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise SkymapError(f"the gzip data is damaged: {exc}") from None
    return raw


def _event_jd(header) -> float | None:
    try:
        if "MJD-OBS" in header:
            return float(header["MJD-OBS"]) + 2400000.5
        if "DATE-OBS" in header:
            return float(Time(str(header["DATE-OBS"]).strip(), scale="utc").jd)
    except (ValueError, TypeError):
        raise SkymapError(f"the map's DATE-OBS {header.get('DATE-OBS')!r} is not a date") from None
    return None


def _flat(prob: np.ndarray, header) -> Skymap:
    npix = len(prob)
    nside = int(round(math.sqrt(npix / 12))) if npix else 0
    if nside < 1 or 12 * nside * nside != npix or nside & (nside - 1):
        raise SkymapError(f"a flat HEALPix map has 12 x NSIDE² pixels with NSIDE a power of 2; this one has {npix}")
    if npix > MAX_CELLS:
        raise SkymapError(f"NSIDE {nside} is finer than this server reads (at most NSIDE 1024); "
                          f"send the multi-order map or a map degraded to NSIDE 1024")
    depth = nside.bit_length() - 1
    prob = np.where(np.isfinite(prob) & (prob > 0), prob, 0.0)
    ordering = str(header.get("ORDERING", "RING")).strip().upper()
    if ordering == "NESTED":
        ipix = np.arange(npix, dtype=np.uint64)
    elif ordering == "RING":
        # a cell's centre lies in that cell in both schemes: ring -> nested through the centres
        lon, lat = ring.healpix_to_lonlat(np.arange(npix, dtype=np.uint64), nside)
        ipix = nested.lonlat_to_healpix(lon, lat, depth).astype(np.uint64)
    else:
        raise SkymapError(f"ORDERING {ordering!r} is neither RING nor NESTED")
    keep = prob > 0
    return Skymap(np.full(int(keep.sum()), depth, dtype=np.int64), ipix[keep].astype(np.int64), prob[keep],
                  _event_jd(header))


def _multiorder(data, names: dict, header) -> Skymap:
    if "PROBDENSITY" not in names:
        raise SkymapError("a multi-order map (UNIQ column) needs a PROBDENSITY column")
    if len(data) > MAX_CELLS:
        raise SkymapError(f"the map has {len(data)} cells; at most {MAX_CELLS}")
    uniq = np.asarray(data[names["UNIQ"]], dtype=np.int64).ravel()
    density = np.asarray(data[names["PROBDENSITY"]], dtype=float).ravel()
    if (uniq < 4).any():
        raise SkymapError("UNIQ values start at 4")
    depth = (np.floor(np.log2(uniq.astype(float))).astype(np.int64) - 2) // 2
    if (depth > MAX_DEPTH).any():
        raise SkymapError(f"a cell is deeper than HEALPix order {MAX_DEPTH}")
    ipix = uniq - 4 * (np.int64(1) << (2 * depth))
    area_sr = 4 * math.pi / (12 * 4.0 ** depth)
    density = np.where(np.isfinite(density) & (density > 0), density, 0.0)
    prob = density * area_sr
    keep = prob > 0
    return Skymap(depth[keep], ipix[keep], prob[keep], _event_jd(header))


def contains(depth: np.ndarray, ipix: np.ndarray, ra, dec) -> np.ndarray:
    """Whether each position (degrees) lies in one of the cells (``depth``, ``ipix``)."""
    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    dec = np.atleast_1d(np.asarray(dec, dtype=float))
    inside = np.zeros(len(ra), dtype=bool)
    if not len(ra) or not len(depth):
        return inside
    lon, lat = Longitude(ra * u.deg), Latitude(dec * u.deg)
    for d in np.unique(depth).tolist():
        cells = np.sort(ipix[depth == d])
        pix = nested.lonlat_to_healpix(lon, lat, d).astype(np.int64)
        at = np.searchsorted(cells, pix).clip(max=len(cells) - 1)
        inside |= cells[at] == pix
    return inside


def cell_ranges(depth: np.ndarray, ipix: np.ndarray, order: int) -> np.ndarray:
    """Half-open ranges ``[lo, hi)`` of order-``order`` pixels covering the cells (cells
    finer than ``order`` widen to their order-``order`` pixel), merged and sorted; shape (n, 2)."""
    if not len(depth):
        return np.empty((0, 2), dtype=np.int64)
    d = np.minimum(depth, order)
    coarse = ipix >> (2 * (depth - d))
    shift = 2 * (order - d)
    lo = coarse << shift
    hi = (coarse + 1) << shift
    sort = np.argsort(lo, kind="stable")
    lo, hi = lo[sort], np.maximum.accumulate(hi[sort])
    starts = np.r_[True, lo[1:] > hi[:-1]]  # a new range where a gap opens
    group = np.cumsum(starts) - 1
    out_lo = lo[starts]
    out_hi = np.zeros(len(out_lo), dtype=np.int64)
    np.maximum.at(out_hi, group, hi)
    return np.stack([out_lo, out_hi], axis=1)


def sky_fraction(depth: np.ndarray) -> float:
    """The fraction of the sky the cells cover."""
    return float(np.sum(1.0 / (12 * 4.0 ** depth.astype(float))))


def map_bytes(text: str) -> bytes:
    """The map's bytes from the text a client sent: Python's ``str()`` of a bytes object
    (``b'\\x1f\\x8b...'``, as Fink's clients send it; read as a literal, never run) or base64."""
    import ast
    import base64
    import binascii

    text = text.strip()
    if text[:2] in ("b'", 'b"'):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise SkymapError("bayestar looks like Python's str() of bytes but is not a valid bytes literal") from None
        if not isinstance(value, bytes):
            raise SkymapError("bayestar must hold the bytes of the map")
        return value
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SkymapError("bayestar is neither Python's str() of the map's bytes nor base64") from None
