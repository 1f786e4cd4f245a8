"""A solar-system object's detections with their geometry: for its phase curve and residuals.

ZTF alerts name the nearest known solar-system object (``ssnamenr``) but carry neither its
distances nor its phase angle; Fink asks IMCCE's Miriade for them (online). Offline, the
geometry comes from an ephemerides file the operator places at
``<data_dir>/sso_ephemerides.parquet`` (columns ``ssnamenr, jd, r_au, delta_au, alpha_deg``:
heliocentric and observer distances in au, phase angle in degrees), exported beforehand from
an ephemeris service, or written by the simulator (``ingest.simulator.sso_track``) for its
asteroid. A detection takes the row of its object nearest in time, within ``MATCH_DAYS``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from store import Store

from .solar_system import sso_alerts

EPHEMERIDES_FILE = "sso_ephemerides.parquet"
EPHEMERIS_COLUMNS = ["ssnamenr", "jd", "r_au", "delta_au", "alpha_deg"]
MATCH_DAYS = 1.0 / 1440  # one minute
COLUMNS = ["i:objectId", "i:jd", "i:fid", "i:ra", "i:dec", "i:magpsf", "i:sigmapsf", "i:ssnamenr"]


def ephemerides_path(data_dir: Path) -> Path:
    return Path(data_dir) / EPHEMERIDES_FILE


def observations(store: Store, ssnamenr: str, data_dir: Path) -> pd.DataFrame:
    """The object's detections, oldest first: objectId, jd, fid, ra, dec, magpsf, sigmapsf,
    and r_au, delta_au, alpha_deg (NaN where no ephemeris row matches)."""
    alerts = sso_alerts(store, [ssnamenr], columns=COLUMNS)
    if alerts.empty:
        return pd.DataFrame(columns=[c.split(":")[1] for c in COLUMNS[:-1]] + EPHEMERIS_COLUMNS[2:])
    obs = pd.DataFrame({c.split(":")[1]: alerts[c].to_numpy() for c in COLUMNS[:-1]})
    obs = obs.astype({"jd": float, "ra": float, "dec": float, "magpsf": float, "sigmapsf": float})
    obs = obs.sort_values("jd").reset_index(drop=True)
    eph = read_ephemerides(ephemerides_path(data_dir), set(alerts["i:ssnamenr"].astype(str)))
    for c in EPHEMERIS_COLUMNS[2:]:
        obs[c] = np.nan
    if not eph.empty:
        eph = eph.sort_values("jd")
        t = eph["jd"].to_numpy(float)
        i = np.clip(np.searchsorted(t, obs["jd"].to_numpy()), 1, max(len(t) - 1, 1))
        lo = np.where(np.abs(t[i - 1] - obs["jd"]) <= np.abs(t[np.minimum(i, len(t) - 1)] - obs["jd"]), i - 1, i)
        lo = np.minimum(lo, len(t) - 1)
        near = np.abs(t[lo] - obs["jd"].to_numpy()) <= MATCH_DAYS
        for c in EPHEMERIS_COLUMNS[2:]:
            obs.loc[near, c] = eph[c].to_numpy(float)[lo[near]]
    return obs


def read_ephemerides(path: Path, names: set[str]) -> pd.DataFrame:
    """The rows of ``names`` in the ephemerides file; empty when there is none or it lacks
    a column (a file that cannot be read is ignored rather than failing the page)."""
    if not path.is_file():
        return pd.DataFrame(columns=EPHEMERIS_COLUMNS)
    try:
        eph = pd.read_parquet(path, columns=EPHEMERIS_COLUMNS, filters=[("ssnamenr", "in", sorted(names))])
    except Exception:  # noqa: BLE001 - a damaged or foreign file: no geometry, said on the page
        return pd.DataFrame(columns=EPHEMERIS_COLUMNS)
    return eph.astype({"jd": float, "r_au": float, "delta_au": float, "alpha_deg": float})
