"""Alerts of given objects: the light curve, optionally with upper limits and cutouts."""
from __future__ import annotations

import numpy as np
import pandas as pd

from hbase_schema import get_schema
from store import Store
from store.base import pivot

from .budget import check
from .cutouts import decode_or_none
from .frame import columns_frame, concat_columns, select
from .trends import COLOUR_COLUMNS, add_rates_and_colour

CUTOUT_KINDS = ("Science", "Template", "Difference")


def alert_rows(store: Store, object_id: str, families=("i", "d")) -> list[dict]:
    """Every stored alert of ``object_id``, oldest first, as row dicts."""
    main = store.table("main")
    return [cells for _, cells in main.scan(row_prefix=main.keys.prefix(object_id), columns=list(families))]


def objects(store: Store, object_ids: list[str], columns: list[str] | None = None,
            withupperlim: bool = False, withcutouts: bool = False,
            cutout_kind: str = "Science", newest_first: bool = False, as_fink: bool = False,
            withfp: bool = False) -> pd.DataFrame:
    """Every alert of each object (in the order asked), sorted by time within an object;
    ``newest_first``: all rows newest first, whatever their object, as Fink's API answers
    (its clients take ``[-1]`` as the first detection).

    :param withupperlim: add the object's upper limits (``d:tag`` = upperlim, ``i:candid``
        = -1) and bad-quality detections (``d:tag`` = badquality) not also stored as alerts.
    :param withfp: add the object's forced-photometry points (the fp table: ``d:tag`` =
        forcedphot, ``i:candid`` = -1, with their ``i:forcediffimflux``... and ``d:flux``,
        ``d:mag``... columns); a store made before that table raises ``TableMissing``.
    :param withcutouts: add ``b:cutout<Kind>_stampData`` as 2-D arrays (``All``: the three).
    :param as_fink: the answer of Fink's objects route: Fink's rate and colour columns
        (:func:`trends.add_rates_and_colour`, on the valid alerts) and, when every column is
        asked for, every stored column of the i: and d: families (null where an alert lacks
        it), so that /api/v1/schema lists exactly what the answer holds.
    """
    parts = []  # column-wise pieces, one or two per object
    kinds = CUTOUT_KINDS if cutout_kind == "All" else (cutout_kind,)
    main = store.table("main")
    for oid in object_ids:
        check("ask for fewer objects per request, or leave out cutouts and upper limits")
        if withcutouts:
            alerts = alert_rows(store, oid, ("i", "d", "b"))
            for cells in alerts:
                for kind in CUTOUT_KINDS:
                    name = f"b:cutout{kind}_stampData"
                    blob = cells.pop(name, None)
                    if kind in kinds:
                        image = decode_or_none(blob)  # a damaged stamp is absent, not an error
                        cells[name] = None if image is None else image.tolist()
            n, data = len(alerts), pivot(alerts)
        else:
            batch = main.read(ranges=[main.keys.span(oid)], columns=["i", "d"])
            n, data = len(batch), batch.columns
        data["d:tag"] = ["valid"] * n
        parts.append((n, data))
        if withupperlim:
            candids = data.get("i:candid", [])
            history = _history(store, oid, set(np.asarray(data.get("i:jd", []), dtype=float).tolist()),
                               set(candids.tolist() if isinstance(candids, np.ndarray) else candids))
            parts.append((len(history), pivot(history)))
        if withfp:
            parts.append(_forced(store, oid))
    df = columns_frame(concat_columns(parts))
    if as_fink and not df.empty:
        df = fink_columns(df, every_column=columns is None)
    if not df.empty and newest_first:
        df = df.sort_values(["i:jd"], ascending=False, kind="stable").reset_index(drop=True)
    elif not df.empty:
        df = df.sort_values(["i:jd"], kind="stable")
        if len(object_ids) > 1:
            order = {oid: i for i, oid in enumerate(object_ids)}
            df = df.sort_values("i:objectId", key=lambda s: s.map(order), kind="stable")
        df = df.reset_index(drop=True)
    if columns is not None:  # as in Fink, what was asked for is added to the columns chosen
        columns = columns + [f"b:cutout{k}_stampData" for k in kinds if withcutouts] + (["d:tag"] if withupperlim or withfp else [])
    return select(df, columns)


def fink_columns(df: pd.DataFrame, every_column: bool) -> pd.DataFrame:
    """``df`` with Fink's rate and colour columns computed on its valid alerts (NaN on
    upper limits and bad-quality rows) and, ``every_column``, each i: and d: column of the
    main table it lacks, null."""
    valid = (df["d:tag"] == "valid").to_numpy() if "d:tag" in df else np.ones(len(df), dtype=bool)
    coloured = add_rates_and_colour(df[valid])
    out = df.copy()
    for name in COLOUR_COLUMNS:
        values = np.full(len(df), np.nan)
        values[valid] = coloured[name].to_numpy(float)
        out[name] = values
    if every_column:
        missing = [c.name for c in get_schema().table("main").columns()
                   if c.family in ("i", "d") and c.name not in out.columns]
        if missing:
            out = pd.concat([out, pd.DataFrame({name: [None] * len(out) for name in missing}, index=out.index)],
                            axis=1)
    return out


def _forced(store: Store, object_id: str) -> tuple[int, dict]:
    fp = store.table("fp")
    batch = fp.read(ranges=[fp.keys.span(object_id)], columns=["i", "d"])
    data = dict(batch.columns)
    n = len(batch)
    data["d:tag"] = ["forcedphot"] * n
    data["i:candid"] = [-1] * n
    return n, data


def _history(store: Store, object_id: str, alert_jds: set, alert_candids: set) -> list[dict]:
    out = []
    upper = store.table("upper")
    for _, cells in upper.scan(row_prefix=upper.keys.prefix(object_id)):
        cells.update({"d:tag": "upperlim", "i:candid": -1})
        out.append(cells)
    bad = store.table("uppervalid")
    rounded = {round(j, 6) for j in alert_jds}
    for _, cells in bad.scan(row_prefix=bad.keys.prefix(object_id)):
        # a valid alert at the same time, or the same detection, wins
        if round(cells["i:jd"], 6) not in rounded and cells.get("i:candid") not in alert_candids:
            cells["d:tag"] = "badquality"
            out.append(cells)
    return out


def object_ids_starting_with(store: Store, prefix: str, limit: int = 10) -> list[str]:
    """Distinct objectIds beginning with ``prefix`` (for completion as you type)."""
    main = store.table("main")
    found: list[str] = []
    start = prefix
    while len(found) < limit:
        row = next(main.scan(row_start=start, columns=["i:objectId"], limit=1), None)
        if row is None or not row[0].startswith(prefix):
            break
        oid = main.keys.parse(row[0])["objectId"]
        found.append(oid)
        start = main.keys.prefix(oid)[:-1] + chr(ord(main.keys.sep) + 1)
    return found
