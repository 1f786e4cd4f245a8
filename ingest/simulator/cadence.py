"""When the telescope looks: nights, exposures, filters and observing conditions.

A night is a UT date (the name of ZTF's nightly archive, ``ztf_public_YYYYMMDD``)
whose exposures run from about 02:30 to 12:30 UT, as at Palomar.  Each field of
the footprint is visited on a night with a probability set by the cadence and
the weather, usually twice (g then r, like ZTF's public survey), sometimes a
third time, sometimes in i.  Visits are scheduled in blocks across the night;
inside a block the fields follow one another every 40 s (or faster when the
footprint is huge), so that every exposure has its own time, hence its own
``pid`` and increasing ``candid``.  Each exposure gets a seeing, a zero point
and a 5-sigma limiting magnitude that depends on band, seeing and moonlight.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

ZTF_EPOCH = dt.date(2017, 1, 1)           # nid = days since this date
JD_UNIX = 2440587.5                        # JD of 1970-01-01T00:00 UT
NIGHT_START, NIGHT_END = 0.104, 0.521     # UT day fraction (02:30 .. 12:30)
BAND_NAMES = "gri"
MAGLIM = np.array([20.8, 20.6, 20.1])     # median 5-sigma depth in g, r, i (dark, 2" seeing)
MOON_PENALTY = np.array([0.8, 0.5, 0.3])  # mag lost at full moon
ZEROPOINT = np.array([26.32, 26.20, 25.82])
SEEING_MEDIAN = 2.0                        # arcsec


def jd_of_date(d: dt.date) -> float:
    """Julian date of 00:00 UT of a calendar date."""
    return JD_UNIX + (d - dt.date(1970, 1, 1)).days


def date_of_jd(jd: float) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(np.floor(jd - JD_UNIX)))


def moon_illumination(jd):
    """Fraction of the Moon lit (0 new .. 1 full), from the mean synodic month."""
    phase = np.mod((np.asarray(jd) - 2451550.1) / 29.530588853, 1.0)
    return (1 - np.cos(2 * np.pi * phase)) / 2


@dataclass
class Exposures:
    """All exposures of a run, sorted by time (one row per exposure)."""

    jd: np.ndarray        # float64
    night: np.ndarray     # index of the night
    field: np.ndarray     # ZTF field id
    fid: np.ndarray       # 1 g, 2 r, 3 i
    nid: np.ndarray       # ZTF night id
    frac: np.ndarray      # UT day fraction (0..1)
    seeing: np.ndarray    # FWHM, arcsec
    maglim: np.ndarray    # 5-sigma limit before per-quadrant offsets
    magzp: np.ndarray     # photometric zero point (DN)
    by_field: dict        # field id -> indices of its exposures, by time

    def __len__(self) -> int:
        return len(self.jd)


@dataclass
class Nights:
    dates: list
    jd0: np.ndarray       # JD of 00:00 UT of each date

    @classmethod
    def make(cls, start: dt.date, n: int) -> "Nights":
        dates = [start + dt.timedelta(days=i) for i in range(n)]
        return cls(dates, np.array([jd_of_date(d) for d in dates]))

    @property
    def labels(self) -> list[str]:
        return [d.strftime("%Y%m%d") for d in self.dates]


def schedule(fields, nights: Nights, rng: np.random.Generator, cadence: float = 1.0,
             weather: float = 1.0, third_visit: float = 0.25, i_band: float = 0.1) -> Exposures:
    """Plan every exposure of every field over the nights.

    ``cadence``: mean number of nights between visits of a field;
    ``weather``: probability that a night is usable (default: always, so
    that every night has alerts; a field is still skipped 3 % of the time);
    ``third_visit``/``i_band``: probability of an extra r/g visit, of an i visit.
    """
    fields = np.array(sorted(set(int(f) for f in fields)))
    cols = {k: [] for k in ("jd", "night", "field", "fid", "frac", "seeing", "maglim", "magzp")}
    phase = rng.integers(0, max(1, int(round(cadence))), len(fields))
    for n, jd0 in enumerate(nights.jd0):
        good = rng.random() < weather
        night_seeing = SEEING_MEDIAN * np.exp(rng.normal(0, 0.2))
        if cadence <= 1:
            on = rng.random(len(fields)) < 1.0
        else:
            on = ((n + phase) % int(round(cadence))) == 0
        lost = rng.random(len(fields)) >= 0.97         # lost to scheduling/faults
        if (on & ~lost).any():
            on &= ~lost
        if not good:
            continue
        obs = fields[on]
        visits = []  # per field: list of band indices
        for _ in obs:
            v = [0, 1]
            if rng.random() < third_visit:
                v.append(int(rng.integers(0, 2)))
            if rng.random() < i_band:
                v.append(2)
            visits.append(v)
        nblocks = max((len(v) for v in visits), default=0)
        if not nblocks:
            continue
        span = (NIGHT_END - NIGHT_START) / nblocks
        n_in_block = [sum(len(v) > k for v in visits) for k in range(nblocks)]
        step = min(40.0, 0.9 * span * 86400 / max(max(n_in_block), 1)) / 86400
        if step * 86400 < 1.0:
            raise ValueError("footprint too large: more than one exposure per second")
        for k in range(nblocks):
            members = [i for i, v in enumerate(visits) if len(v) > k]
            order = rng.permutation(len(members))
            t0 = NIGHT_START + k * span + rng.uniform(0, 0.1) * span
            for slot, j in enumerate(order):
                i = members[j]
                cols["frac"].append(t0 + slot * step)
                cols["night"].append(n)
                cols["field"].append(obs[i])
                cols["fid"].append(visits[i][k] + 1)
                cols["seeing"].append(np.clip(night_seeing * np.exp(rng.normal(0, 0.08)), 1.1, 4.5))
    frac = np.array(cols["frac"], dtype=float)
    night = np.array(cols["night"], dtype=np.int64)
    fid = np.array(cols["fid"], dtype=np.int64)
    seeing = np.array(cols["seeing"], dtype=float)
    jd = nights.jd0[night] + frac if len(night) else np.zeros(0)
    b = fid - 1
    moon = moon_illumination(jd)
    trans = rng.normal(0, 0.05, len(jd))  # transparency, mag
    maglim = (MAGLIM[b] - 2.5 * np.log10(seeing / SEEING_MEDIAN) - MOON_PENALTY[b] * moon
              - np.abs(trans) + rng.normal(0, 0.08, len(jd)))
    maglim = np.clip(maglim, 18.5, 21.3)
    magzp = ZEROPOINT[b] - np.abs(trans) + rng.normal(0, 0.02, len(jd))
    order = np.argsort(jd, kind="stable")
    field = np.array(cols["field"], dtype=np.int64)[order]
    nid = np.array([(d - ZTF_EPOCH).days for d in nights.dates], dtype=np.int64)[night[order]] \
        if len(night) else np.zeros(0, np.int64)
    exp = Exposures(jd=jd[order], night=night[order], field=field, fid=fid[order], nid=nid,
                    frac=frac[order], seeing=seeing[order], maglim=maglim[order],
                    magzp=magzp[order], by_field={})
    for f in fields:
        exp.by_field[int(f)] = np.flatnonzero(field == f)
    return exp


def quadrant_offsets(rng: np.random.Generator):
    """Per-rcid offsets of the limiting magnitude and zero point (CCD to CCD)."""
    return rng.uniform(-0.15, 0.1, 64), rng.normal(0, 0.03, 64)
