"""Where alerts fall on the sky: the footprint, a ZTF-like field grid and its quadrants.

ZTF tiles the sky north of declination -30 deg with fields of about 7 x 7 deg;
each field's mosaic has 16 CCDs of 4 readout quadrants (rcid 0..63) laid out
as an 8 x 8 grid of ~0.87 deg cells of 3072 x 3080 pixels at 1.01"/pixel.
This module builds a simplified, non-overlapping version of that grid (field
ids from 245 upwards, band by band in declination), cuts a footprint box into
cells (field, rcid) with their spherical areas, and maps positions to pixel
coordinates inside a quadrant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEC_MIN = -30.0
BAND_HEIGHT = 6.9       # deg, height of a band of fields
FIELD_WIDTH = 7.0       # deg of great circle at band centre (approx.)
FIELD_ID0 = 245
QUAD_NX, QUAD_NY = 3072, 3080
PIXSCALE = 1.01         # arcsec / pixel


@dataclass(frozen=True)
class Footprint:
    """A box on the sky: ra0..ra1 (deg, ra1 may exceed 360 to wrap) x dec0..dec1."""

    ra0: float
    ra1: float
    dec0: float
    dec1: float

    @property
    def area(self) -> float:
        """Solid angle in square degrees."""
        return box_area(self.ra0, self.ra1, self.dec0, self.dec1)

    @classmethod
    def parse(cls, text: str, dec_min: float = DEC_MIN, dec_max: float = 90.0) -> "Footprint":
        """``RA0,RA1,DEC0,DEC1`` in degrees, cut to the survey's sky (ZTF's by default)."""
        ra0, ra1, dec0, dec1 = (float(x) for x in text.split(","))
        if ra1 <= ra0:
            ra1 += 360.0
        return cls(ra0, ra1, max(dec0, dec_min), min(dec1, dec_max)).checked(dec_min)

    @classmethod
    def around(cls, ra: float, dec: float, area: float, dec_min: float = DEC_MIN,
               dec_max: float = 89.0) -> "Footprint":
        """A box of ``area`` deg^2 centred on (ra, dec), about as tall as wide, on the survey's sky."""
        half = np.sqrt(area) / 2
        dec0, dec1 = max(dec - half, dec_min), min(dec + half, dec_max)
        sin_span = np.sin(np.radians(dec1)) - np.sin(np.radians(dec0))
        width = min(area / (np.degrees(1) * sin_span), 360.0)
        return cls(ra - width / 2, ra + width / 2, dec0, dec1).checked(dec_min)

    def checked(self, dec_min: float = DEC_MIN) -> "Footprint":
        if self.dec1 <= self.dec0 or self.dec1 <= dec_min:
            raise ValueError(f"empty footprint (the survey sees dec > {dec_min}): {self}")
        return self


def box_area(ra0, ra1, dec0, dec1):
    """Area (deg^2) of an ra/dec box."""
    return np.degrees(1) * (ra1 - ra0) * (np.sin(np.radians(dec1)) - np.sin(np.radians(dec0)))


def _bands():
    edges = np.arange(DEC_MIN - 1.0, 90.0, BAND_HEIGHT)
    edges = np.append(edges, 90.0)
    out, fid = [], FIELD_ID0
    for lo, hi in zip(edges[:-1], edges[1:]):
        centre = np.radians((lo + hi) / 2)
        nra = max(1, int(round(360.0 * np.cos(centre) / FIELD_WIDTH)))
        out.append((lo, hi, nra, fid))
        fid += nra
    return out


BANDS = _bands()


@dataclass(frozen=True)
class Cell:
    """The part of a footprint inside one quadrant (field, rcid) of the grid."""

    field: int
    rcid: int
    ra0: float
    ra1: float
    dec0: float
    dec1: float
    area: float


def field_quadrant_box(band: int, ira: int):
    lo, hi, nra, _ = BANDS[band]
    w = 360.0 / nra
    return ira * w, (ira + 1) * w, lo, hi


