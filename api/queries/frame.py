"""Store rows → DataFrames with Fink's column names, plus the computed ``v:`` columns.

float32 columns (magnitudes, scores) are given back as ZTF published them: rounded to
7 significant digits in float64, so 19.52 prints as 19.52, not 19.520000457763672.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from astropy.time import Time

from hbase_schema import get_schema
from science.lc_features import as_fink_texts
from store.base import pivot

V_COLUMNS = {
    "v:classification": ("string", "Class from the classification rule (science/classification.py)"),
    "v:firstdate": ("string", "Date of the first detection at this position (from i:jdstarthist), UTC"),
    "v:lastdate": ("string", "Date of this alert (from i:jd), UTC"),
    "v:lapse": ("float64", "Days between the first detection and this alert"),
    "v:g-r": ("float64", "g - r colour of the object at this alert: in objects (and latests with color) as Fink, "
                         "from a g and an r alert at most 0.3 day apart; elsewhere from its nearest g and r "
                         "detections within 1 day"),
    "v:separation_degree": ("float64", "Angular distance to the cone's centre [deg] (conesearch, xmatch)"),
    "v:rate": ("float64", "Magnitude change per day since the previous alert in the same band (objects; latests "
                          "with color: among the alerts returned)"),
    "v:sigma(rate)": ("float64", "Error of v:rate (objects; latests with color)"),
    "v:sigma(g-r)": ("float64", "Error of v:g-r (objects; latests with color)"),
    "v:rate(g-r)": ("float64", "g - r change per day since the previous colour measurement (objects; latests with "
                               "color)"),
    "v:sigma(rate(g-r))": ("float64", "Error of v:rate(g-r) (objects; latests with color)"),
    "d:tag": ("string", "valid (an alert), upperlim (a non-detection) or badquality (objects with withupperlim), "
                        "forcedphot (a forced-photometry point: objects with withfp)"),
}
#: computed columns that only some routes give (not objects): the schema lists them apart.
ROUTE_COLUMNS = {"v:separation_degree": "conesearch, explorer with a cone, xmatch"}


def column_types() -> dict[str, str]:
    """Every stored column of the main table and the computed ones, name -> type."""
    main = get_schema().table("main")
    types = {c.name: c.type for c in main.columns()}
    types.update({k: v[0] for k, v in V_COLUMNS.items()})
    for c in get_schema().table("fp").columns():  # the forced points objects adds with withfp
        types.setdefault(c.name, c.type)
    return types


_FLOAT32 = None


def float32_columns() -> set[str]:
    global _FLOAT32
    if _FLOAT32 is None:
        _FLOAT32 = {name for name, t in column_types().items() if t == "float32"}
    return _FLOAT32


def round7(values: np.ndarray) -> np.ndarray:
    """float32 values as float64 rounded to 7 significant digits (vectorised)."""
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(x)))
        scale = np.where(np.isfinite(mag), 10.0 ** (6 - mag), 1.0)
        out = np.round(x * scale) / scale
    return np.where(np.isfinite(out), out, x)


_ORDER = None


def _order() -> dict[str, int]:
    global _ORDER
    if _ORDER is None:
        _ORDER = {name: i for i, name in enumerate(column_types())}
    return _ORDER


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """A DataFrame of row dicts (see :func:`columns_frame`)."""
    return columns_frame(pivot(rows))


def columns_frame(data: dict) -> pd.DataFrame:
    """A DataFrame of columns (name -> equal-length lists or arrays, None where a row lacks
    the cell), in schema order, float32 columns rounded, v: columns added.

    Built column by column: float32 columns are rounded in one numpy call each, and
    integer columns with gaps become nullable Int64 built from the Python ints, so
    19-digit candids keep every digit (a float64 column would round them)."""
    if not data or not len(next(iter(data.values()))):
        return pd.DataFrame()
    order = _order()
    types = column_types()
    out = {}
    for name in sorted(data, key=lambda n: (order.get(n, len(order)), n)):
        values = data[name]
        kind = types.get(name)
        if kind == "float32":
            out[name] = round7(np.asarray(values, dtype=float))
        elif kind in ("int32", "int64") and isinstance(values, list) and None in values:
            out[name] = pd.array(values, dtype="Int64")
        else:
            out[name] = values
    df = pd.DataFrame(out)
    add_v_columns(df)
    return df


def concat_columns(parts: list[tuple[int, dict]]) -> dict:
    """Column-wise pieces ``(rows, {name: values})`` one after the other: as if their rows
    were listed together (None where a piece lacks a column; float arrays stay arrays)."""
    parts = [(n, data) for n, data in parts if n]
    if len(parts) == 1:
        return parts[0][1]
    names = dict.fromkeys(name for _, data in parts for name in data)
    out = {}
    for name in names:
        pieces = [data.get(name) for _, data in parts]
        if all(isinstance(p, np.ndarray) and p.dtype.kind == "f" or p is None for p in pieces):
            out[name] = np.concatenate([p if p is not None else np.full(n, np.nan) for (n, _), p in zip(parts, pieces)])
        else:
            out[name] = [v for (n, _), p in zip(parts, pieces)
                         for v in ([None] * n if p is None else p.tolist() if isinstance(p, np.ndarray) else p)]
    return out


def jd_to_iso(jd) -> list:
    jd = np.asarray(jd, dtype=float)
    ok = np.isfinite(jd)
    out = np.full(jd.shape, None, dtype=object)
    if ok.any():
        out[ok] = Time(jd[ok], format="jd").to_value("iso", subfmt="date_hms")
    return out.tolist()


def add_v_columns(df: pd.DataFrame) -> None:
    if df.empty:
        return
    if "d:classification" in df:
        df["v:classification"] = df["d:classification"]
    if "i:jd" in df:
        df["v:lastdate"] = jd_to_iso(df["i:jd"])
        if "i:jdstarthist" in df:
            df["v:firstdate"] = jd_to_iso(df["i:jdstarthist"])
            df["v:lapse"] = df["i:jd"] - df["i:jdstarthist"]
        if {"i:fid", "i:magpsf", "i:objectId"} <= set(df.columns):
            df["v:g-r"] = g_minus_r(df)


def g_minus_r(df: pd.DataFrame) -> np.ndarray:
    """Per alert: the object's g mag minus r mag, from its g and r detections nearest in
    time, when both are within 1 day of the alert."""
    out = np.full(len(df), np.nan)
    jd = df["i:jd"].to_numpy(float)
    mag = pd.to_numeric(df["i:magpsf"], errors="coerce").to_numpy(float)
    fid = pd.to_numeric(df["i:fid"], errors="coerce").to_numpy()
    valid = np.isfinite(mag) & np.isfinite(jd)
    if "d:tag" in df:
        valid &= (df["d:tag"] == "valid").to_numpy()
    for idx in df.groupby("i:objectId", sort=False).indices.values():
        idx = idx[valid[idx]]
        g, r = idx[fid[idx] == 1], idx[fid[idx] == 2]
        if not len(g) or not len(r):
            continue
        mg, mr = _nearest(jd[g], mag[g], jd[idx]), _nearest(jd[r], mag[r], jd[idx])
        out[idx] = np.where(np.isfinite(mg) & np.isfinite(mr), mg - mr, np.nan)
    return out


def _nearest(t: np.ndarray, m: np.ndarray, at: np.ndarray, within: float = 1.0) -> np.ndarray:
    """``m`` at the time in ``t`` nearest each of ``at``; NaN when further than ``within``."""
    order = np.argsort(t)
    t, m = t[order], m[order]
    i = np.clip(np.searchsorted(t, at), 1, len(t) - 1) if len(t) > 1 else np.zeros(len(at), dtype=int)
    left = np.maximum(i - 1, 0)
    pick = np.where(np.abs(t[left] - at) <= np.abs(t[i] - at), left, i)
    return np.where(np.abs(t[pick] - at) <= within, m[pick], np.nan)


#: columns Fink's API serves as text (JSON) though they hold structures
FINK_TEXT_COLUMNS = ("d:lc_features_g", "d:lc_features_r")


def as_fink_text_columns(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the light-curve features as Fink's API gives them: the text of a JSON
    array, ``"[]"`` where an alert has none (science/lc_features.py)."""
    present = [c for c in FINK_TEXT_COLUMNS if c in df.columns]
    if not present or df.empty:
        return df
    out = df.copy()
    for name in present:
        out[name] = as_fink_texts(out[name].tolist())
    return out


def select(df: pd.DataFrame, columns: list[str] | None) -> pd.DataFrame:
    """Only ``columns`` (in that order, each once), those the frame has."""
    if columns is None or df.empty:
        return df
    return df[[c for c in dict.fromkeys(columns) if c in df.columns]]
