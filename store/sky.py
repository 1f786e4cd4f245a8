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


EDGE_MARGIN_DEG = 0.01 / 3600  # HEALPix edges are not quite great circles: 1e-4″ off at order 14


def _unit(lon_rad, lat_rad) -> np.ndarray:
    c = np.cos(lat_rad)
    return np.stack([c * np.cos(lon_rad), c * np.sin(lon_rad), np.sin(lat_rad)], axis=-1)


# cdshealpix's neighbours come as [S, SE, E, SW, centre, NE, W, NW, N]; vertices as [S, E, N, W]
_EDGE_NEIGHBOUR = (1, 5, 7, 3)        # across the edges S-E, E-N, N-W, W-S
_CORNER_NEIGHBOUR = (0, 2, 8, 6)      # beyond the vertices S, E, N, W
_CORNER_EDGES = ((3, 0), (0, 1), (1, 2), (2, 3))  # the two edges that meet at each vertex


def block_pairs(ra, dec, radius_deg: float, order: int) -> tuple[np.ndarray, np.ndarray]:
    """``(pixel, source)`` pairs: each position's pixel at ``order`` and those of its eight
    neighbours that the circle of ``radius_deg`` around it may reach (the radius must not
    exceed a pixel's size, so that the 3×3 block holds the whole circle).

    From the position's own pixel only: a neighbour across an edge when the circle comes
    within the radius of that edge's great circle; a neighbour beyond a vertex when it
    comes within the radius of both edges meeting there, or of the vertex (HEALPix grid
    lines run on through a vertex, so the corner pixel lies beyond both). With a margin
    for the edges' curvature (``EDGE_MARGIN_DEG``); positions in a pixel on the border
    of its base cell, where grid lines bend, keep the whole block. About 1.5 pixels per
    position for a 1.5″ radius at order 14, instead of the block's 9.
    """
    from cdshealpix.nested import neighbours, vertices
    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    dec = np.atleast_1d(np.asarray(dec, dtype=float))
    centre = pixels(ra, dec, order)
    blocks = neighbours(centre.astype(np.uint64), order).astype(np.int64)   # (n, 9)
    lon, lat = vertices(centre.astype(np.uint64), order)
    v = _unit(lon.to_value(u.rad), lat.to_value(u.rad))                     # (n, 4, 3)
    p = _unit(np.radians(ra), np.radians(dec))                             # (n, 3)
    n = np.cross(v, np.roll(v, -1, axis=1))
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    reach = np.radians(radius_deg + EDGE_MARGIN_DEG)
    near_edge = np.abs(np.einsum("nij,nj->ni", n, p)) <= np.sin(reach)    # (n, 4)
    near_vertex = np.einsum("nij,nj->ni", v, p) >= np.cos(reach)           # (n, 4)
    keep = np.zeros(blocks.shape, dtype=bool)
    keep[:, 4] = True
    for e, k in enumerate(_EDGE_NEIGHBOUR):
        keep[:, k] = near_edge[:, e]
    for j, (k, (e1, e2)) in enumerate(zip(_CORNER_NEIGHBOUR, _CORNER_EDGES)):
        keep[:, k] = (near_edge[:, e1] & near_edge[:, e2]) | near_vertex[:, j]
    base = centre >> (2 * order)
    irregular = np.any((blocks < 0) | ((blocks >> (2 * order)) != base[:, None]), axis=1)
    keep[irregular] = True
    keep &= blocks >= 0
    src = np.broadcast_to(np.arange(len(ra))[:, None], blocks.shape)
    return blocks[keep], src[keep]
