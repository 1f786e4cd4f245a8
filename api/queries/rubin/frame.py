"""Rubin rows → DataFrames shaped as Fink's LSST API serves them.

Fink's LSST API (``format_lsst_hbase_output``) answers every column of the table's schema
when no columns are asked (null where a row lacks the cell), typed by the schema: integers
(nullable ``Int64`` where a column has gaps, int64 otherwise), floats as float64, booleans
as true/false, strings as text; with ``columns``, only those. Rows are sorted by
``r:midpointMjdTai``, newest first, when the table has that column. float32 values are
rounded to 7 significant digits (as the ZTF frames are), so a flux of 1234.5 prints as 1234.5.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from hbase_schema import get_schema
from store.batch import ColumnBatch

from ..frame import round7

TIME = "r:midpointMjdTai"


@lru_cache(maxsize=None)
def column_types(table: str) -> dict[str, str]:
    """Every column of Rubin table ``table``, name -> type, in the schema's order."""
    return {c.name: c.type for c in get_schema("rubin").table(table).columns()}


def unknown_columns(table: str, columns: list[str] | None, extra: tuple = ()) -> list[str]:
    """The names of ``columns`` that ``table`` does not have (nor ``extra`` computed ones)."""
    known = column_types(table)
    return [c for c in columns or () if c not in known and c not in extra]


def families(table: str, columns: list[str] | None) -> list[str]:
    """What to read for ``columns`` (every family of the table for None), with the time
    column when the table has it (rows are sorted by it)."""
    types = column_types(table)
    if columns is None:
        return sorted({name.split(":")[0] for name in types})
    wanted = [c for c in columns if c in types]
    if TIME in types:
        wanted.append(TIME)
    return list(dict.fromkeys(wanted))


def typed(values, kind: str | None, n: int):
    """One column as Fink types it (see the module's docstring); ``values`` None: no row has it."""
    if kind in ("float32", "float64"):
        arr = np.full(n, np.nan) if values is None else np.asarray(
            [np.nan if v is None else v for v in values] if isinstance(values, list) else values, dtype=float)
        return round7(arr) if kind == "float32" else arr
    if kind in ("int32", "int64"):
        if values is None:
            return pd.array([None] * n, dtype="Int64")
        if isinstance(values, np.ndarray):
            values = values.tolist()
        if None not in values:  # a full column stays numpy (fast); JSON and CSV read it the same
            return np.asarray(values, dtype=np.int64)
        return pd.array(values, dtype="Int64")
    if values is None:
        return [None] * n
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def frame(data: ColumnBatch | dict, table: str, columns: list[str] | None, n: int | None = None,
          newest_first: bool = True) -> pd.DataFrame:
    """The DataFrame of ``data`` (a batch read from ``table``, or columns name -> values) with
    ``columns`` (None: every column of the table, in schema order)."""
    cols = data.columns if isinstance(data, ColumnBatch) else data
    n = len(data) if isinstance(data, ColumnBatch) else (n if n is not None else
                                                          len(next(iter(cols.values()), [])))
    if not n:
        return pd.DataFrame()
    types = column_types(table)
    names = list(types) if columns is None else list(dict.fromkeys(columns))
    order = (np.argsort(-np.asarray(typed(cols[TIME], "float64", n)), kind="stable")
             if newest_first and TIME in cols else None)
    out = {}
    for name in names:  # each column put in order before the frame is built (one pass, no copy of the frame)
        values = typed(cols.get(name), types.get(name), n)
        if order is not None:
            values = values[order] if not isinstance(values, list) else [values[i] for i in order.tolist()]
        out[name] = values
    return pd.DataFrame(out, columns=names)


def take_rows(values, idx: np.ndarray):
    """The rows ``idx`` of one column as a read returns it (a numpy array or a list; None
    for a column the read did not find)."""
    if values is None:
        return None
    if isinstance(values, np.ndarray):
        return values[idx]
    return [values[i] for i in idx.tolist()]
