"""The night an alert is filed under: the UTC date of its observation, as YYYYMMDD."""
from __future__ import annotations

import datetime as dt


def night_of(jd: float) -> str:
    """The night (YYYYMMDD) of an observation: its UTC date, as ZTF's nightly archive names it
    (ZTF observes between about 02:00 and 16:00 UTC, within one UTC date)."""
    return (dt.datetime(2000, 1, 1, 12) + dt.timedelta(days=jd - 2451545.0)).strftime("%Y%m%d")
