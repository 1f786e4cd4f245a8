"""A ZTF unit's rows encoded table by table, column-wise (``Table.encode_columns``), instead of
one ``Table.encode`` per row: the same payloads, ~10 rows an alert (main, the shared light row
of the indexes, the sky row, upper limits, bad-quality detections, forced photometry), each of
which cost a dict split, a ``struct.pack`` and a zstd call of its own (issue 22: the ZTF
workers' encoding was a quarter of their CPU).

The rows stay dicts as ``ingest.rows`` builds them; here each table's dicts become columns
(``(values, present)``; a fixed-width column a numpy array when its values are numbers, else a
list, which the store packs row by row as ``encode`` would). A row the store refuses makes its
alert's reason, as the row-by-row path gives it: the first refused row in the order that path
encodes them (main, indexes, sky, upper limits, bad quality, forced photometry).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np

from store.column_types import FIXED, ColumnValueError

from .nights import night_of
from .rows import FORCED, SKY


@dataclass
class Alert:
    """What the writer needs of one valid alert: its encoded rows and its counts."""
    night: str
    object_id: str
    candid: int
    fid: int
    classification: str
    writes: list            # (table, key, payload) of main and the index tables
    upper: list             # (key, payload)
    badquality: list        # (key, payload)
    forced: list = field(default_factory=list)   # (key, payload) of the fp table
    sky: tuple | None = None  # (key, order, payload, full) of the object-level sky index (RowBuilder.sky_row)
    source: str = ""        # the packet's file (and member) and position, for the repeats ledger
    index: int = 0


def dict_columns(rows: list[dict], types: dict) -> dict:
    """``rows`` (column -> value, None for no cell) as ``Table.encode_columns`` takes them:
    full name -> ``(values, present)`` over the rows, names in order of first appearance."""
    names = tuple(rows[0]) if rows else ()
    columns = _one_shape(rows, names)
    if columns is None:
        merged: dict = {}
        for row in rows:
            merged.update(dict.fromkeys(row))
        names = tuple(merged)
        columns = ([row.get(name) for row in rows] for name in names)
    n = len(rows)
    out = {}
    for name, values in zip(names, columns):
        if None in values:
            present = np.array([v is not None for v in values], dtype=bool)
        else:
            present = np.ones(n, dtype=bool)
        out[name] = (_numbers(values, present) if types.get(name) in FIXED else values, present)
    return out


def _one_shape(rows: list[dict], names: tuple):
    """The columns of ``rows`` when every row has exactly ``names`` (the usual unit: one shape),
    transposed in C; None otherwise."""
    if len(names) < 2 or set(map(len, rows)) != {len(names)}:
        return None
    try:
        return list(zip(*map(itemgetter(*names), rows)))  # same size and every name: the same names
    except KeyError:
        return None


def _numbers(values, present: np.ndarray):
    """``values`` as a 1-D numpy array of numbers (absent cells 0), or as they are when they
    are not all numbers (the store then packs, or refuses, each as ``encode`` does)."""
    filled = values if present.all() else [0 if v is None else v for v in values]
    try:
        array = np.array(filled)
    except (ValueError, TypeError, OverflowError):
        return values
    return array if array.ndim == 1 and array.dtype.kind in "fiub" else values


class UnitEncoder:
    """Encodes the :class:`~ingest.rows.AlertRows` of a unit's alerts with the tables of a
    :class:`~ingest.prepare.Preparer` (its ``tables``, ``same`` and ``builder``)."""

    def __init__(self, tables: dict, same: dict, builder):
        self.tables, self.same, self.builder = tables, same, builder
        self.types = {name: {f"{f}:{q}": c.type for f, fam in t.layout.spec.families.items()
                             for q, c in fam.columns.items()} for name, t in tables.items()}

    def encode(self, rows_list: list, pixels: list) -> list:
        """For each alert, ``(Alert, None)`` or ``(None, reason)`` (a value out of its column's type)."""
        n = len(rows_list)
        refused: list = [None] * n
        main = self._payloads("main", [r.main[1] for r in rows_list], range(n), refused)
        index = [self.builder.index_rows(r, p) for r, p in zip(rows_list, pixels)]
        shared: dict = {}  # the tables encoding the same bytes (``same``) share one encoding per row
        light: dict = {}   # target table -> id of a row's cells -> (alert, cells), each row once
        for i, per_table in enumerate(index):
            for table, (_, cells) in per_table.items():
                light.setdefault(self.same[table], {}).setdefault(id(cells), (i, cells))
        for target, rows in light.items():
            entries = list(rows.values())
            got = self._payloads(target, [c for _, c in entries], [i for i, _ in entries], refused)
            for (_, cells), payload in zip(entries, got):
                shared[(target, id(cells))] = payload
        sky = [self.builder.sky_row(r, p) for r, p in zip(rows_list, pixels)]
        with_sky = [i for i, s in enumerate(sky) if s is not None]
        sky_payloads = dict(zip(with_sky, self._payloads(SKY, [sky[i][2] for i in with_sky], with_sky, refused)))
        lists = {name: self._list_payloads(name, [getattr(r, attr) for r in rows_list], refused)
                 for name, attr in (("upper", "upper"), ("uppervalid", "badquality"), (FORCED, "forced"))}
        out = []
        for i, rows in enumerate(rows_list):
            if refused[i] is not None:
                out.append((None, refused[i]))
                continue
            writes = [("main", rows.main[0], main[i])]
            writes += [(table, key, shared[(self.same[table], id(cells))]) for table, (key, cells) in index[i].items()]
            s = sky[i]
            out.append((Alert(night_of(rows.jd), rows.object_id, rows.candid, rows.fid, rows.classification, writes,
                              lists["upper"][i], lists["uppervalid"][i], lists[FORCED][i],
                              sky=None if s is None else (s[0], s[1], sky_payloads[i], s[3])), None))
        return out

    def _list_payloads(self, table: str, per_alert: list, refused: list) -> list:
        """Each alert's ``(key, payload)`` of ``table`` from its list of ``(key, cells)``."""
        owners = [i for i, pairs in enumerate(per_alert) for _ in pairs]
        cells = [c for pairs in per_alert for _, c in pairs]
        payloads = iter(self._payloads(table, cells, owners, refused))
        return [[(key, next(payloads)) for key, _ in pairs] for pairs in per_alert]

    def _payloads(self, table: str, cells: list, owners, refused: list) -> list:
        """The payloads of ``cells`` (rows of ``table``), each of alert ``owners[j]``; a refused
        row's alert gets its reason in ``refused`` (unless it has one already)."""
        if not cells:
            return []
        payloads, errors = self.tables[table].encode_columns(dict_columns(cells, self.types[table]), len(cells))
        if errors:
            owners = list(owners)
            for j in sorted(errors):
                exc = errors[j]
                if not isinstance(exc, ColumnValueError):
                    raise exc  # as the row-by-row path: only a value out of type refuses an alert
                if refused[owners[j]] is None:
                    refused[owners[j]] = f"value out of type: {exc}"
        return payloads
