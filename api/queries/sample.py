"""Alerts drawn at random (``/api/v1/random``), each stored alert about as likely as any other.

A draw first picks a night, weighted by the alerts the night's statistics row counts (of
the class, if one is asked for), then a time uniformly between the night's first and last
alert, then the exposure at or after it (the alerts sharing its jd, up to 2,000) and one of
its alerts not drawn yet, uniformly (wrapping round to the next alerts when all are drawn).
Exposures follow each other through the night, so this is close to a uniform draw over
alerts (an exposure with many alerts is a little under-weighted), at the cost of a few
short scans per draw whatever the store's size.
Where no statistics row counts the alerts (an index with no per-night count, such as the
TNS types, or a store written without the ingest), the night is found by a time drawn
uniformly over the whole span instead, which favours the nights that follow long gaps.
"""
from __future__ import annotations

import datetime as dt
import random as _random

import pandas as pd

from store import Store

from .frame import select, to_frame
from .listing import class_index, full_frame

JD_2000 = 2451544.5  # 2000-01-01 00:00 UTC
EXPOSURE_ROWS = 2000  # alerts of one exposure read to draw one of them


def random_alerts(store: Store, n: int, seed: int | None = None, label: str | None = None,
                  columns: list[str] | None = None) -> pd.DataFrame:
    """``n`` distinct alerts drawn at random: the same ones for the same seed and store,
    others at each call without a seed (see the module's docstring)."""
    if label is not None:
        name, part, _ = class_index(label)
        table, parts = store.table(name), (part,)
        counted = f"class:{part}" if name == "class" else None
    else:
        table, parts, counted = store.table("jd"), (), "basic:sci"
    lo = table.keys.prefix(*parts) if parts else None
    hi = lo[:-1] + chr(ord(table.keys.sep) + 1) if lo else None
    first = _first_jd(table, lo, hi)
    if first is None:
        return to_frame([])
    last = _first_jd(table, lo, hi, reverse=True)
    nights = _night_weights(store, counted) if counted else []
    rng = _random.Random(seed) if seed is not None else _random.SystemRandom()
    picked: dict[str, dict] = {}
    for _ in range(n):
        span = _night_span(table, parts, rng.choices(*zip(*nights))[0]) if nights else None
        if span is None:  # a time over the whole span, then one in the day after where it lands
            landed = _first_jd(table, table.keys.prefix(*parts, rng.uniform(first, last)), hi)
            span = (landed, min(landed + 1.0, last)) if landed is not None else (first, last)
            night_lo = lo
        else:
            night_lo = table.keys.prefix(*parts, span[0])
        start = table.keys.prefix(*parts, rng.uniform(*span))
        # the exposure at or after the drawn time (alerts of one exposure share their jd), then
        # one of its alerts not drawn yet; else the next alert not drawn, wrapping round
        landed = _first_jd(table, start, hi)
        same = [] if landed is None else [
            r for r in table.scan(row_prefix=table.keys.prefix(*parts, landed), limit=EXPOSURE_ROWS)
            if r[0] not in picked]
        if same:
            key, cells = rng.choice(same)
            picked[key] = cells
            continue
        candidates = [*table.scan(row_start=start, row_stop=hi, limit=n + 1),
                      *table.scan(row_start=night_lo, row_stop=hi, limit=n + 1),
                      *table.scan(row_start=lo, row_stop=hi, limit=n + 1)]
        row = next((r for r in candidates if r[0] not in picked), None)
        if row is None:
            break
        picked[row[0]] = row[1]
    rows = [picked[k] for k in sorted(picked)]
    return select(full_frame(store, rows), columns)


def _first_jd(table, lo, hi, reverse: bool = False) -> float | None:
    row = next(table.scan(row_start=lo, row_stop=hi, columns=["i:jd"], limit=1, reverse=reverse), None)
    return None if row is None else row[1]["i:jd"]


def _night_weights(store: Store, column: str) -> list[tuple[str, int]]:
    """``(YYYYMMDD, alerts)`` of every night whose statistics row counts some in ``column``."""
    stats = store.table("statistics")
    out = []
    for key, cells in stats.scan(columns=[column]):
        count = cells.get(column) or 0
        night = key.rsplit("_", 1)[-1]
        if count > 0 and len(night) == 8 and night.isdigit():
            out.append((night, int(count)))
    return out


def _night_span(table, parts: tuple, night: str) -> tuple[float, float] | None:
    """JDs of the first and last alert of ``night`` (its UTC date) in ``table``; None if none."""
    day = (dt.date(int(night[:4]), int(night[4:6]), int(night[6:])) - dt.date(2000, 1, 1)).days
    lo, hi = table.keys.prefix(*parts, JD_2000 + day), table.keys.prefix(*parts, JD_2000 + day + 1)
    first = _first_jd(table, lo, hi)
    return None if first is None else (first, _first_jd(table, lo, hi, reverse=True))
