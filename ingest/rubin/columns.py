"""The alert's own record of Fink's Parquet, column-wise: validation and rows from the Arrow
columns of a batch, without a Python dict per packet.

:func:`clean_rows` is :func:`ingest.rubin.validate.problem` as numpy masks over a batch, made
conservative: a row it passes is one ``problem`` passes (and whose cutouts are sound); a row
it does not pass goes to the dict path (``ingest.rubin.prepare``), which finds the reason or
stores it. :func:`alert_columns` gives the cells :meth:`RubinRowBuilder.build` gives, one
column per cell name (``(values, present)`` as ``Table.encode_columns`` takes them), so the
rows are encoded in bulk; ``tests/test_rubin_columns.py`` pins both paths to the same rows.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from science.rubin_tags import tags_of
from science.stamps import stamp_problem
from store.column_types import FIXED

from .binary_views import binary_views
from .py_values import py_values
from .readers import _values
from .rows import CUTOUTS, FINK_ROOT, FLAT, PREFIXED, ROOT_FIELDS
from .validate import BANDS, MAX_MAJOR, MIN_MAJOR, MJD_RANGE, schema_version


def fields(array) -> dict:
    """name -> child array of a struct column, null where the struct is (``{}`` for anything
    else or a missing column)."""
    if array is None or not pa.types.is_struct(array.type):
        return {}
    names = [f.name for f in array.type]
    if not array.null_count:
        return {name: array.field(i) for i, name in enumerate(names)}
    return dict(zip(names, array.flatten()))


def _valid(array) -> np.ndarray:
    return array.is_valid().to_numpy(zero_copy_only=False)


def _numbers(array, fill=0) -> np.ndarray:
    return array.fill_null(fill).to_numpy(zero_copy_only=False)


def _is_number(array) -> bool:
    return array is not None and (pa.types.is_integer(array.type) or pa.types.is_floating(array.type))


def _is_int(array) -> bool:
    return array is not None and pa.types.is_integer(array.type)


def clean_rows(batch: pa.RecordBatch) -> np.ndarray:
    """The rows of ``batch`` that certainly pass ``validate.problem`` and whose cutouts are
    sound (a boolean array); the others are left to the dict path."""
    n = batch.num_rows
    names = set(batch.schema.names)
    none = np.zeros(n, dtype=bool)

    def column(name):
        return batch.column(name) if name in names else None

    ok = np.ones(n, dtype=bool)
    version = column("lsst_schema_version")
    if version is not None:
        values = version.to_pylist()
        try:
            good = {v: v is None or _version_ok(v) for v in set(values)}
        except TypeError:  # unhashable values: the dict path says why
            return none
        ok &= np.array([good[v] for v in values], dtype=bool)
    source = column("diaSource")
    s = fields(source)
    if not s:
        return none
    ok &= _valid(source)
    for name in ("diaSourceId", "midpointMjdTai", "ra", "dec"):
        a = s.get(name)
        if not _is_number(a):
            return none
        ok &= _valid(a)
        if pa.types.is_floating(a.type):
            ok &= np.isfinite(_numbers(a))
    sid = s["diaSourceId"]
    if not _is_int(sid):
        return none
    sid = _numbers(sid)
    ok &= sid >= 0
    root = column("diaSourceId")
    if root is not None:
        ok &= ~_valid(root) | ((_numbers(root) == sid) if _is_int(root) else none)
    oid, ss_id = s.get("diaObjectId"), s.get("ssObjectId")
    positive = none.copy()
    for a in (oid, ss_id):
        if _is_int(a):
            positive |= _valid(a) & (_numbers(a) > 0)
    ok &= positive
    with np.errstate(invalid="ignore"):
        ra, dec = _numbers(s["ra"]).astype(np.float64), _numbers(s["dec"]).astype(np.float64)
        mjd = _numbers(s["midpointMjdTai"]).astype(np.float64)
        ok &= (ra >= 0) & (ra < 360) & (dec >= -90) & (dec <= 90) & (mjd >= MJD_RANGE[0]) & (mjd <= MJD_RANGE[1])
    band = s.get("band")
    if band is None or not pa.types.is_string(band.type):
        return none
    ok &= pc.is_in(band, value_set=pa.array(BANDS)).fill_null(False).to_numpy(zero_copy_only=False)
    obj = column("diaObject")
    if obj is not None:
        if not pa.types.is_struct(obj.type):
            return none
        own = fields(obj).get("diaObjectId")
        if own is not None:
            same = none
            if _is_int(own) and _is_int(oid):
                same = _valid(oid) & (_numbers(own) == _numbers(oid))
            ok &= ~_valid(own) | same
    for name in CUTOUTS:
        stamps = column(name)
        if stamps is None or not stamps.null_count < n:
            continue
        if not pa.types.is_binary(stamps.type):
            return none
        for i, stamp in enumerate(binary_views(stamps)):  # views into Arrow's buffer: no stamp copied
            if stamp is not None and ok[i] and stamp_problem(stamp):
                ok[i] = False  # the dict path keeps the alert without it and quarantines the stamp
    return ok


def _version_ok(text) -> bool:
    parsed = schema_version(text)
    return parsed is not None and MIN_MAJOR <= parsed[0] <= MAX_MAJOR


def _coalesce(first, second):
    """``first`` where it is not null, else ``second`` (either may be None)."""
    if first is None or second is None:
        return second if first is None else first
    if not first.null_count:
        return first
    if first.type == second.type:
        return pc.coalesce(first, second)
    return [a if a is not None else b for a, b in zip(py_values(first), py_values(second))]


def as_column(value, type_: str, n: int):
    """A cell column (an Arrow array, a list, or None: no cell) as ``(values, present)``:
    numpy values for a fixed-width column of numbers or booleans, Python values otherwise."""
    if value is None:
        return [None] * n, np.zeros(n, dtype=bool)
    if isinstance(value, list):
        return value, np.array([v is not None for v in value], dtype=bool)
    if pa.types.is_null(value.type):
        return [None] * n, np.zeros(n, dtype=bool)
    if type_ in FIXED and (pa.types.is_integer(value.type) or pa.types.is_floating(value.type)):
        return _numbers(value), _valid(value)
    if type_ in FIXED and pa.types.is_boolean(value.type):
        return _numbers(value, False), _valid(value)
    views = binary_views(value) if type_ == "bytes" else None  # the stamps: packed from Arrow's buffer
    return (py_values(value) if views is None else views), _valid(value)


def alert_cells(batch: pa.RecordBatch, builder) -> dict:
    """The cells of each row's own source (``RubinRowBuilder.build``'s ``alert_cells``), as
    cell name -> Arrow array or list over the rows of ``batch`` (already validated)."""
    names = set(batch.schema.names)

    def column(name):
        return batch.column(name) if name in names else None

    s, ss = fields(column("diaSource")), fields(column("ssSource"))
    cells: dict = {}
    for q in builder.r_cols:
        cells[f"r:{q}"] = _coalesce(s.get(q), column(q) if q in ROOT_FIELDS else ss.get(q))
    cells["r:mpcDesignation"] = fields(column("mpc_orbits")).get("packed_primary_provisional_designation")
    for struct, prefix in PREFIXED:
        for name, array in fields(column(struct)).items():
            if prefix + name in builder.f_cols:
                cells["f:" + prefix + name] = array
    for struct in FLAT:
        for name, array in fields(column(struct)).items():
            if name in builder.f_cols:
                cells["f:" + name] = array
    for name in FINK_ROOT:
        cells["f:" + name] = column(name)
    cells["f:lc_features"] = _features(column("lc_features"))
    xm, pred = fields(column("xm")), fields(column("pred"))
    picks = [xm.get("tns_type"), xm.get("simbad_otype"), pred.get("is_cataloged"), pred.get("is_sso"),
             pred.get("is_first")]
    n = batch.num_rows
    tns, simbad, cataloged, sso, first = [py_values(a) if a is not None else [None] * n for a in picks]
    cells["f:tags"] = [tags_of({"tns_type": t, "simbad_otype": o}, {"is_cataloged": c, "is_sso": s_, "is_first": f})
                       for t, o, c, s_, f in zip(tns, simbad, cataloged, sso, first)]
    return cells


def _features(array):
    """Fink's light-curve features per row, as ``build`` gives them: a map as a dict (built
    column by column, ``readers._values``: a third of ``to_pylist``'s time), anything else as
    Python values."""
    if array is None or not pa.types.is_map(array.type):
        return array
    offsets = array.offsets.to_numpy()  # into the whole child, as a list's
    lo, hi = int(offsets[0]), int(offsets[-1])
    entries = array.values.slice(lo, hi - lo)
    keys = [str(k) for k in entries.field(0).to_pylist()]
    items = _values(entries.field(1))
    bounds = (offsets - lo).tolist()
    valid = _valid(array).tolist()
    return [dict(zip(keys[bounds[i]:bounds[i + 1]], items[bounds[i]:bounds[i + 1]])) if valid[i] else None
            for i in range(len(array))]


def object_cells(batch: pa.RecordBatch, builder, cells: dict) -> dict:
    """The diaObject cells of each row (``build``'s ``obj``), as :func:`alert_cells` gives them
    (the rows whose diaObject is null have none: the caller leaves them out)."""
    names = set(batch.schema.names)
    obj = fields(batch.column("diaObject")) if "diaObject" in names else {}
    s = fields(batch.column("diaSource"))
    out = {f"r:{q}": obj.get(q) for q in builder.obj_r}
    out.update({"r:diaObjectId": s.get("diaObjectId"), "r:diaSourceId": s["diaSourceId"],
                "r:midpointMjdTai": s["midpointMjdTai"].cast(pa.float64()),
                "r:observation_reason": batch.column("observation_reason") if "observation_reason" in names else None,
                "r:target_name": batch.column("target_name") if "target_name" in names else None})
    out.update({c: cells.get(c) for c in builder.obj_f})
    return out
