"""HEALPix helpers for the sky index: pixels of positions, key ranges of cones.

The ``pixel`` index is keyed by the nested HEALPix index at the schema's order
(``pixel_order``, 14). In the nested scheme the order-14 pixels inside a coarser cell
form one contiguous range, so any cone is a short list of key ranges: cover it with
cells at a coarser order picked from the radius, then turn each cell into its range of
order-14 indices and merge neighbours. cdshealpix (Rust, vectorised) computes both.
"""
from __future__ import annotations

import math

import astropy.units as u
import numpy as np
from astropy.coordinates import Latitude, Longitude
from cdshealpix.nested import cone_search, lonlat_to_healpix


def pixels(ra, dec, order: int) -> np.ndarray:
    """Nested HEALPix indices at ``order`` of positions in degrees (arrays or scalars)."""
    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    dec = np.atleast_1d(np.asarray(dec, dtype=float))
    return lonlat_to_healpix(Longitude(ra * u.deg), Latitude(dec * u.deg), order).astype(np.int64)


def cover_order(radius_deg: float, order: int) -> int:
    """The coarsest order whose cells are at most an eighth of the radius (capped at ``order``).

    An eighth keeps a 1-degree cone to about 30 key ranges reading 1.16x its area.
    """
    cell_deg = math.degrees(math.sqrt(4 * math.pi / 12))  # order-0 cell size
    for k in range(order + 1):
        if cell_deg / 2**k <= max(radius_deg, 1e-9) / 8:
            return k
    return order


def cone_ranges(ra: float, dec: float, radius_deg: float, order: int) -> list[tuple[int, int]]:
    """Half-open ranges ``[lo, hi)`` of order-``order`` pixels that cover the cone."""
    depth = cover_order(radius_deg, order)
    cells, depths, _ = cone_search(Longitude(ra * u.deg), Latitude(dec * u.deg), radius_deg * u.deg,
                                   depth=depth, flat=False)
    ranges = []
    for cell, d in sorted(zip(cells.tolist(), depths.tolist()), key=lambda cd: cd[0] << 2 * (order - cd[1])):
        shift = 2 * (order - d)
        lo, hi = cell << shift, (cell + 1) << shift
        if ranges and ranges[-1][1] == lo:
            ranges[-1] = (ranges[-1][0], hi)
        else:
            ranges.append((lo, hi))
    return ranges
