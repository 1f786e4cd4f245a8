"""ZTF forced photometry of objects (the ``fp`` table, filled from the packets' ``fp_hists``).

Two shapes of the same rows:

- :func:`forced_photometry`: the route's answer (``/api/v1/fp``, and ``objects`` with
  ``withfp``), Fink's column names (``i:`` the ZTF fields, ``d:`` the flux and magnitudes
  computed at ingest), newest first, every column of the table for ``columns=None``.
- :func:`forced_points`: one object's points with plain names, oldest first, for the
  portal and the fits: ``jd``, ``fid``, ``band``, ``flux``/``flux_err`` [uJy, difference
  flux], ``snr``, ``mag``/``magerr`` (NaN below 3 sigma), ``maglim`` (5-sigma limit),
  ``detected``, ``procstatus``, ``magzpsci``, ``forcediffimflux``/``forcediffimfluxunc`` [DN].

A store made before the table existed raises :class:`store.TableMissing` (the API's 503
names ``python -m hbase_schema create``).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from hbase_schema import get_schema
from science.bands import ZTF_FID
from store import Store, TableMissing

from .budget import check
from .frame import round7

TABLE = "fp"
TIME = "i:jd"
ADVICE = "ask for fewer objects per request"

#: forced_points' columns: plain name -> the stored column it comes from
PLAIN = {"objectId": "i:objectId", "jd": "i:jd", "fid": "i:fid", "flux": "d:flux", "flux_err": "d:sigmaflux",
         "snr": "d:snr", "mag": "d:mag", "magerr": "d:sigmamag", "maglim": "d:maglim",
         "procstatus": "i:procstatus", "magzpsci": "i:magzpsci", "forcediffimflux": "i:forcediffimflux",
         "forcediffimfluxunc": "i:forcediffimfluxunc"}
POINT_COLUMNS = ("objectId", "jd", "fid", "band", "flux", "flux_err", "snr", "mag", "magerr", "maglim", "detected",
                 "procstatus", "magzpsci", "forcediffimflux", "forcediffimfluxunc")


@lru_cache(maxsize=None)
def column_types() -> dict[str, str]:
    """Every column of the fp table, name -> type, in the schema's order."""
    return {c.name: c.type for c in get_schema().table(TABLE).columns()}


def unknown_columns(columns: list[str] | None) -> list[str]:
    """The names of ``columns`` the fp table does not have."""
    known = column_types()
    return [c for c in columns or () if c not in known]


def _read(store: Store, object_ids: list[str], columns: list[str] | None) -> tuple[int, dict]:
    table = store.table(TABLE)
    check(ADVICE)
    wanted = None if columns is None else list(dict.fromkeys([*columns, TIME]))
    batch = table.read(ranges=[table.keys.span(oid) for oid in object_ids],
                       columns=wanted if wanted is not None else ["i", "d"], on_batch=lambda: check(ADVICE))
    return len(batch), batch.columns


def forced_photometry(store: Store, object_ids: list[str], columns: list[str] | None = None) -> pd.DataFrame:
    """Every forced point of ``object_ids``, newest first, with ``columns`` (None: every
    column of the fp table, null where a point lacks it; unknown names are left out)."""
    n, data = _read(store, object_ids, columns)
    if not n:
        return pd.DataFrame()
    types = column_types()
    names = list(types) if columns is None else [c for c in dict.fromkeys(columns) if c in types]
    out = {name: _typed(data.get(name), types[name], n) for name in names}
    df = pd.DataFrame(out)
    order = np.argsort(-np.asarray(_typed(data.get(TIME), "float64", n)), kind="stable")
    return df.iloc[order].reset_index(drop=True)


def forced_points(store: Store, object_id: str, missing_ok: bool = False) -> pd.DataFrame:
    """One object's forced points, oldest first, with the plain columns of ``POINT_COLUMNS``
    (an empty frame with those columns when it has none; also, ``missing_ok``, when the
    store predates the fp table, which otherwise raises :class:`store.TableMissing`)."""
    try:
        n, data = _read(store, [object_id], None)
    except TableMissing:
        if not missing_ok:
            raise
        n, data = 0, {}
    types = column_types()
    out = {plain: _typed(data.get(stored), types[stored], n) for plain, stored in PLAIN.items()}
    df = pd.DataFrame(out)
    df["band"] = [ZTF_FID.get(int(f), "") if pd.notna(f) else "" for f in df["fid"]]
    df["detected"] = np.isfinite(df["mag"].to_numpy(float))
    df = df[list(POINT_COLUMNS)]
    return df.sort_values("jd", kind="stable").reset_index(drop=True)


def _typed(values, kind: str, n: int):
    """One column: floats as float64 (float32 rounded to 7 digits), integers as int64 or
    nullable Int64 where some rows lack them, text as is (None where absent)."""
    if kind in ("float32", "float64"):
        if values is None:
            return np.full(n, np.nan)
        arr = np.asarray([np.nan if v is None else v for v in values] if isinstance(values, list) else values,
                         dtype=float)
        return round7(arr) if kind == "float32" else arr
    if kind in ("int32", "int64"):
        values = [None] * n if values is None else (values.tolist() if isinstance(values, np.ndarray) else values)
        return np.asarray(values, dtype=np.int64) if None not in values else pd.array(values, dtype="Int64")
    if values is None:
        return [None] * n
    return values.tolist() if isinstance(values, np.ndarray) else list(values)
