"""A query's answer as typed columns in output order, before (or instead of) a DataFrame.

A DataFrame of ~180 columns costs milliseconds to build whatever its number of rows (pandas
checks and blocks every column), and JSON records read back out of it cost as much again.
A route that only renders its rows returns :class:`Columns`; JSON is written from the
columns' Python values directly (:meth:`Columns.records`), the other formats and every
in-process caller take :meth:`Columns.to_frame`. Both give the same values: a column is a
numpy array (float64, int64, bool), a pandas nullable integer array, or a list.
"""
from __future__ import annotations

import pandas as pd


class Columns:
    """Columns ``name -> values`` of ``n`` rows each, in output order."""

    def __init__(self, data: dict[str, object], n: int):
        self.data = data
        self.n = n if data else 0

    @property
    def columns(self) -> list[str]:
        return list(self.data)

    @property
    def empty(self) -> bool:
        return self.n == 0 or not self.data

    def __len__(self) -> int:
        return self.n

    def to_frame(self) -> pd.DataFrame:
        if self.empty:
            return pd.DataFrame()
        return pd.DataFrame(self.data, columns=self.columns)

    def records(self) -> list[dict]:
        """One dict per row, its values Python's (float NaN kept: JSON writes it null;
        ``pd.NA`` for a missing nullable integer), as ``to_frame()``'s rows read."""
        if self.empty:
            return []
        names = self.columns
        lists = [_python_values(values) for values in self.data.values()]
        return [dict(zip(names, row)) for row in zip(*lists)]


def _python_values(values) -> list:
    """A column's values as the frame's ``to_numpy(dtype=object)`` gives them: numpy
    numbers as Python's, ``pd.NA`` kept, an object array's items as they are."""
    return values if isinstance(values, list) else values.tolist()
