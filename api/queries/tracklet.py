"""Alerts of fast-moving-object tracklets (``d:tracklet``, e.g. ``TRCK_20211022_091949_00``).

Fink names a tracklet after its exposure: ``TRCK_`` + the exposure's UTC time (from the
alerts' ``i:jd``, to the second, truncated) + ``_`` + its number in the exposure. So a
tracklet id, or the start of one (a day, an hour, a minute), is a time window: the time
index gives the alerts of that window, and their ``d:tracklet`` says which belong.
"""
from __future__ import annotations

import re

import pandas as pd
from astropy.time import Time

from store import Store

from .budget import check
from .frame import select
from .listing import full_frame

PATTERN = re.compile(r"^TRCK_(\d{4})(\d{2})(\d{2})(?:_(\d{2})(?:(\d{2})(?:(\d{2})(?:_(\d+))?)?)?)?$")
ADVICE = "give a full tracklet id, or a date with the hour (YYYY-MM-DD hh)"


def tracklet_prefix(value: str, is_date: bool) -> str | None:
    """The tracklet id or id prefix that ``value`` asks for (a date is turned into one as
    Fink does: ``2021-10-22 09:19`` -> ``TRCK_20211022_0919``), or None if it is neither."""
    text = value.strip()
    if is_date:
        text = "TRCK_" + text.replace("-", "").replace(":", "").replace(" ", "_").replace("T", "_")
    text = text.upper()
    return text if PATTERN.match(text) else None


def window(prefix: str) -> tuple[float, float]:
    """The JD window ``[start, stop)`` of the exposures whose tracklets start with ``prefix``."""
    y, mo, d, h, mi, s, _ = PATTERN.match(prefix).groups()
    unit = 86400.0 if h is None else 3600.0 if mi is None else 60.0 if s is None else 1.0
    start = Time(f"{y}-{mo}-{d} {h or '00'}:{mi or '00'}:{s or '00'}", scale="utc").jd
    return start, start + unit / 86400.0


def tracklet(store: Store, prefix: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Every alert whose ``d:tracklet`` starts with ``prefix``, oldest first."""
    start, stop = window(prefix)
    index = store.table("jd")
    slack = 1e-6  # keys hold the jd to 7 decimals (8.6 ms): widen the window a little, the names decide
    light = []
    for n, (_, cells) in enumerate(index.scan(row_start=index.keys.prefix(start - slack),
                                              row_stop=index.keys.prefix(stop + slack), columns=["i:objectId", "i:jd", "i:candid"])):
        light.append(cells)
        if n % 5000 == 0:
            check(ADVICE)
    main = store.table("main")
    keys = [main.keys.build(c["i:objectId"], c["i:jd"], c["i:candid"]) for c in light]
    names = {}
    for lo in range(0, len(keys), 5000):
        check(ADVICE)
        names.update((k, c.get("d:tracklet") or "") for k, c in main.rows(keys[lo:lo + 5000], columns=["d:tracklet"]))
    chosen = [c for k, c in zip(keys, light) if names.get(k, "").upper().startswith(prefix)]
    return select(full_frame(store, chosen), columns)
