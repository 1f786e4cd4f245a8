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

from ..columns import Columns
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
    """One column as Fink types it (see the module's docstring); ``values`` None: no row has it.
    A float32 column comes as read, in float64: :func:`table_columns` rounds them all at once."""
    if kind in ("float32", "float64"):
        arr = np.full(n, np.nan) if values is None else np.asarray(
            [np.nan if v is None else v for v in values] if isinstance(values, list) else values, dtype=float)
        return arr
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


def table_columns(data: ColumnBatch | dict, table: str, columns: list[str] | None, n: int | None = None,
                  newest_first: bool = True) -> Columns:
    """The typed columns of ``data`` (a batch read from ``table``, or columns name -> values)
    with ``columns`` (None: every column of the table, in schema order), rows newest first;
    what :func:`frame` makes its DataFrame of, and what a route renders as JSON directly."""
    cols = data.columns if isinstance(data, ColumnBatch) else data
    n = len(data) if isinstance(data, ColumnBatch) else (n if n is not None else
                                                          len(next(iter(cols.values()), [])))
    if not n:
        return Columns({}, 0)
    types = column_types(table)
    names = list(types) if columns is None else list(dict.fromkeys(columns))
    order = (np.argsort(-np.asarray(typed(cols[TIME], "float64", n)), kind="stable")
             if newest_first and TIME in cols else None)
    out = {name: typed(cols.get(name), types.get(name), n) for name in names}
    _round_float32(out, [name for name in names if types.get(name) == "float32"], n)
    if order is not None:
        rows = order.tolist()
        for name, values in out.items():
            out[name] = [values[i] for i in rows] if isinstance(values, list) else values[order]
    return Columns(out, n)


def _round_float32(out: dict, names: list[str], n: int) -> None:
    """``round7`` over every float32 column of ``out`` at once (one call on a 2-D array
    instead of one per column: a sources row has ~80 of them)."""
    if not names:
        return
    rounded = round7(np.vstack([out[name] for name in names]).reshape(len(names), n))
    for name, values in zip(names, rounded):
        out[name] = values


def frame(data: ColumnBatch | dict, table: str, columns: list[str] | None, n: int | None = None,
          newest_first: bool = True) -> pd.DataFrame:
    """The DataFrame of ``data`` (see :func:`table_columns`)."""
    return table_columns(data, table, columns, n, newest_first).to_frame()


def take_rows(values, idx: np.ndarray):
    """The rows ``idx`` of one column as a read returns it (a numpy array or a list; None
    for a column the read did not find)."""
    if values is None:
        return None
    if isinstance(values, np.ndarray):
        return values[idx]
    return [values[i] for i in idx.tolist()]
