"""Alerts as an Arrow table in the layout of Fink's Parquet archive.

One row per alert: the ZTF top-level fields, ``candidate`` as a struct and
``prv_candidates`` as a list of structs (fields sorted alphabetically, floats
as double, nullable integers of ``prv_candidates`` as double, as pandas
writes them), the three cutouts as structs, then Fink's added values
(``schema.parquet_schema()`` is the exact column list).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .assemble import PUBLISHER, cutout_names
from .schema import SCHEMA_VERSION, parquet_schema

SCHEMA = parquet_schema()


def _arr(values, typ: pa.DataType, n: int, mask=None) -> pa.Array:
    if values is None:
        return pa.nulls(n, typ)
    v = np.asarray(values)
    if v.ndim == 0:
        v = np.full(n, v.item() if not isinstance(values, (bytes, str)) else values, dtype=object)
    if v.dtype.kind == "S":
        v = v.astype(str)
    if pa.types.is_floating(typ) and v.dtype.kind in "iu":
        v = v.astype(np.float64)  # as pandas stores nullable integers (lossy for candid)
    if pa.types.is_floating(typ) and v.dtype.kind == "f" and mask is None:
        mask = np.isnan(v)
        if not mask.any():
            mask = None
    return pa.array(v, type=typ, mask=mask, from_pandas=False)


def _struct(typ: pa.StructType, cols: dict, n: int, mask_of=None) -> pa.StructArray:
    arrays = []
    for f in typ:
        m = mask_of(f.name) if mask_of else None
        arrays.append(_arr(cols.get(f.name), f.type, n, m))
    return pa.StructArray.from_arrays(arrays, fields=list(typ))


def table(alerts, fink_cols: dict, stamps=None) -> pa.Table:
    n = alerts.n
    c = alerts.cand
    cols = {}
    cols["candid"] = _arr(c["candid"], pa.int64(), n)
    cols["schemavsn"] = _arr(SCHEMA_VERSION, pa.string(), n)
    cols["publisher"] = _arr(PUBLISHER, pa.string(), n)
    cols["objectId"] = _arr(alerts.objectId.astype(str), pa.string(), n)
    cols["candidate"] = _struct(SCHEMA.field("candidate").type, c, n)
    # prv_candidates: rows [lo, row) of each alert
    counts = alerts.rows - alerts.lo
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    sel = np.repeat(alerts.lo - offsets[:-1], counts) + np.arange(offsets[-1])
    a = alerts.alert_of_row[sel]
    isdet = a >= 0
    ai = np.maximum(a, 0)
    ei = alerts.eq_of_row[sel]
    eq = dict(alerts.eq)
    eq["pdiffimfilename"] = eq["prv_pdiffimfilename"]
    prv_type = SCHEMA.field("prv_candidates").type.value_type
    prv = {}
    for f in prv_type:
        d = alerts.prv_det.get(f.name)
        dv = None if d is None else (np.asarray(d)[ai] if np.ndim(d) else d)
        if f.name in eq or f.name in ("programpi", "programid", "rbversion"):
            ev = eq[f.name][ei] if f.name in eq else dv
            prv[f.name] = np.where(isdet, dv, ev) if np.ndim(dv) else ev
        else:
            prv[f.name] = (dv, ~isdet)
    n_items = len(sel)
    values = _struct(prv_type, {k: (v[0] if isinstance(v, tuple) else v) for k, v in prv.items()},
                     n_items, mask_of=lambda k: prv[k][1] if isinstance(prv[k], tuple) else None)
    cols["prv_candidates"] = pa.ListArray.from_arrays(pa.array(offsets), values)
    cut_t = SCHEMA.field("cutoutScience").type
    for j, name in enumerate(("cutoutScience", "cutoutTemplate", "cutoutDifference")):
        if stamps is None:
            cols[name] = pa.nulls(n, cut_t)
        else:
            names = [cutout_names(cd, p)[j] for cd, p in zip(c["candid"].tolist(), c["pid"].tolist())]
            cols[name] = pa.StructArray.from_arrays(
                [pa.array(names, pa.string()), pa.array([s[j] for s in stamps], pa.binary())],
                fields=list(cut_t))
    for f in SCHEMA:
        if f.name in cols:
            continue
        v = fink_cols.get(f.name)
        if pa.types.is_struct(f.type):
            if f.name == "mangrove":
                cols[f.name] = _struct(f.type, {k: "None" for k in (x.name for x in f.type)}, n)
            else:
                cols[f.name] = _struct(f.type, v, n)
        elif f.name == "cmagpsf":
            mags = np.where(isdet, np.asarray(c["magpsf"], float)[ai], np.nan)
            allm = np.empty(offsets[-1] + n)
            pos_prv = np.arange(len(sel)) + np.repeat(np.arange(n), counts)
            allm[pos_prv] = mags
            cur = offsets[1:] + np.arange(n)
            allm[cur] = c["magpsf"]
            off2 = offsets + np.arange(n + 1)
            cols[f.name] = pa.ListArray.from_arrays(pa.array(off2.astype(np.int32)),
                                                    pa.array(allm, pa.float64()))
        else:
            cols[f.name] = _arr(v, f.type, n)
    return pa.Table.from_arrays([cols[f.name] for f in SCHEMA], schema=SCHEMA)
