"""HEALPix helpers for the sky index: pixels of positions, key ranges of cones.

The ``pixel`` index is keyed by the nested HEALPix index at the schema's order
(``pixel_order``, 14). In the nested scheme the order-14 pixels inside a coarser cell
form one contiguous range, so any cone is a short list of key ranges: cover it with
cells at a coarser order picked from the radius, then turn each cell into its range of
order-14 indices and merge neighbours. cdshealpix (Rust, vectorised) computes both.

:func:`pixels` is what the ingest needs, and it calls cdshealpix's compiled module directly,
with plain radians: the package's ``__init__`` imports astropy (its public functions take
astropy's ``Longitude``/``Latitude``), ~26 MB resident in each ingest process, counted
once per forked worker (issue 19: the ingest's memory). The read side's functions import
astropy when first called.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import math
import sys

import numpy as np

_CORE = "cdshealpix.cdshealpix"


def _core():
    """cdshealpix's compiled module, loaded without running its package's ``__init__`` (the
    package, imported later, finds it in ``sys.modules``: a module initialised once)."""
    core = sys.modules.get(_CORE)
    if core is None:
        package = importlib.util.find_spec("cdshealpix")   # a top-level name: found, not run
        spec = importlib.machinery.PathFinder.find_spec(_CORE, package.submodule_search_locations)
        core = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(core)
        sys.modules[_CORE] = core
    return core


def pixels(ra, dec, order: int) -> np.ndarray:
    """Nested HEALPix indices at ``order`` of positions in degrees (arrays or scalars).

    The same as ``cdshealpix.nested.lonlat_to_healpix(Longitude(ra), Latitude(dec), order)``
    (tests/test_sky_pixels.py): the right ascension wrapped into [0, 360) as ``Longitude``
    does, a declination outside [-90, 90] refused with ``ValueError`` as ``Latitude`` does;
    a NaN or infinite position is refused too (cdshealpix would panic or answer a pixel).
    """
    ra = np.atleast_1d(np.asarray(ra, dtype=np.float64))
    dec = np.atleast_1d(np.asarray(dec, dtype=np.float64))
    if ra.shape != dec.shape:
        raise ValueError(f"ra and dec should have the same shape, not {ra.shape} and {dec.shape}")
    if not (np.isfinite(ra).all() and np.isfinite(dec).all()):
        raise ValueError("positions must be finite")
    if (np.abs(dec) > 90).any():
        raise ValueError(f"declinations must be within [-90, 90] deg, got {dec[np.abs(dec) > 90][:3].tolist()}")
    ra = np.mod(ra, 360.0)
    ra[ra >= 360.0] -= 360.0   # a tiny negative wraps to 360.0 in floats: Longitude makes it 0
    ipix = np.empty(ra.shape, dtype=np.uint64)
    dx, dy = np.empty(ra.shape), np.empty(ra.shape)
    depth = np.broadcast_to(np.uint8(order), ra.shape)
    _core().lonlat_to_healpix(depth, np.radians(ra), np.radians(dec), ipix, dx, dy, np.uint16(0))
    return ipix.astype(np.int64)


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
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude
    from cdshealpix.nested import cone_search
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
    import astropy.units as u
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
