"""Nightly statistics, the known classes and the schema, for the API and the portal."""
from __future__ import annotations

import pandas as pd

from hbase_schema import get_schema
from science.classification import FINK_CLASSES, TNS_TYPES, simbad_type
from store import Store

from .frame import ROUTE_COLUMNS, V_COLUMNS

# Fink's top-level keys (/api/v1/classes and /api/v1/schema): scripts index the answers by them.
FINK_GROUP = "Fink classifiers"
TNS_GROUP = "Cross-match with TNS"
SIMBAD_GROUP = "Cross-match with SIMBAD (see http://simbad.u-strasbg.fr/simbad/sim-display?data=otypes)"
SCHEMA_GROUPS = {"i": "ZTF original fields (i:)", "b": "ZTF original cutouts (b:)",
                 "d": "Fink science module outputs (d:)", "v": "Fink on-the-fly added values (v:)"}
#: the older science portal's name of the v: group (/api/v1/columns, under "fields")
OLD_V_GROUP = "Fink added values (v:)"
#: computed columns of some routes only (full names): apart, so that each family group
#: lists what objects answers, as Fink's schema test checks (no family marker in this name)
ROUTE_GROUP = "Columns added by some routes only"


#: what Fink's statistics rows always carry, whatever columns were asked: the row key and
#: its write time (HBase's cell time, ms since 1970; ours is when the night's ingest finished)
KEY_COLUMNS = ["key:key", "key:time"]


def statistics(store: Store, date: str = "", columns: list[str] | None = None) -> pd.DataFrame:
    """One row per ingested night whose YYYYMMDD starts with ``date`` (all when empty);
    ``columns``: those of them the rows have, plus :data:`KEY_COLUMNS`, as Fink answers."""
    table = store.table("statistics")
    rows = []
    for key, cells in table.scan(row_prefix=f"{table.keys.prefix(store.prefix)}{date}"):
        cells["key:key"] = key
        cells["key:time"] = _unix_ms(cells.get("basic:finished"))
        rows.append(cells)
    df = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=KEY_COLUMNS)
    class_cols = sorted(c for c in df.columns if c.startswith("class:"))
    if class_cols:
        df[class_cols] = df[class_cols].fillna(0).astype("int64")
    if columns is not None:
        df = df[[c for c in dict.fromkeys(KEY_COLUMNS + columns) if c in df.columns]]
    return df


def _unix_ms(iso: str | None) -> int | None:
    """Milliseconds since 1970 of an ISO 8601 UTC time; None when absent or unreadable."""
    try:
        return int(pd.Timestamp(iso).timestamp() * 1000) if iso else None
    except ValueError:
        return None


def statistics_schema(store: Store) -> pd.DataFrame:
    """The statistics table's column names, one row each (Fink's ``schema=True``): the
    declared ``basic:`` columns and a ``class:<label>`` column per label counted so far."""
    table = store.table("statistics")
    basic = [c.name for c in get_schema().table("statistics").columns() if c.family == "basic"]
    seen: set[str] = set()
    for _, cells in table.scan(columns=["class"]):
        seen.update(cells)
    return pd.DataFrame({"schema": [*KEY_COLUMNS, *basic, *sorted(seen)]})


def known_classes(store: Store) -> dict[str, list[str]]:
    """Class labels as Fink groups and spells them: Fink's classes; every TNS type as
    ``(TNS) <type>``; the SIMBAD types seen in the nightly statistics as ``(SIMBAD) <type>``.
    Each of these labels is accepted by latests and random."""
    seen: set[str] = set()
    table = store.table("statistics")
    for _, cells in table.scan(columns=["class"]):
        seen.update(c.split(":", 1)[1] for c in cells)
    tns = {f"(TNS) {t}" for t in TNS_TYPES} | {c for c in seen if c.startswith("(TNS) ")}
    simbad = {f"(SIMBAD) {simbad_type(c)}" for c in seen if c not in FINK_CLASSES and not c.startswith("(TNS) ")}
    by_name = str.lower
    return {FINK_GROUP: sorted(FINK_CLASSES, key=by_name), TNS_GROUP: sorted(tns, key=by_name),
            SIMBAD_GROUP: sorted(simbad, key=by_name)}


def schema_columns() -> dict[str, dict[str, dict]]:
    """Every column, grouped under Fink's keys (``"ZTF original fields (i:)"``...) and named
    without the family prefix, as Fink's /api/v1/schema: ``{"type", "doc"}`` per column
    (plus ``description``, the same text, for older Nocturne clients). Each family group
    lists the columns objects answers; the columns only other routes add (such as
    ``v:separation_degree``) are under ``ROUTE_GROUP``, by full name, with their routes."""
    main = get_schema().table("main")
    groups: dict[str, dict[str, dict]] = {label: {} for label in SCHEMA_GROUPS.values()}
    for family in main.families.values():
        group = groups[SCHEMA_GROUPS[family.name]]
        for c in family.columns.values():
            group[c.qualifier] = _entry(c.type, c.description)
    routes: dict[str, dict] = {}
    for name, (type_, text) in V_COLUMNS.items():
        family, bare = name.split(":", 1)
        if name in ROUTE_COLUMNS:
            routes[name] = _entry(type_, f"{text}. Given by: {ROUTE_COLUMNS[name]}")
        else:
            groups[SCHEMA_GROUPS[family]][bare] = _entry(type_, text)
    known = {c.name for c in main.columns()}
    for c in get_schema().table("fp").columns():  # forced photometry: /api/v1/fp, objects with withfp
        if c.name not in known:
            routes[c.name] = _entry(c.type, f"{c.description}. Given by: fp, objects with withfp")
    groups[ROUTE_GROUP] = routes
    return groups


def old_columns() -> dict:
    """The older science portal's /api/v1/columns answer: the schema under ``"fields"``,
    its v: group under that portal's name."""
    groups = schema_columns()
    return {"fields": {OLD_V_GROUP if label == SCHEMA_GROUPS["v"] else label: group
                       for label, group in groups.items()}}


def _entry(type_: str, text: str) -> dict:
    return {"type": type_, "doc": text, "description": text}


def nightly_counts(store: Store) -> pd.DataFrame:
    """Every ingested night, oldest first: ``night`` (a date), ``alerts`` (stored), ``objects``
    and ``received``, with their running totals ``cumulative_alerts`` and
    ``cumulative_received`` (the objects of different nights overlap: no running total)."""
    stats = statistics(store, columns=["basic:sci", "basic:raw", "basic:n_objects"])
    out = pd.DataFrame({"night": pd.to_datetime(stats["key:key"].astype(str).str.rsplit("_", n=1).str[-1],
                                                format="%Y%m%d", errors="coerce")})
    for name, column in (("alerts", "basic:sci"), ("received", "basic:raw"), ("objects", "basic:n_objects")):
        out[name] = pd.to_numeric(stats[column], errors="coerce").fillna(0).astype("int64") \
            if column in stats else pd.Series(0, index=out.index, dtype="int64")
    out = out.dropna(subset=["night"]).sort_values("night").reset_index(drop=True)
    out["cumulative_alerts"] = out["alerts"].cumsum()
    out["cumulative_received"] = out["received"].cumsum()
    return out
