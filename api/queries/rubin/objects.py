"""An object's rows: its newest diaObject (objects), every diaSource (sources), every forced
source (fp) — each one prefix read per object, as Fink's LSST routes read them."""
from __future__ import annotations

import pandas as pd

from store import Store

from ..budget import check
from ..columns import Columns
from .frame import families, table_columns

ADVICE = "ask for fewer objects at once"


def object_ids(values: list[str]) -> tuple[list[int], list[str]]:
    """``(ids, refused)``: the values that are diaObjectIds (integers of 64 bits), in order, once;
    and the others (Fink answers them with nothing)."""
    ids, refused = [], []
    for value in values:
        text = str(value).strip()
        if text.isdigit() and int(text) < 2**64:
            ids.append(int(text))
        else:
            refused.append(text)
    return list(dict.fromkeys(ids)), refused


def objects(store: Store, ids: list[int], columns: list[str] | None = None) -> pd.DataFrame:
    """The newest diaObject of each of ``ids`` (those held)."""
    return objects_columns(store, ids, columns).to_frame()


def objects_columns(store: Store, ids: list[int], columns: list[str] | None = None) -> Columns:
    """:func:`objects`' rows as typed columns (what the route renders)."""
    table = store.table("objects")
    batch = table.read(keys=[table.keys.build(i) for i in ids], columns=families("objects", columns))
    return table_columns(batch, "objects", columns)


def history(store: Store, table_name: str, ids: list[int], columns: list[str] | None = None,
            mjd: float | None = None) -> pd.DataFrame:
    """Every row of ``ids`` in ``sources`` or ``fp`` (only those at ``mjd``, to the key's
    1e-7 day, when given), newest first; ``fp``'s forced sources are read from their blocks
    (``store.records``) as rows."""
    return history_columns(store, table_name, ids, columns, mjd).to_frame()


def history_columns(store: Store, table_name: str, ids: list[int], columns: list[str] | None = None,
                    mjd: float | None = None) -> Columns:
    """:func:`history`'s rows as typed columns (what the routes render)."""
    table = store.table(table_name)
    check(ADVICE)
    wanted, budget = families(table_name, columns), (lambda: check(ADVICE))
    if table.records is not None:
        batch = table.records.read([(i,) if mjd is None else (i, mjd) for i in ids], wanted, on_batch=budget)
    else:
        spans = [table.keys.span(i) if mjd is None else table.keys.span(i, mjd) for i in ids]
        batch = table.read(ranges=spans, columns=wanted, on_batch=budget)
    return table_columns(batch, table_name, columns)
