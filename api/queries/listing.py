"""Lists of alerts from the index tables: a class's newest, a time window, a solar-system
object, random draws. Index rows carry light columns; ``full_rows`` completes them from
the main table when a caller wants every column."""
from __future__ import annotations


import numpy as np
import pandas as pd

from science.classification import simbad_type, tns_type
from store import Store

from .budget import check
from .frame import columns_frame, select, to_frame
from .trends import add_rates_and_colour, trend_mask


def full_rows(store: Store, light: list[dict], keep=()) -> list[dict]:
    """The main-table rows (families i and d) of index rows, in the same order."""
    main = store.table("main")
    keys = [main.keys.build(c["i:objectId"], c["i:jd"], c["i:candid"]) for c in light]
    found = dict(main.rows(keys, columns=["i", "d"]))
    out = []
    for key, cells in zip(keys, light):
        row = found.get(key, cells)
        row.update({k: cells[k] for k in keep if k in cells})
        out.append(row)
    return out


def full_frame(store: Store, light: list[dict], keep=()) -> pd.DataFrame:
    """``to_frame(full_rows(store, light, keep))``, read and decoded column-wise (the path
    for hundreds of rows); an index row whose alert is missing falls back to its own cells."""
    if not light:
        return to_frame([])
    main = store.table("main")
    keys = [main.keys.build(c["i:objectId"], c["i:jd"], c["i:candid"]) for c in light]
    batch = main.read(keys=keys, columns=["i", "d"])
    found, data = batch.keys, batch.columns
    if found != keys:
        return to_frame(full_rows(store, light, keep))
    for name in keep:
        data[name] = [c.get(name) for c in light]
    return columns_frame(data)


def class_index(label: str) -> tuple[str, str, bool]:
    """Where a class label's alerts are indexed: ``(table, key part, one alert per object)``.

    Fink's spellings: ``(TNS) <type>`` reads the TNS index (objects with that spectroscopic
    class, latest alert of each, as Fink groups them); ``(SIMBAD) <type>`` and a bare label
    read the class index (the classification rule's label, a SIMBAD type without prefix)."""
    tns = tns_type(label) if label.startswith("(TNS) ") else None
    if tns is not None:
        return "tns", tns, True
    return "class", simbad_type(label) if label.startswith("(SIMBAD) ") else label, False


def latests(store: Store, label: str, n: int = 10, start_jd: float | None = None, stop_jd: float | None = None,
            columns: list[str] | None = None, trend: str | None = None, color: bool = False) -> pd.DataFrame:
    """The ``n`` newest alerts of class ``label`` with jd in [start_jd, stop_jd), newest first.

    :param trend: of those ``n`` alerts, keep the ``rising`` or ``fading`` ones (see
        :func:`trends.trend_mask`), as Fink does: fewer than ``n`` may remain.
    :param color: add Fink's rate and colour columns (:func:`trends.add_rates_and_colour`).
    """
    name, part, grouped = class_index(label)
    table = store.table(name)
    prefix = table.keys.prefix(part)
    start = table.keys.prefix(part, start_jd) if start_jd is not None else prefix
    stop = table.keys.prefix(part, stop_jd) if stop_jd is not None else prefix[:-1] + chr(ord(table.keys.sep) + 1)
    scan = table.scan(row_start=start, row_stop=stop, reverse=True, limit=None if grouped else n,
                      batch_size=min(n, 1000))
    advice = "narrow the date window (startdate, stopdate) or ask for fewer alerts"
    seen: set[str] = set()
    light = []
    for read, (_, cells) in enumerate(scan, 1):
        if read % 1000 == 0:
            check(advice)
        if grouped and cells["i:objectId"] in seen:
            continue
        seen.add(cells["i:objectId"])
        light.append(cells)
        if len(light) == n:
            break
    check(advice)
    df = full_frame(store, light)
    if trend is not None and not df.empty:
        df = df[trend_mask(df, trend)].reset_index(drop=True)
    if color:
        df = add_rates_and_colour(df)
    return select(df, columns)


def anomalies(store: Store, n: int = 10, start_jd: float | None = None, stop_jd: float | None = None,
              columns: list[str] | None = None) -> pd.DataFrame:
    """The ``n`` alerts with the lowest anomaly score (``d:anomaly_score``: lower is more
    anomalous) among those with jd in [start_jd, stop_jd), most anomalous first.

    Reads only the scores of the anomaly index over the window (column-wise), then the ``n``
    alerts kept from the main table."""
    table = store.table("anomaly")
    lo = table.keys.prefix(0.0 if start_jd is None else start_jd)
    hi = table.keys.prefix(9_999_999.0 if stop_jd is None else stop_jd)
    advice = "narrow the date window (start_date, stop_date)"
    check(advice)
    data = table.read(ranges=[(lo, hi)], columns=["d:anomaly_score"], on_batch=lambda: check(advice))
    keys = data.keys
    if not keys:
        return select(to_frame([]), columns)
    score = pd.to_numeric(pd.Series(data["d:anomaly_score"], dtype=object), errors="coerce").to_numpy(float)
    score = np.where(np.isnan(score), np.inf, score)
    order = np.lexsort((np.arange(len(score)), score))[:n]
    light = []
    for i in order.tolist():
        parts = table.keys.parse(keys[i])
        light.append({"i:objectId": parts["objectId"], "i:jd": parts["jd"], "i:candid": parts["candid"]})
    return select(full_frame(store, light), columns)


def time_window(store: Store, start_jd: float, stop_jd: float, n: int = 1000,
                columns: list[str] | None = None) -> pd.DataFrame:
    """Alerts with jd in [start_jd, stop_jd), oldest first, at most ``n``."""
    table = store.table("jd")
    rows = [cells for _, cells in table.scan(row_start=table.keys.prefix(start_jd),
                                             row_stop=table.keys.prefix(stop_jd), limit=n)]
    return select(full_frame(store, rows), columns)


def count_window(store: Store, start_jd: float, stop_jd: float, cap: int) -> int | None:
    """How many alerts have jd in [start_jd, stop_jd) (a keys-only read of the time index);
    None when more than ``cap``, which bounds the read."""
    table = store.table("jd")
    found = table.read(ranges=[(table.keys.prefix(start_jd), table.keys.prefix(stop_jd))], columns=[],
                       limit=cap + 1)
    return None if len(found.keys) > cap else len(found.keys)


def sso(store: Store, names: list[str], columns: list[str] | None = None) -> pd.DataFrame:
    """Every alert of the solar-system objects ``names`` (MPC numbers or designations)."""
    table = store.table("ssnamenr")
    rows = []
    for name in names:
        rows.extend(cells for _, cells in table.scan(row_prefix=table.keys.prefix(name)))
    return select(full_frame(store, rows), columns)
