"""The SDSS Stripe 82 RR Lyrae of Sesar et al. (2010), read from the shared data folder.

``<root>/sdss-s82-rrlyrae/periods.dat`` holds the catalogue (id, type, period in days, then
per band amplitude, mean magnitude, epoch, template); ``lightcurves/<id>.dat`` one row per
epoch: ra, dec, then ``mjd mag err`` for each of u g r i z. A point whose magnitude or error
is a sentinel (-99.99, 99, or an error of 0) is left out. Times are MJD.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

BANDS = ("u", "g", "r", "i", "z")


@dataclass
class Star:
    """One star: its id, type (ab or c), catalogue period (days) and light curve."""

    id: int
    kind: str
    period: float
    mjd: np.ndarray
    mag: np.ndarray
    err: np.ndarray
    band: np.ndarray


def catalogue(root: Path) -> list[tuple[int, str, float]]:
    """(id, type, period) of every star in ``periods.dat``."""
    rows = []
    for line in (Path(root) / "sdss-s82-rrlyrae" / "periods.dat").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            parts = line.split()
            rows.append((int(parts[0]), parts[1], float(parts[2])))
    return rows


def load(root: Path, ids=None) -> list[Star]:
    """The stars of the catalogue (those in ``ids`` when given), in catalogue order."""
    wanted = None if ids is None else set(ids)
    stars = []
    for sid, kind, period in catalogue(root):
        if wanted is not None and sid not in wanted:
            continue
        table = np.loadtxt(Path(root) / "sdss-s82-rrlyrae" / "lightcurves" / f"{sid}.dat", ndmin=2)
        mjd, mag, err, band = [], [], [], []
        for k, b in enumerate(BANDS):
            t, m, e = table[:, 2 + 3 * k], table[:, 3 + 3 * k], table[:, 4 + 3 * k]
            ok = (m > 0) & (m < 40) & (e > 0) & (e < 5) & np.isfinite(t) & (t > 0)
            mjd.append(t[ok]), mag.append(m[ok]), err.append(e[ok]), band.append(np.full(int(ok.sum()), b))
        stars.append(Star(sid, kind, period, *(np.concatenate(x) for x in (mjd, mag, err, band))))
    return stars
