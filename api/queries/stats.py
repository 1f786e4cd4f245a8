"""Nightly statistics, the known classes and the schema, for the API and the portal."""
from __future__ import annotations

import pandas as pd

from hbase_schema import get_schema
from science.classification import FINK_CLASSES, simbad_type
from store import Store

from .frame import V_COLUMNS


def statistics(store: Store, date: str = "", columns: list[str] | None = None) -> pd.DataFrame:
    """One row per ingested night whose YYYYMMDD starts with ``date`` (all when empty)."""
    table = store.table("statistics")
    rows = []
    for key, cells in table.scan(row_prefix=f"{table.keys.prefix(store.prefix)}{date}"):
        cells["key:key"] = key
        rows.append(cells)
    df = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=["key:key"])
    class_cols = sorted(c for c in df.columns if c.startswith("class:"))
    if class_cols:
        df[class_cols] = df[class_cols].fillna(0).astype("int64")
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    return df


def known_classes(store: Store) -> dict[str, list[str]]:
    """Class labels grouped as Fink groups them: Fink's own, SIMBAD types, TNS types seen."""
    seen: set[str] = set()
    table = store.table("statistics")
    for _, cells in table.scan(columns=["class"]):
        seen.update(c.split(":", 1)[1] for c in cells)
    simbad = sorted(simbad_type(c) for c in seen if c not in FINK_CLASSES and not c.startswith("(TNS) "))
    tns = sorted(c for c in seen if c.startswith("(TNS) "))
    return {"Fink classifiers": list(FINK_CLASSES), "Cross-match with SIMBAD": simbad,
            "Cross-match with TNS": tns}


def schema_columns() -> dict[str, dict[str, dict]]:
    """Every column of the main table and the computed ones, grouped by family."""
    main = get_schema().table("main")
    groups = {}
    for family in main.families.values():
        groups[f"{family.name}: {family.description}"] = {
            c.name: {"type": c.type, "description": c.description} for c in family.columns.values()}
    groups["v: computed at query time"] = {k: {"type": t, "description": d} for k, (t, d) in V_COLUMNS.items()}
    return groups
