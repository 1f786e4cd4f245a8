"""The Rubin light curve: an object's diaSources and forced sources in the six bands ugrizy.

:func:`photometry` turns the object's ``sources`` and ``fp`` frames (:func:`api.queries.rubin.history`)
into a JSON-ready dict kept in the page, computed once; :func:`figure` draws it in flux (nJy)
or AB magnitude (``31.4 - 2.5 log10(f / nJy)``, :func:`science.photometry.njy_to_mag`; a flux
that is not positive has no magnitude and is left out of the magnitude view), from the
difference-image flux (``psfFlux``) or the science-image flux (``scienceFlux``). Detections are
filled circles (an alert, which has cutouts, ringed in black), forced photometry open
diamonds; either may be hidden. Clicking a detection gives ``[id, kind, alert]`` in ``customdata``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from science.photometry import njy_to_mag

BANDS = ("u", "g", "r", "i", "z", "y")
BAND_COLOURS = {"u": "#1f5fd6", "g": "#2f9e44", "r": "#d9480f", "i": "#e8a300", "z": "#c2255c", "y": "#5c2a0e"}
FLUXES = {"psfFlux": "Difference flux (psfFlux)", "scienceFlux": "Science-image flux (scienceFlux)"}
UNITS = {"flux": "Flux [nJy]", "mag": "AB magnitude"}
KINDS = {"det": "detections (diaSources)", "fp": "forced photometry"}
MJD_UNIX = 40587.0  # MJD of 1970-01-01


def _floats(df: pd.DataFrame, name: str) -> np.ndarray:
    if name not in df:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _ids(df: pd.DataFrame, name: str) -> list[str]:
    """Ids as strings: JS numbers cannot hold 64-bit ids."""
    return [str(int(v)) if v is not None and v == v else "" for v in (df[name] if name in df else [None] * len(df))]


def photometry(sources: pd.DataFrame, fp: pd.DataFrame, alerts=()) -> dict:
    """Columns the figure needs, as lists (NaN -> None). ``alerts``: the diaSourceIds that have
    cutouts (:func:`api.queries.rubin.cutout_sources`)."""
    alerts = {str(a) for a in alerts}
    parts = []
    for df, kind, id_col in ((sources, "det", "r:diaSourceId"), (fp, "fp", "r:diaForcedSourceId")):
        if df is None or df.empty:
            continue
        ids = _ids(df, id_col)
        part = {"mjd": _floats(df, "r:midpointMjdTai"),
                "band": ["" if b is None or b != b else str(b) for b in df.get("r:band", [None] * len(df))],
                "kind": [kind] * len(df), "id": ids,
                "alert": [kind == "det" and i in alerts for i in ids]}
        for flux in FLUXES:
            f, e = _floats(df, f"r:{flux}"), _floats(df, f"r:{flux}Err")
            mag, merr = njy_to_mag(f, e)
            part.update({flux: f, f"{flux}Err": e, f"{flux}Mag": np.atleast_1d(mag),
                         f"{flux}MagErr": np.atleast_1d(merr)})
        parts.append(pd.DataFrame(part))
    if not parts:
        return {}
    df = pd.concat(parts, ignore_index=True).sort_values("mjd", kind="stable")
    df["date"] = pd.to_datetime((df["mjd"] - MJD_UNIX) * 86400, unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")
    out = df.to_dict("list")
    return {k: [None if isinstance(v, float) and not np.isfinite(v) else v for v in vals] for k, vals in out.items()}


def figure(phot: dict, unit: str = "flux", flux: str = "psfFlux", show: tuple = ("det", "fp"),
           selected: str | None = None) -> go.Figure:
    """The light curve in ``unit`` (flux, mag) of ``flux`` (psfFlux, scienceFlux); ``show`` the
    kinds of points drawn (det, fp); ``selected`` a diaSourceId to ring."""
    fig = go.Figure()
    df = pd.DataFrame(phot)
    if df.empty:
        return _layout(fig, unit, flux, "No measurement of this object is stored.")
    ycol, ecol = (flux, f"{flux}Err") if unit == "flux" else (f"{flux}Mag", f"{flux}MagErr")
    df = df[df["kind"].isin(show) & df[ycol].notna()]
    for band in BANDS:
        colour = BAND_COLOURS[band]
        for kind in ("det", "fp"):
            points = df[(df["band"] == band) & (df["kind"] == kind)]
            if not len(points):
                continue
            det = kind == "det"
            alert = points["alert"].to_numpy(dtype=bool)
            fig.add_trace(go.Scatter(
                x=points["date"].to_numpy(), y=points[ycol].to_numpy(dtype=float), mode="markers",
                name=band if det else f"{band} forced", legendgroup=band,
                error_y={"type": "data", "array": points[ecol].to_numpy(dtype=float), "thickness": 1, "width": 0},
                customdata=points[["id", "kind", "alert"]].to_numpy(dtype=object),
                marker={"color": colour, "size": 8 if det else 7, "symbol": "circle" if det else "diamond-open",
                        "opacity": 1 if det else 0.6,
                        "line": {"width": np.where(alert, 1.5, 0.5) if det else 1,
                                 "color": np.where(alert, "#111", "white") if det else colour}},
                hovertemplate="%{x}<br>%{y:.4g}<br>" + ("diaSourceId" if det else "diaForcedSourceId")
                              + " %{customdata[0]}<extra>" + (band if det else f"{band} forced") + "</extra>"))
    if selected:
        pick = df[df["id"] == str(selected)]
        if len(pick):
            fig.add_trace(go.Scatter(x=pick["date"], y=pick[ycol], mode="markers", name="selected source",
                                     hoverinfo="skip", showlegend=False,
                                     marker={"size": 18, "color": "rgba(0,0,0,0)",
                                             "line": {"width": 2, "color": "#1b2430"}}))
    note = "" if len(df) else "Nothing to show: no point of the chosen kinds has a value in this unit."
    return _layout(fig, unit, flux, note)


def _layout(fig: go.Figure, unit: str, flux: str, note: str) -> go.Figure:
    ytitle = f"{flux} [nJy]" if unit == "flux" else f"AB magnitude (from {flux})"
    fig.update_layout(template="plotly_white", height=420, margin={"l": 60, "r": 10, "t": 10, "b": 40},
                      legend={"orientation": "h", "y": -0.15}, hovermode="closest",
                      xaxis={"title": "date (TAI)"},
                      yaxis={"title": ytitle, "autorange": "reversed" if unit == "mag" else True})
    if unit == "flux":
        fig.add_hline(y=0, line={"color": "#bbb", "width": 1})
    if note:
        fig.add_annotation(text=note, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig
