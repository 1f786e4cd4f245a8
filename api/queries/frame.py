"""Store rows → DataFrames with Fink's column names, plus the computed ``v:`` columns.

float32 columns (magnitudes, scores) are given back as ZTF published them: rounded to
7 significant digits in float64, so 19.52 prints as 19.52, not 19.520000457763672.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from astropy.time import Time

from hbase_schema import get_schema

V_COLUMNS = {
    "v:classification": ("string", "Class from the classification rule (science/classification.py)"),
    "v:firstdate": ("string", "Date of the first detection at this position (from i:jdstarthist), UTC"),
    "v:lastdate": ("string", "Date of this alert (from i:jd), UTC"),
    "v:lapse": ("float64", "Days between the first detection and this alert"),
    "v:g-r": ("float64", "g - r colour of the object at this alert, from its nearest g and r detections within 1 day"),
    "v:separation_degree": ("float64", "Angular distance to the cone's centre [deg] (conesearch, xmatch)"),
    "d:tag": ("string", "valid (an alert), upperlim (a non-detection) or badquality (objects with withupperlim)"),
}


def column_types() -> dict[str, str]:
    """Every stored column of the main table and the computed ones, name -> type."""
    main = get_schema().table("main")
    types = {c.name: c.type for c in main.columns()}
    types.update({k: v[0] for k, v in V_COLUMNS.items()})
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


_INTS = None


def int_columns() -> set[str]:
    global _INTS
    if _INTS is None:
        _INTS = {name for name, t in column_types().items() if t in ("int32", "int64")}
    return _INTS


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """A DataFrame of row dicts, float32 columns rounded, v: columns added.

    Integer columns with gaps become nullable Int64 built from the Python ints, so
    19-digit candids keep every digit (a float64 column would round them)."""
    df = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    if df.empty:
        return df
    kinds = df.dtypes.map(lambda t: t.kind).to_dict()
    for col in int_columns().intersection(df.columns):
        if kinds[col] == "f":
            df[col] = pd.array([r.get(col) for r in rows], dtype="Int64")
    floats = [c for c in df.columns if c in float32_columns() and kinds[c] in "fiu"]
    if floats:
        df[floats] = round7(df[floats].to_numpy(dtype=float, na_value=np.nan))
    add_v_columns(df)
    return df


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
    """Per alert: the object's g mag minus r mag from detections of each within 1 day."""
    out = np.full(len(df), np.nan)
    jd = df["i:jd"].to_numpy(float)
    mag = df["i:magpsf"].to_numpy(float)
    fid = df["i:fid"].to_numpy()
    tag = df["d:tag"].to_numpy() if "d:tag" in df else None
    for _, idx in df.groupby("i:objectId", sort=False).indices.items():
        valid = idx if tag is None else idx[tag[idx] == "valid"]
        g, r = valid[fid[valid] == 1], valid[fid[valid] == 2]
        if not len(g) or not len(r):
            continue
        for i in valid:
            dg, dr = np.abs(jd[g] - jd[i]), np.abs(jd[r] - jd[i])
            if dg.min() <= 1 and dr.min() <= 1:
                out[i] = mag[g[dg.argmin()]] - mag[r[dr.argmin()]]
    return out


def select(df: pd.DataFrame, columns: list[str] | None) -> pd.DataFrame:
    """Only ``columns`` (in that order), those the frame has."""
    if columns is None or df.empty:
        return df
    return df[[c for c in columns if c in df.columns]]
