"""Fink's latests extras: the brightness trend filter (``trend``) and the rate and colour
columns (``color``), computed on the alerts a listing returns, as Fink computes them."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

TRENDS = ("rising", "fading", "low_state", "new_low_state")
BLAZAR_TRENDS = ("low_state", "new_low_state")
BLAZAR_CLASS = "(CTA) Blazar"
COLOUR_COLUMNS = ("v:rate", "v:sigma(rate)", "v:g-r", "v:sigma(g-r)", "v:rate(g-r)", "v:sigma(rate(g-r))")
LINEAR_TREND_POSITION = 9  # in Fink's older array form of lc_features_*


def linear_trend(features) -> float:
    """The ``linear_trend`` light-curve feature from a ``d:lc_features_*`` value: a dict
    (Fink 3+), a list, or the text of either ("{a, b, ...}" as older Fink wrote it); NaN
    when absent."""
    if isinstance(features, str):
        text = features.strip()
        try:
            features = json.loads(text)
        except ValueError:
            features = [x.strip() for x in text.strip("{}[]").split(",")]
    if isinstance(features, dict):
        value = features.get("linear_trend")
    elif isinstance(features, (list, tuple)) and len(features) > LINEAR_TREND_POSITION:
        value = features[LINEAR_TREND_POSITION]
    else:
        value = None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return value


def trend_mask(df: pd.DataFrame, trend: str) -> np.ndarray:
    """Alerts whose magnitude rate (``d:mag_rate``, Fink's added value) says ``rising``
    (negative: brighter) or ``fading`` (positive), as Fink's latests filters them; an alert
    without a rate is neither."""
    if df.empty:
        return np.zeros(0, dtype=bool)
    rate = pd.to_numeric(df.get("d:mag_rate", pd.Series(np.nan, index=df.index)), errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        return rate < 0 if trend == "rising" else rate > 0


def add_rates_and_colour(df: pd.DataFrame, tolerance: float = 0.3) -> pd.DataFrame:
    """Fink's ``color`` columns, per object among the rows given:

    - ``v:rate``, ``v:sigma(rate)``: magnitude change per day since the previous alert in
      the same band, and its error from the two alerts' errors;
    - ``v:g-r``, ``v:sigma(g-r)``: g minus r from a g and an r alert at most ``tolerance``
      days apart (nearest in time), given to both;
    - ``v:rate(g-r)``, ``v:sigma(rate(g-r))``: change of that colour per day since the
      object's previous colour measurement.
    Rows keep their order; NaN where a value cannot be formed."""
    out = df.copy()
    for name in COLOUR_COLUMNS:
        out[name] = np.nan
    if df.empty or not {"i:objectId", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf"} <= set(df.columns):
        return out
    jd = pd.to_numeric(df["i:jd"], errors="coerce").to_numpy(float)
    mag = pd.to_numeric(df["i:magpsf"], errors="coerce").to_numpy(float)
    err = pd.to_numeric(df["i:sigmapsf"], errors="coerce").to_numpy(float)
    fid = pd.to_numeric(df["i:fid"], errors="coerce").to_numpy()
    cols = {name: np.full(len(df), np.nan) for name in COLOUR_COLUMNS}
    for idx in df.groupby("i:objectId", sort=False).indices.values():
        idx = idx[np.argsort(jd[idx], kind="stable")]
        for band in (1, 2):
            b = idx[fid[idx] == band]
            if len(b) > 1:
                dt = np.diff(jd[b])
                with np.errstate(divide="ignore", invalid="ignore"):
                    cols["v:rate"][b[1:]] = np.diff(mag[b]) / dt
                    cols["v:sigma(rate)"][b[1:]] = np.hypot(err[b[1:]], err[b[:-1]]) / dt
        g, r = idx[fid[idx] == 1], idx[fid[idx] == 2]
        if not len(g) or not len(r):
            continue
        # each g alert paired with the nearest r alert within the tolerance
        pos = np.clip(np.searchsorted(jd[r], jd[g]), 1, len(r) - 1) if len(r) > 1 else np.zeros(len(g), dtype=int)
        left = np.maximum(pos - 1, 0)
        near = np.where(np.abs(jd[r][left] - jd[g]) <= np.abs(jd[r][pos] - jd[g]), left, pos)
        ok = np.abs(jd[r][near] - jd[g]) <= tolerance
        if not ok.any():
            continue
        gi, ri = g[ok], r[near[ok]]
        colour = mag[gi] - mag[ri]
        sigma = np.hypot(err[gi], err[ri])
        rate, rate_err = np.full(len(gi), np.nan), np.full(len(gi), np.nan)
        if len(gi) > 1:
            dt = np.diff(jd[gi])
            with np.errstate(divide="ignore", invalid="ignore"):
                rate[1:] = np.diff(colour) / dt
                rate_err[1:] = np.hypot(sigma[1:], sigma[:-1]) / dt
        # every alert of the object takes the colour measured nearest in time, within the tolerance
        at = np.clip(np.searchsorted(jd[gi], jd[idx]), 1, len(gi) - 1) if len(gi) > 1 else np.zeros(len(idx), dtype=int)
        lo = np.maximum(at - 1, 0)
        pick = np.where(np.abs(jd[gi][lo] - jd[idx]) <= np.abs(jd[gi][at] - jd[idx]), lo, at)
        close = np.abs(jd[gi][pick] - jd[idx]) <= tolerance
        for name, values in (("v:g-r", colour), ("v:sigma(g-r)", sigma), ("v:rate(g-r)", rate),
                             ("v:sigma(rate(g-r))", rate_err)):
            cols[name][idx[close]] = values[pick[close]]
    for name, values in cols.items():
        out[name] = values
    return out
