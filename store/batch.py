"""What the store's one read primitive returns: rows column-wise.

A :class:`ColumnBatch` holds the keys of the rows read and one sequence per column, each as
long as the keys: a numpy array for a fixed-width column (float columns: NaN where a row has
no cell, with a presence mask beside it), else a list with ``None`` where a row has no cell.
Queries that turn many rows into a table use the columns as they are; :meth:`ColumnBatch.rows`
gives the dict per row (``{full name: value}``, only the cells the row has) of the views
``row``/``rows``/``scan``.
"""
from __future__ import annotations

import numpy as np


class ColumnBatch:
    """Rows read from one table, column-wise (see the module's docstring).

    :param raw_keys: the row keys as stored (bytes), decoded on first use of :attr:`keys`.
    :param columns: full column name -> values.
    :param present: for a numpy float column some rows lack, True where a row has the cell
        (NaN alone cannot tell a stored NaN from no cell).
    :param source: instead of ``columns``, what the backend read, decoded on first use:
        ``source.columns()`` gives ``(columns, present)``, ``source.rows()`` the cells per row
        (a backend decodes a few wide rows faster one by one than column by column);
        ``source.order``, if set, sorts a row's cells when dicts are made from the columns.
    """

    __slots__ = ("raw_keys", "_columns", "_present", "_keys", "_source")

    def __init__(self, raw_keys: list[bytes], columns: dict | None = None, present: dict | None = None,
                 source=None):
        self.raw_keys = raw_keys
        self._columns = columns if source is None else None
        self._present = present or {}
        self._source = source
        self._keys = None

    @property
    def keys(self) -> list[str]:
        """The row keys, in the order read."""
        if self._keys is None:
            self._keys = [k.decode("utf-8") for k in self.raw_keys]
        return self._keys

    @property
    def columns(self) -> dict:
        """Full column name -> values (only the columns some row has)."""
        if self._columns is None:
            self._columns, self._present = self._source.columns()
        return self._columns

    @property
    def present(self) -> dict:
        self.columns
        return self._present

    def __len__(self) -> int:
        return len(self.raw_keys)

    def __getitem__(self, name: str):
        """The values of column ``name``; a column no row has reads as all None."""
        values = self.columns.get(name)
        return [None] * len(self.raw_keys) if values is None else values

    def blobs_of(self, family: str) -> list | None:
        """Each row's packed blob of ``family`` (None where a row has none), undecoded, when
        the backend read the rows as such blobs (``store.family_blobs``); else None."""
        of = getattr(self._source, "blobs_of", None)
        return None if of is None else of(family)

    def rows(self) -> list[tuple[str, dict]]:
        """``(key, cells)`` per row, ``cells`` holding only the cells the row has."""
        if self._columns is None:
            return list(zip(self.keys, self._source.rows()))
        order = getattr(self._source, "order", None)
        names = sorted(self._columns, key=order) if order is not None else list(self._columns)
        lists = []
        for name in names:
            values = self._columns[name]
            if isinstance(values, np.ndarray):
                mask = self._present.get(name)
                values = values.tolist()
                if mask is not None:
                    for i in np.flatnonzero(~mask).tolist():
                        values[i] = None
            lists.append(values)
        out = []
        for key, values in zip(self.keys, zip(*lists) if lists else ((),) * len(self.raw_keys)):
            if None in values:
                out.append((key, {n: v for n, v in zip(names, values) if v is not None}))
            else:
                out.append((key, dict(zip(names, values))))
        return out


class RowSource:
    """Rows decoded one by one (a backend that reads row by row), pivoted on demand."""

    def __init__(self, rows: list[dict], order=None):
        self._rows, self._order, self.order = rows, order, order

    def rows(self) -> list[dict]:
        return self._rows

    def columns(self) -> tuple[dict, dict]:
        """None where a row lacks a column; names sorted by ``order`` (default: first seen)."""
        names = list(dict.fromkeys(name for cells in self._rows for name in cells))
        if self._order is not None:
            names.sort(key=self._order)
        return {name: [cells.get(name) for cells in self._rows] for name in names}, {}
