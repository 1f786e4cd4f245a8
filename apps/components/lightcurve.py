"""The light curve: photometry of an object prepared once, drawn in any of four units.

:func:`photometry` turns :func:`api.queries.objects` (with upper limits) and the forced
photometry (:func:`api.queries.forced_points`) into a JSON-ready dict kept in the page;
:func:`figure` draws it: one colour per filter, upper limits as down triangles, bad-quality
detections as open circles, forced-photometry points (when shown) as diamonds, an optional
g − r panel. In magnitudes a forced point is drawn where it is a detection (3 sigma); in
difference flux (µJy: the alerts' ``magpsf`` signed by ``isdiffpos``, the forced points'
calibrated flux) every forced point is drawn, negative or not. Forced points have no DC
magnitude here.
Every point carries ``[candid, tag, jd]`` in ``customdata`` (candid ``-1`` where there is
no alert: upper limits, bad-quality detections, forced points), so a click on any point can
be answered (:func:`pick_note`). The ring around the picked alert is the figure's last
trace, so a new pick moves it alone (:func:`pick_patch`) and leaves the user's zoom as it
is; the legend sits below the plot, clear of the points and of the mode bar at any width.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Patch
from plotly.subplots import make_subplots

from science.bands import ZTF_FID
from science.forced_photometry import UJY_ZERO_POINT
from science.photometry import LN10_OVER_2P5, apparent_or_difference, is_positive_difference, mag_to_flux_jy

FILTER_COLOURS = {1: "#1b9e4b", 2: "#d1495b", 3: "#e0a100"}
UNITS = {"diff": "Difference magnitude", "dc": "DC magnitude", "flux": "DC flux [mJy]",
         "dflux": "Difference flux [µJy]"}
FORCED = "forcedphot"  # the tag, and the option of ``show``, of forced-photometry points


def _col(df: pd.DataFrame, name: str, fill=np.nan) -> np.ndarray:
    return df[name].to_numpy() if name in df else np.full(len(df), fill)


def photometry(alerts: pd.DataFrame, history: pd.DataFrame | None = None,
               forced: pd.DataFrame | None = None) -> dict:
    """Columns the figure needs, as lists (NaN → None), computed once per page.

    ``alerts`` are the detections (:func:`api.queries.objects`), ``history`` the same with
    ``withupperlim=True``, whose non-detections and bad-quality points are added, ``forced``
    the forced points (:func:`api.queries.forced_points`), tagged ``forcedphot``. Candids
    come from ``alerts``: mixed with upper limits they may be float64, which cannot hold
    19-digit candids exactly.
    """
    hist = history[history["d:tag"] != "valid"] if history is not None and not history.empty else alerts.iloc[:0]
    df = pd.concat([alerts.assign(**{"d:tag": "valid"}), hist], ignore_index=True)
    candids = [int(c) for c in alerts["i:candid"]] + [-1] * len(hist)
    n = len(df)
    tag = _col(df, "d:tag", "valid")
    mag, err = _col(df, "i:magpsf").astype(float), _col(df, "i:sigmapsf").astype(float)
    dc = apparent_or_difference(mag, err, _col(df, "i:magnr").astype(float), _col(df, "i:sigmagnr").astype(float),
                                _col(df, "i:isdiffpos", "t"), _col(df, "i:distnr").astype(float))
    lim = _col(df, "i:diffmaglim").astype(float)
    lim_flux, _ = mag_to_flux_jy(lim, np.zeros(n))
    jd = _col(df, "i:jd").astype(float)
    out = {
        "date": pd.to_datetime((jd - 2440587.5) * 86400, unit="s").strftime("%Y-%m-%d %H:%M:%S").tolist(),
        "jd": jd.tolist(), "fid": [int(f) if f == f else 0 for f in _col(df, "i:fid", 0)],
        "tag": [str(t) for t in tag], "candid": [str(c) for c in candids],  # strings: JS numbers cannot hold candids
        "diff": mag.tolist(), "diff_err": err.tolist(), "dc": dc["mag"], "dc_err": dc["err"],
        "flux": [None if v is None else v * 1e3 for v in dc["flux_jy"]],
        "flux_err": [None if v is None else v * 1e3 for v in dc["flux_jy_err"]],
        "lim": lim.tolist(), "lim_flux": (np.asarray(lim_flux, float) * 1e3).tolist(),
        "gr": _col(df, "v:g-r").astype(float).tolist(),
    }
    sign = np.where(is_positive_difference(_col(df, "i:isdiffpos", "t")), 1.0, -1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        dflux = sign * 10 ** (-0.4 * (mag - UJY_ZERO_POINT))
    out["dflux"], out["dflux_err"] = dflux.tolist(), (np.abs(dflux) * err * LN10_OVER_2P5).tolist()
    if forced is not None and len(forced):
        out = _with_forced(out, forced)
    return {k: [None if isinstance(v, float) and not np.isfinite(v) else v for v in vals] for k, vals in out.items()}


def _with_forced(out: dict, forced: pd.DataFrame) -> dict:
    """``out`` with the forced points appended (tag forcedphot, no candid, no DC values)."""
    n = len(forced)
    jd = forced["jd"].to_numpy(float)
    add = {
        "date": pd.to_datetime((jd - 2440587.5) * 86400, unit="s").strftime("%Y-%m-%d %H:%M:%S").tolist(),
        "jd": jd.tolist(), "fid": [int(f) for f in forced["fid"]], "tag": [FORCED] * n, "candid": ["-1"] * n,
        "diff": forced["mag"].to_numpy(float).tolist(), "diff_err": forced["magerr"].to_numpy(float).tolist(),
        "lim": forced["maglim"].to_numpy(float).tolist(),
        "dflux": forced["flux"].to_numpy(float).tolist(), "dflux_err": forced["flux_err"].to_numpy(float).tolist(),
    }
    return {k: list(vals) + add.get(k, [None] * n) for k, vals in out.items()}


def figure(phot: dict, unit: str = "diff", show: tuple = ("upperlim", "badquality"), color_panel: bool = False,
           selected: int | None = None) -> go.Figure:
    """The light curve in ``unit`` (diff, dc, flux, dflux); ``show`` the optional point kinds
    (upperlim, badquality, forcedphot)."""
    rows = 2 if color_panel else 1
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.72, 0.28] if rows == 2 else [1.0])
    df = pd.DataFrame(phot)
    if df.empty:
        return _empty(fig)
    ycol, ecol = (unit, f"{unit}_err")
    for fid, name in ZTF_FID.items():
        colour = FILTER_COLOURS[fid]
        band = df[df["fid"] == fid]
        valid = band[band["tag"] == "valid"]
        if len(valid):
            fig.add_trace(go.Scatter(
                x=valid["date"], y=valid[ycol], error_y={"type": "data", "array": valid[ecol], "thickness": 1},
                mode="markers", name=f"{name}", legendgroup=name, customdata=_custom(valid),
                marker={"color": colour, "size": 9, "line": {"width": 1, "color": "white"}},
                hovertemplate="%{x}<br>%{y:.3f}<br>candid %{customdata[0]}<extra>" + name + "</extra>"), 1, 1)
        bad = band[band["tag"] == "badquality"]
        if "badquality" in show and len(bad):
            fig.add_trace(go.Scatter(
                x=bad["date"], y=bad[ycol], error_y={"type": "data", "array": bad[ecol], "thickness": 1},
                mode="markers", name=f"{name} bad quality", legendgroup=name, customdata=_custom(bad),
                marker={"color": colour, "size": 8, "symbol": "circle-open"},
                hovertemplate="%{x}<br>%{y:.3f} (bad quality)<extra>" + name + "</extra>"), 1, 1)
        forced = band[(band["tag"] == FORCED) & band[ycol].notna()] if FORCED in show else band.iloc[:0]
        if len(forced):
            fig.add_trace(go.Scatter(
                x=forced["date"], y=forced[ycol], error_y={"type": "data", "array": forced[ecol], "thickness": 1},
                mode="markers", name=f"{name} forced photometry", legendgroup=name, customdata=_custom(forced),
                marker={"color": colour, "size": 7, "symbol": "diamond", "opacity": 0.75},
                hovertemplate="%{x}<br>%{y:.3f} (forced)<extra>" + name + "</extra>"), 1, 1)
        upper = band[band["tag"] == "upperlim"]
        if "upperlim" in show and len(upper) and unit != "dflux":
            fig.add_trace(go.Scatter(
                x=upper["date"], y=upper["lim_flux" if unit == "flux" else "lim"], mode="markers",
                name=f"{name} upper limit", legendgroup=name, opacity=0.45, customdata=_custom(upper),
                marker={"color": colour, "size": 8, "symbol": "triangle-down-open" if unit == "flux" else "triangle-down"},
                hovertemplate="%{x}<br>limit %{y:.2f}<extra>" + name + "</extra>"), 1, 1)
    if color_panel:
        gr = df[(df["tag"] == "valid") & df["gr"].notna()]
        fig.add_trace(go.Scatter(x=gr["date"], y=gr["gr"], mode="markers+lines", name="g − r",
                                 marker={"color": "#5a6270", "size": 7}, line={"width": 1}), 2, 1)
        fig.update_yaxes(title_text="g − r", row=2, col=1)
    x, y = _ring(df, ycol, selected)
    fig.add_trace(go.Scatter(x=x, y=y, mode="markers", name="selected alert", hoverinfo="skip", showlegend=False,
                             marker={"size": 18, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "#1b2430"}}),
                  1, 1)  # always last: pick_patch moves it
    magnitudes = unit in ("diff", "dc")
    if unit == "dflux":
        fig.add_hline(y=0, line={"width": 1, "color": "#aab0b8", "dash": "dot"}, row=1, col=1)
    fig.update_yaxes(title_text=UNITS[unit], autorange="reversed" if magnitudes else True, row=1, col=1)
    fig.update_layout(template="plotly_white", height=460 if color_panel else 400, hovermode="closest",
                      margin={"l": 60, "r": 10, "t": 30, "b": 40}, clickmode="event",
                      legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.12, "yanchor": "top"},
                      uirevision=unit)
    return fig


def _ring(df: pd.DataFrame, ycol: str, selected: int | None) -> tuple[list, list]:
    pick = df[df["candid"] == str(selected)] if selected is not None else df.iloc[:0]
    return pick["date"].tolist(), pick[ycol].tolist()


def pick_patch(phot: dict, unit: str, show: tuple, selected: int) -> Patch:
    """The change to :func:`figure`'s output that moves the ring to alert ``selected``: its
    last trace's points only, so the axes (and the user's zoom) are not touched."""
    n = len(figure(phot, unit, show, "color" in show, selected).data)
    x, y = _ring(pd.DataFrame(phot), unit, selected)
    patch = Patch()
    patch["data"][n - 1]["x"] = x
    patch["data"][n - 1]["y"] = y
    return patch


def _custom(points: pd.DataFrame) -> list:
    return [[c, t, j] for c, t, j in zip(points["candid"], points["tag"], points["jd"])]


def pick_note(point: dict) -> str | None:
    """What a click on a point that is not an alert means, or None for an alert's point.

    ``point`` is one of plotly's ``clickData["points"]``; its ``customdata`` is ``[candid,
    tag, jd]`` (see :func:`figure`).
    """
    custom = point.get("customdata") or []
    candid = str(custom[0]) if custom else ""
    if candid.lstrip("-").isdigit() and int(candid) > 0:
        return None
    tag = str(custom[1]) if len(custom) > 1 else ""
    jd = custom[2] if len(custom) > 2 else None
    when = f"JD {float(jd):.5f}" if isinstance(jd, (int, float)) else str(point.get("x", "this date"))
    if tag == "upperlim":
        return (f"Upper limit at {when}: the object was not detected in this exposure, so there is no alert "
                "packet, no cutouts and no fields for it. Click a filled point for an alert.")
    if tag == "badquality":
        return (f"Bad-quality detection at {when}: known only from a later alert's history, so there is no alert "
                "packet, no cutouts and no fields for it. Click a filled point for an alert.")
    if tag == FORCED:
        return (f"Forced photometry at {when}: flux measured at the object's position in this exposure, "
                "carried by a later alert; it has no packet, cutouts or fields of its own. "
                "Click a filled point for an alert.")
    return None


def _empty(fig: go.Figure) -> go.Figure:
    fig.add_annotation(text="No photometry", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(template="plotly_white", height=300)
    return fig