def cells(fp: Footprint) -> list[Cell]:
    """Cut the footprint into cells (field, rcid), in field then rcid order."""
    out = []
    for b, (lo, hi, nra, fid0) in enumerate(BANDS):
        d0, d1 = max(lo, fp.dec0), min(hi, fp.dec1)
        if d1 <= d0:
            continue
        w = 360.0 / nra
        for ira in range(int(np.floor(fp.ra0 / w)), int(np.ceil(fp.ra1 / w))):
            f_ra0, f_ra1 = ira * w, (ira + 1) * w
            r0, r1 = max(f_ra0, fp.ra0), min(f_ra1, fp.ra1)
            if r1 <= r0:
                continue
            field = fid0 + (ira % nra)
            for cy in range(8):
                q_d0 = lo + (hi - lo) * cy / 8
                q_d1 = lo + (hi - lo) * (cy + 1) / 8
                dd0, dd1 = max(q_d0, d0), min(q_d1, d1)
                if dd1 <= dd0:
                    continue
                for cx in range(8):
                    q_r0 = f_ra0 + w * cx / 8
                    q_r1 = f_ra0 + w * (cx + 1) / 8
                    rr0, rr1 = max(q_r0, r0), min(q_r1, r1)
                    if rr1 <= rr0:
                        continue
                    out.append(Cell(field, rcid_of(cx, cy), rr0, rr1, dd0, dd1,
                                    float(box_area(rr0, rr1, dd0, dd1))))
    out.sort(key=lambda c: (c.field, c.rcid))
    return out


def rcid_of(cx: int, cy: int) -> int:
    """Readout-channel id (0..63) of quadrant column cx, row cy (0..7)."""
    ccd = (cy // 2) * 4 + (cx // 2) + 1
    q = (cy % 2) * 2 + (cx % 2) + 1
    return (ccd - 1) * 4 + (q - 1)


def _field_geometry(field: np.ndarray):
    """Band low/high dec and field width for field ids (vectorised)."""
    starts = np.array([b[3] for b in BANDS])
    b = np.searchsorted(starts, field, side="right") - 1
    lo = np.array([x[0] for x in BANDS])[b]
    hi = np.array([x[1] for x in BANDS])[b]
    nra = np.array([x[2] for x in BANDS])[b]
    return lo, hi, 360.0 / nra, field - starts[b]


def pixel_position(field, rcid, ra, dec):
    """(xpos, ypos, mindtoedge) in quadrant pixels for positions in (field, rcid)."""
    lo, hi, w, ira = _field_geometry(np.asarray(field))
    ccd0, q0 = np.asarray(rcid) // 4, np.asarray(rcid) % 4
    cx = (ccd0 % 4) * 2 + q0 % 2
    cy = (ccd0 // 4) * 2 + q0 // 2
    ra_rel = np.mod(ra - ira * w, 360.0)
    fx = ra_rel / w * 8 - cx
    fy = (dec - lo) / (hi - lo) * 8 - cy
    x = np.clip(fx, 0, 1) * (QUAD_NX - 1) + 1
    y = np.clip(fy, 0, 1) * (QUAD_NY - 1) + 1
    edge = np.minimum.reduce([x, y, QUAD_NX - x, QUAD_NY - y])
    return x, y, edge


def random_positions(rng: np.random.Generator, cell: Cell, n: int):
    """Uniform positions on the sphere inside a cell."""
    ra = rng.uniform(cell.ra0, cell.ra1, n) % 360.0
    s0, s1 = np.sin(np.radians(cell.dec0)), np.sin(np.radians(cell.dec1))
    dec = np.degrees(np.arcsin(rng.uniform(s0, s1, n)))
    return ra, dec


def offset_position(ra, dec, dist_arcsec, pa_rad):
    """Move positions by ``dist_arcsec`` at position angle ``pa_rad`` (small offsets)."""
    d = np.asarray(dist_arcsec) / 3600.0
    ddec = d * np.cos(pa_rad)
    dra = d * np.sin(pa_rad) / np.cos(np.radians(dec))
    return np.mod(ra + dra, 360.0), np.clip(dec + ddec, -90, 90)
