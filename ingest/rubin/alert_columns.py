"""Parquet's alerts staged column-wise: a batch's valid rows keyed and encoded in bulk into
the :class:`~ingest.rubin.alert.RubinAlert` the dict path gives (``RubinPreparer._encode``),
without a dict per packet. The cells are ``ingest.rubin.columns``'s; a row this path cannot
take (it fails a conservative check, or a value or key is refused) is left to the dict path,
which quarantines it with its reason or stores it."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from store.sky import pixels

from ..nights import night_of_mjd
from .alert import RubinAlert, Staged
from .columns import _numbers, alert_cells, as_column, clean_rows, fields, object_cells
from .py_values import py_values
from .readers import LIST_FIELDS, ParquetBatch, list_slices, plain
from .rows import CUTOUTS


def _types(table) -> dict:
    return {f"{f}:{q}": c.type for f, fam in table.layout.spec.families.items() for q, c in fam.columns.items()}


def _take(column: tuple, idx: np.ndarray) -> tuple:
    values, present = column
    if isinstance(values, np.ndarray):
        return values[idx], present[idx]
    return [values[i] for i in idx.tolist()], present[idx]


class ColumnRows:
    """Stages a worker's Parquet batches (one per call of :meth:`stage`)."""

    def __init__(self, builder, tables: dict, order: int):
        self.builder, self.tables, self.order = builder, tables, order
        self.types = {name: _types(t) for name, t in tables.items()}

    def stage(self, item: ParquetBatch):
        """``(row, Staged)`` for the rows of ``item`` this path takes, in order."""
        rows = np.flatnonzero(clean_rows(item.batch))
        if not len(rows):
            return []
        try:
            return self._stage(item, rows)
        except (pa.ArrowException, TypeError, ValueError, KeyError, AttributeError, OverflowError):
            return []  # a shape this path does not take: the dict path reads every row

    def _stage(self, item: ParquetBatch, rows: np.ndarray) -> list:
        batch = item.batch if len(rows) == item.batch.num_rows else item.batch.take(pa.array(rows))
        n, t, b = batch.num_rows, self.tables, self.builder
        cells = alert_cells(batch, b)
        s = fields(batch.column("diaSource"))
        sid = _numbers(s["diaSourceId"]).astype(np.int64)
        oid = _numbers(s["diaObjectId"]).astype(np.int64) if "diaObjectId" in s else np.zeros(n, np.int64)
        ssid = _numbers(s["ssObjectId"]).astype(np.int64) if "ssObjectId" in s else np.zeros(n, np.int64)
        other = fields(batch.column("ssSource")).get("ssObjectId") if "ssSource" in batch.schema.names else None
        if other is not None:  # ``src.ssObjectId or ssSource.ssObjectId``
            ssid = np.where(ssid == 0, _numbers(other).astype(np.int64), ssid)
        mjd = _numbers(s["midpointMjdTai"]).astype(np.float64)
        pix = pixels(_numbers(s["ra"]), _numbers(s["dec"]), self.order)
        bad = np.zeros(n, dtype=bool)
        converted: dict = {}

        def columns(table: str, names, idx: np.ndarray) -> dict:
            types = self.types[table]
            out = {}
            for name in names:
                kind = types[name]  # a cell the table lacks raises: the dict path says why
                got = converted.get((name, kind))
                if got is None:
                    got = converted[(name, kind)] = as_column(cells[name], kind, n)
                out[name] = _take(got, idx)
            return out

        def spread(values: list, errors, idx: np.ndarray) -> list:
            """``values`` of the rows ``idx`` at their places among all ``n`` (None elsewhere);
            the rows named in ``errors`` marked bad."""
            for i in errors:
                bad[idx[i]] = True
            full: list = [None] * n
            for i, v in zip(idx.tolist(), values):
                full[i] = v
            return full

        def encode(table: str, names, idx: np.ndarray) -> list:
            return spread(*t[table].encode_columns(columns(table, names, idx), len(idx)), idx)

        def keys(table: str, idx: np.ndarray, *parts) -> list:
            return spread(*t[table].keys.build_columns(*(p[idx] for p in parts)), idx)

        every = np.arange(n)
        src, sso = np.flatnonzero(oid > 0), np.flatnonzero(oid <= 0)
        payload, key = [None] * n, [None] * n
        for table, idx, first in (("sources", src, oid), ("sso", sso, ssid)):
            if len(idx):
                got, k = encode(table, list(cells), idx), keys(table, idx, first, mjd, sid)
                for i in idx.tolist():
                    payload[i], key[i] = got[i], k[i]
        light = encode("time", [c for c in b.light_cols if c in cells], every)
        time_keys = keys("time", every, mjd, oid, sid)
        pixel_keys = keys("pixel", every, pix, mjd, oid, sid)
        stamps = {f"b:{c}": batch.column(c) for c in CUTOUTS if c in batch.schema.names}
        stamps = {c: a for c, a in stamps.items() if a.null_count < n}
        with_stamps = np.flatnonzero(np.any([a.is_valid().to_numpy(zero_copy_only=False) for a in stamps.values()],
                                            axis=0)) if stamps else np.zeros(0, np.int64)
        cut, cut_keys = [None] * n, [None] * n
        if len(with_stamps):
            cells.update(stamps)
            cut = encode("cutouts", list(stamps), with_stamps)
            cut_keys = keys("cutouts", with_stamps, np.where(oid > 0, oid, ssid), mjd, sid)
        obj, obj_keys = [None] * n, [None] * n
        has_obj = np.flatnonzero((oid > 0) & batch.column("diaObject").is_valid().to_numpy(zero_copy_only=False)) \
            if "diaObject" in batch.schema.names else np.zeros(0, np.int64)
        if len(has_obj):
            types = self.types["objects"]
            got, _ = t["objects"].encode_columns({c: _take(as_column(v, types[c], n), has_obj) for c, v in
                                                  object_cells(batch, b, cells).items()}, len(has_obj))
            for i, p in zip(has_obj.tolist(), got):
                bad[i] |= p is None  # a value out of type: the dict path names it
                obj[i] = p
            obj_keys = keys("objects", has_obj, oid)
        tags = cells["f:tags"]
        names = [c for c in ("r:designation", "r:mpcDesignation") if c in cells]
        designations = [as_column(cells[c], "string", n)[0] for c in names]
        mjd_l, oid_l, sid_l, band = mjd.tolist(), oid.tolist(), sid.tolist(), py_values(s["band"])
        list_columns = {name: batch.column(name) for name in LIST_FIELDS if name in batch.schema.names}
        lists = {name: list_slices(column) for name, column in list_columns.items()}
        out = []
        for j, r in enumerate(rows.tolist()):
            if bad[j]:
                continue
            m, o, i = mjd_l[j], oid_l[j], sid_l[j]
            table = "sources" if o > 0 else "sso"
            writes = [(table, key[j], payload[j]), ("time", time_keys[j], light[j]), ("pixel", pixel_keys[j], light[j])]
            writes += [("tag", t["tag"].keys.build(tag, m, o, i), light[j]) for tag in tags[j]]
            if o <= 0:
                found = dict.fromkeys(d[j] for d in designations)
                writes += [("ssoname", t["ssoname"].keys.build(x, m, i), light[j]) for x in found if x]
            if cut[j] is not None:
                writes.append(("cutouts", cut_keys[j], cut[j]))
            source, index = item.origin(r)
            alert = RubinAlert(night_of_mjd(m), o, i, band[j], writes, source=source, index=index)
            if obj[j] is not None:
                alert.obj = (obj_keys[j], (m, i), obj[j])
            out.append((r, Staged(alert, {name: v[j] for name, v in lists.items()}, m,
                                  lambda r=r: plain(next(item.packets([r]))),
                                  {name: (column, j) for name, column in list_columns.items()})))
        return out
