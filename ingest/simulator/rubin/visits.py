"""When Rubin looks: fields, nights and visits (before and during the simulated nights).

The footprint is tiled into square fields of 3.1 deg (Rubin's focal plane),
each cut into 14 x 14 detector cells (189 science detectors, numbered 0-188).
A visit is a 30 s exposure of one field in one band; fields are seen in pairs
of visits about 33 minutes apart (often in two bands), between 00:15 and 09:35
UTC, so a night is one UTC date (its ``dayObs``, the local date of its start,
is the day before).

Two schedules are joined: the simulated nights (a field is visited on a night
with probability ``1 / cadence``), and the ``history`` days before them, where
the survey's usual rhythm applies (a pair every ~3 nights, 15 % of nights
lost to weather, and the field's seasonal gap of about four months), so that
previous sources and forced photometry cover the months before every alert.
Each visit has its own seeing, 5-sigma depth (band, seeing, Moon, clouds) and
an ordinal (its rank in time) from which source ids are made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..cadence import jd_of_date, moon_illumination
from ..sky import Footprint
from . import survey

NIGHT_START, NIGHT_END = 0.0104, 0.40     # UTC day fraction
PAIR_GAP = 33.0 / 1440                    # days between the two visits of a pair
VISIT_STEP = 40.0 / 86400                 # days between consecutive visits (slew + exposure)
HISTORY_CADENCE = 3.0                     # nights between pairs before the run
WEATHER = 0.85


@dataclass
class Fields:
    """Square tiles of the footprint: index -> (ra0, dec0) corner, size."""

    ra0: np.ndarray
    dec0: np.ndarray
    dra: np.ndarray        # width in ra (deg) at the tile's dec
    ddec: float
    footprint: Footprint

    def __len__(self) -> int:
        return len(self.ra0)

    @classmethod
    def tile(cls, fp: Footprint) -> "Fields":
        side = survey.FIELD_SIDE
        n_dec = max(1, int(np.ceil((fp.dec1 - fp.dec0) / side)))
        ddec = (fp.dec1 - fp.dec0) / n_dec
        ra0, dec0, dra = [], [], []
        for k in range(n_dec):
            d0 = fp.dec0 + k * ddec
            width = side / max(np.cos(np.radians(min(abs(d0), abs(d0 + ddec)))), 0.05)
            n_ra = max(1, int(np.ceil((fp.ra1 - fp.ra0) / width)))
            w = (fp.ra1 - fp.ra0) / n_ra
            for j in range(n_ra):
                ra0.append(fp.ra0 + j * w)
                dec0.append(d0)
                dra.append(w)
        return cls(np.array(ra0), np.array(dec0), np.array(dra), ddec, fp)

    def area(self) -> np.ndarray:
        s = np.sin(np.radians(self.dec0 + self.ddec)) - np.sin(np.radians(self.dec0))
        return np.degrees(1) * self.dra * s

    def locate(self, field: np.ndarray, ra: np.ndarray, dec: np.ndarray):
        """(detector, x, y) of positions inside their field."""
        fx = np.mod(ra - self.ra0[field], 360.0) / self.dra[field]
        fy = (dec - self.dec0[field]) / self.ddec
        n = 14
        cx = np.clip((fx * n).astype(np.int64), 0, n - 1)
        cy = np.clip((fy * n).astype(np.int64), 0, n - 1)
        detector = (cy * n + cx) % survey.N_DETECTORS
        x = (fx * n - cx) * (survey.DETECTOR_NX - 1)
        y = (fy * n - cy) * (survey.DETECTOR_NY - 1)
        return detector, x, y


@dataclass
class Visits:
    """Every visit of every field, sorted by time."""

    jd: np.ndarray         # JD (UTC)
    mjd: np.ndarray        # MJD TAI (what alerts carry)
    field: np.ndarray
    band: np.ndarray       # 0..5 for u..y
    night: np.ndarray      # index of the simulated night, -1 before the run
    visit: np.ndarray      # Rubin visit id (dayObs * 100000 + sequence)
    seeing: np.ndarray
    m5: np.ndarray
    by_field: dict

    def __len__(self) -> int:
        return len(self.jd)


def _pair_bands(rng, n):
    first = rng.choice(6, size=n, p=survey.BAND_SHARE)
    step = rng.choice([-1, 0, 1], size=n, p=[0.35, 0.3, 0.35])
    return first, np.clip(first + step, 0, 5)


def schedule(fields: Fields, start: dt.date, nights: int, history: float, cadence: float,
             rng: np.random.Generator) -> Visits:
    """Visits of ``history`` days before ``start`` and of the ``nights`` simulated nights."""
    n_f = len(fields)
    n_hist = int(np.ceil(history))
    jd_start = jd_of_date(start)
    opposition = jd_start + rng.uniform(-50, 50, n_f)  # run nights are in season
    cols = {k: [] for k in ("jd", "field", "band", "night", "date")}
    for k in range(-n_hist, nights):
        jd0 = jd_start + k
        in_run = k >= 0
        p = 1.0 / max(cadence, 1.0) if in_run else 1.0 / HISTORY_CADENCE
        clear = rng.random() < (1.0 if in_run else WEATHER)
        on = (rng.random(n_f) < p) & clear
        if not in_run:
            on &= np.cos(2 * np.pi * (jd0 - opposition) / 365.25) > -0.45
        visited = np.flatnonzero(on)
        if len(visited) == 0:
            continue
        order = rng.permutation(visited)
        b1, b2 = _pair_bands(rng, len(order))
        # a large footprint is covered faster (as if several telescopes), so the night holds it
        night = NIGHT_END - NIGHT_START
        step = min(VISIT_STEP, night / (2 * len(order)))
        if step * 86400 < 1.0:
            raise ValueError("footprint too large: more than one visit per second")
        gap = max(PAIR_GAP, len(order) * step)          # the second pass starts when the first is done
        t0 = NIGHT_START + rng.uniform(0, max(night - (len(order) - 1) * step - gap, 0.0))
        t = t0 + np.arange(len(order)) * step
        for times, bands in ((t, b1), (t + gap, b2)):
            cols["jd"].append(jd0 + times)
            cols["field"].append(order)
            cols["band"].append(bands)
            cols["night"].append(np.full(len(order), k if in_run else -1))
            cols["date"].append(np.full(len(order), k))
    jd = np.concatenate(cols["jd"])
    o = np.argsort(jd, kind="stable")
    jd = jd[o]
    field = np.concatenate(cols["field"])[o].astype(np.int64)
    band = np.concatenate(cols["band"])[o].astype(np.int64)
    night = np.concatenate(cols["night"])[o].astype(np.int64)
    day = np.concatenate(cols["date"])[o]
    # Rubin's visit id: dayObs (the night's local start date) * 1e5 + sequence within the night
    day_obs = np.array([int((start + dt.timedelta(days=int(d) - 1)).strftime("%Y%m%d")) for d in np.unique(day)])
    di = np.searchsorted(np.unique(day), day)
    first_of_day = np.searchsorted(day, np.unique(day))
    seq = np.arange(len(day)) - first_of_day[di] + 1
    visit = day_obs[di].astype(np.int64) * 100000 + seq
    seeing = np.clip(survey.SEEING_MEDIAN * np.exp(rng.normal(0.1, 0.2, len(jd))), 0.5, 2.0)
    moon = moon_illumination(jd)
    m5 = (survey.M5[band] - 2.5 * np.log10(seeing / survey.SEEING_MEDIAN) * 0.8
          - survey.MOON_PENALTY[band] * moon - np.abs(rng.normal(0, 0.08, len(jd))))
    v = Visits(jd, survey.mjd_tai(jd), field, band, night, visit, seeing, m5, {})
    for f in range(n_f):
        v.by_field[f] = np.flatnonzero(field == f)
    return v
