"""Plotly figures of the science tabs: data per band, fitted models, residuals, scores.

Every function takes plain arrays or the dicts returned by :mod:`science` (through
:func:`api.queries.fit`) and returns a ``go.Figure``; none reads the store. Bands are ZTF
fids or labels (Rubin's ugrizy); ``colours`` ({label: colour}) gives another survey's band
colours, ``xtitle``/``t_offset`` its time axis (Rubin: MJD TAI).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from apps.components.lightcurve import FILTER_COLOURS
from science.bands import ZTF_FID, normalise_band

FID = {band: fid for fid, band in ZTF_FID.items()}
SCORES = {"d:snn_snia_vs_nonia": ("SuperNNova Ia vs non-Ia", "#3f6ad8"),
          "d:snn_sn_vs_all": ("SuperNNova SN vs all", "#7b4fd0"),
          "d:rf_snia_vs_nonia": ("Random forest early Ia", "#d1495b"),
          "d:rf_kn_vs_nonkn": ("Random forest kilonova", "#e0a100")}
THRESHOLD = 0.5
LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
          "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
          "hovermode": "closest"}


MJD_TITLE = "MJD (= JD − 2400000.5)"


def _mjd(jd):
    return np.asarray(jd, dtype=float) - 2400000.5


def _time_axes(fig: go.Figure) -> go.Figure:
    """Every x axis of ``fig`` as plain MJD numbers (60676.5, never "60.6765k")."""
    fig.update_xaxes(exponentformat="none", separatethousands=False, hoverformat=".4f")
    return fig


def _colour(band, colours: dict | None = None) -> str:
    if colours is not None:
        return colours.get(band, "#5a6270")
    return FILTER_COLOURS.get(FID.get(band, band), "#5a6270")


def _label(band) -> str:
    """A band's label: ZTF fids as g/r/i, other labels as they are."""
    return normalise_band(band) if not isinstance(band, str) else band


def _bands(band) -> list:
    """The distinct bands of a light curve in wavelength order: ZTF fids 1, 2, 3; ugrizy."""
    order = {b: i for i, b in enumerate("ugrizy")}
    return sorted(set(np.asarray(band).tolist()), key=lambda b: (order.get(b, 99), b) if isinstance(b, str) else (b, ""))


def scores_figure(alerts, scores: dict = SCORES, time_col: str = "i:jd", xtitle: str = MJD_TITLE) -> go.Figure:
    """Classifier scores of each alert over time (``time_col``, JD), with the 0.5 decision threshold."""
    fig = go.Figure()
    t = _mjd(alerts[time_col]) if time_col in alerts else np.array([])
    for col, (label, colour) in scores.items():
        if col not in alerts or alerts[col].isna().all():
            continue
        fig.add_trace(go.Scatter(x=t, y=alerts[col].astype(float), name=label, mode="lines+markers",
                                 line={"color": colour}, marker={"size": 6}))
    fig.add_hline(y=THRESHOLD, line={"dash": "dash", "color": "#5a6270"},
                  annotation_text="decision threshold 0.5", annotation_position="top left")
    fig.update_layout(**LAYOUT, height=300, title="Classifier scores", xaxis_title=xtitle,
                      yaxis={"title": "score", "range": [-0.05, 1.05]})
    return _time_axes(fig)


def colour_figure(colour: dict, xtitle: str = MJD_TITLE) -> go.Figure:
    """g − r from pairs of g and r detections less than half a day apart."""
    fig = go.Figure(go.Scatter(x=_mjd(colour["jd"]), y=colour["colour"], mode="lines+markers",
                               name=colour.get("label", "g-r"), marker={"color": "#1b2430", "size": 7}))
    fig.update_layout(**LAYOUT, height=280, title="Colour g − r (difference magnitudes)", xaxis_title=xtitle,
                      yaxis_title="g − r [mag]")
    return _time_axes(fig)


def rates(jd, mag, band) -> dict:
    """Per band, the magnitude rate between consecutive detections [mag/day], at mid-times."""
    out = {}
    jd, mag, band = (np.asarray(a) for a in (jd, mag, band))
    for b in sorted(set(band.tolist())):
        m = (band == b) & np.isfinite(mag) & np.isfinite(jd)
        order = np.argsort(jd[m])
        t, y = jd[m][order], mag[m][order]
        dt = np.diff(t)
        keep = dt > 0.1  # exposures of one night do not make a rate
        if keep.any():
            out[_label(b)] = {"jd": ((t[1:] + t[:-1]) / 2)[keep], "rate": (np.diff(y) / np.where(
                dt > 0, dt, 1))[keep]}
    return out


def rates_figure(per_band: dict, xtitle: str = MJD_TITLE, colours: dict | None = None) -> go.Figure:
    """Magnitude rates per band (positive: fading)."""
    fig = go.Figure()
    for b, r in per_band.items():
        fig.add_trace(go.Scatter(x=_mjd(r["jd"]), y=r["rate"], name=b, mode="markers+lines",
                                 marker={"color": _colour(b, colours), "size": 7}, line={"width": 1}))
    fig.add_hline(y=0, line={"color": "#dde3ea"})
    fig.update_layout(**LAYOUT, height=280, title="Magnitude rate (positive: fading)", xaxis_title=xtitle,
                      yaxis_title="Δmag / Δt [mag/day]")
    return _time_axes(fig)


#: marker of each kind of point (science.gather.KINDS) in the fit plots
KIND_MARKERS = {"alert": ("circle", "alert"), "detection": ("circle", "detection"),
                "history": ("diamond", "earlier detection"), "forced": ("square-open", "forced photometry")}


def fit_figure(lc: dict, mag, err, model: dict, model_at, title: str, ytitle: str,
               t_marks: dict | None = None, time_unit: str = "JD", t_offset: float = 0.0,
               colours: dict | None = None) -> go.Figure:
    """Data per band with the model over it, and the residuals (data − model) below.

    ``model`` is {band: {"jd", "mag"}} (the curves to draw); ``model_at(band, jd)`` gives
    the model magnitude at the observation times (for the residuals), or None for a band
    the fit left out. ``t_marks`` draws vertical lines, e.g. {"t0": jd}. Each kind of point
    (``lc["kind"]``: alert, earlier detection, forced photometry) has its own marker. The
    time axis is in the fit's unit (``time_unit``, JD: the times of the result), and says so;
    ``t_offset`` is subtracted from every time drawn (Rubin: 2400000.5, for MJD).
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04)
    jd, mag, err = np.asarray(lc["jd"], float), np.asarray(mag, float), np.asarray(err, float)
    kinds = np.asarray(lc.get("kind", np.full(len(jd), "alert")))
    for fid in _bands(lc["band"]):
        b = _label(fid)
        in_band = (np.asarray(lc["band"]) == fid) & np.isfinite(mag)
        colour = _colour(b, colours)
        for kind in [k for k in KIND_MARKERS if np.any(in_band & (kinds == k))]:
            m = in_band & (kinds == kind)
            symbol, label = KIND_MARKERS[kind]
            fig.add_trace(go.Scatter(x=jd[m] - t_offset, y=mag[m], error_y={"array": err[m], "thickness": 1},
                                     mode="markers", name=f"{b} {label}", legendgroup=b,
                                     marker={"color": colour, "size": 7, "symbol": symbol}), 1, 1)
        m = in_band
        if b in model:
            fig.add_trace(go.Scatter(x=np.asarray(model[b]["jd"], float) - t_offset, y=model[b]["mag"], mode="lines",
                                     name=f"{b} model",
                                     legendgroup=b, line={"color": colour, "width": 2}), 1, 1)
            expected = model_at(b, jd[m])
            if expected is not None:
                fig.add_trace(go.Scatter(x=jd[m] - t_offset, y=mag[m] - expected, mode="markers", showlegend=False,
                                         error_y={"array": err[m], "thickness": 1}, legendgroup=b,
                                         marker={"color": colour, "size": 6}), 2, 1)
    fig.add_hline(y=0, line={"color": "#5a6270", "width": 1}, row=2, col=1)
    for label, t in (t_marks or {}).items():
        if t is not None and np.isfinite(t):
            fig.add_vline(x=float(t) - t_offset, line={"dash": "dot", "color": "#5a6270"}, annotation_text=label)
    fig.update_yaxes(autorange="reversed", title_text=ytitle, row=1, col=1)
    fig.update_yaxes(autorange="reversed", title_text="residual [mag]", row=2, col=1)
    fig.update_xaxes(title_text=f"time [{time_unit}]", tickformat=".1f", row=2, col=1)
    fig.update_layout(**LAYOUT, height=520, title=title)
    return _time_axes(fig)


def period_ticks(low: float, high: float) -> list[float]:
    """Tick values for a period axis from ``low`` to ``high``: 1, 2, 5 × 10^k inside the range
    (1 … 9 × 10^k when that gives fewer than three), never minor digits crowding each other."""
    out: list[float] = []
    for steps in ((1, 2, 5), tuple(range(1, 10))):
        out = [float(f"{m}e{k}") for k in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
               for m in steps if low <= float(f"{m}e{k}") <= high]
        if len(out) >= 3:
            break
    return out


def periodogram_figure(periods, power, best: float, searched: tuple[float, float] | None = None) -> go.Figure:
    """Multiband Lomb-Scargle power against period, with the best period marked.

    The axis spans the searched range (``searched``, else the periods given) and no more;
    it is logarithmic when the range spans a decade or more, with ticks 1, 2, 5 × 10^k.
    """
    periods = np.asarray(periods, float)
    low, high = searched if searched else (float(np.nanmin(periods)), float(np.nanmax(periods)))
    fig = go.Figure(go.Scatter(x=periods, y=power, mode="lines", name="power", line={"color": "#3f6ad8"},
                               hovertemplate="P = %{x:.6f} d<br>power %{y:.3f}<extra></extra>"))
    fig.add_vline(x=best, line={"dash": "dash", "color": "#d1495b"}, annotation_text=f"P = {best:.6f} d")
    log = high >= 10 * low
    xaxis = {"title": "period [days]", "type": "log" if log else "linear", "exponentformat": "none",
             "range": [np.log10(low), np.log10(high)] if log else [low, high]}
    if log:
        xaxis |= {"tickmode": "array", "tickvals": period_ticks(low, high)}
    fig.update_layout(**LAYOUT, height=300, title="Periodogram", xaxis=xaxis, yaxis_title="power")
    return fig


def folded_figure(lc: dict, result: dict, colours: dict | None = None,
                  ytitle: str = "magnitude (DC where a source is behind)", dc_label: str = "DC") -> go.Figure:
    """Light curve folded at the period (two cycles), model per band, DC points (``dc_label``) marked."""
    fig = go.Figure()
    phase = np.array([np.nan if p is None else p for p in result["phase"]], dtype=float)
    mag, err = np.asarray(lc["mag"], float), np.asarray(lc["err"], float)
    is_dc = np.asarray(lc.get("is_dc", [False] * len(mag)), dtype=bool)
    for fid in _bands(lc["band"]):
        b = _label(fid)
        colour = _colour(b, colours)
        for dc in (True, False):
            m = (np.asarray(lc["band"]) == fid) & np.isfinite(phase) & (is_dc == dc)
            if not m.any():
                continue
            fig.add_trace(go.Scatter(
                x=np.r_[phase[m], phase[m] + 1], y=np.r_[mag[m], mag[m]], mode="markers", legendgroup=b,
                name=f"{b} ({dc_label if dc else 'difference'})",
                error_y={"array": np.r_[err[m], err[m]], "thickness": 1},
                marker={"color": colour, "size": 7, "symbol": "circle" if dc else "diamond-open"}))
        if b in result["model"]:
            cur = result["model"][b]
            fig.add_trace(go.Scatter(x=np.r_[cur["phase"], np.asarray(cur["phase"]) + 1], y=cur["mag"] * 2,
                                     mode="lines", name=f"{b} model", legendgroup=b,
                                     line={"color": colour, "width": 2}))
    fig.update_layout(**LAYOUT, height=420, title=f"Folded at P = {result['period']:.6f} d",
                      xaxis={"title": "phase", "range": [0, 2]}, yaxis={"title": ytitle, "autorange": "reversed"})
    return fig


def model_at_times(result: dict, band: str, jd) -> np.ndarray:
    """The folded model of ``band`` (one period from the epoch) at the times ``jd``."""
    cur = result["model"][band]
    phase = np.mod((np.asarray(jd, float) - result["epoch"]) / result["period"], 1.0)
    return np.interp(phase, np.asarray(cur["phase"], float), np.asarray(cur["mag"], float), period=1.0)


def unfolded_figure(lc: dict, result: dict, max_points: int = 4000, colours: dict | None = None,
                    ytitle: str = "magnitude (DC where a source is behind)", xtitle: str = MJD_TITLE) -> go.Figure:
    """The light curve against time with the periodic model drawn through it, band by band.

    The model is sampled at least 20 times a period over each season (stretches of data
    without a gap longer than 30 periods or 30 days), at most ``max_points`` per band; with
    more cycles than that the line cannot show single cycles anyway, and the model is drawn
    at the observation times instead.
    """
    fig = go.Figure()
    jd, mag, err = np.asarray(lc["jd"], float), np.asarray(lc["mag"], float), np.asarray(lc["err"], float)
    grid = _season_grid(jd, result["period"], max_points)
    for fid in _bands(lc["band"]):
        b = _label(fid)
        m = (np.asarray(lc["band"]) == fid) & np.isfinite(mag)
        colour = _colour(b, colours)
        fig.add_trace(go.Scatter(x=_mjd(jd[m]), y=mag[m], error_y={"array": err[m], "thickness": 1}, mode="markers",
                                 name=f"{b} data", legendgroup=b, marker={"color": colour, "size": 7}))
        if b in result["model"]:
            t = grid if grid is not None else np.sort(jd[m])
            fig.add_trace(go.Scatter(x=_mjd(t), y=model_at_times(result, b, t), name=f"{b} model", legendgroup=b,
                                     mode="lines" if grid is not None else "markers", connectgaps=False,
                                     line={"color": colour, "width": 1.5}, marker={"symbol": "line-ew-open"}))
    fig.update_layout(**LAYOUT, height=420, title=f"Model over time, P = {result['period']:.6f} d",
                      xaxis_title=xtitle, yaxis={"title": ytitle, "autorange": "reversed"})
    return _time_axes(fig)


def _season_grid(jd: np.ndarray, period: float, max_points: int) -> np.ndarray | None:
    """Times covering the observed stretches, 20 per period, NaN between stretches (so the line
    breaks); None when that needs more than ``max_points``."""
    t = np.sort(jd[np.isfinite(jd)])
    if not len(t) or not period > 0:
        return None
    gap = max(30 * period, 30.0)
    breaks = np.flatnonzero(np.diff(t) > gap)
    starts, stops = np.r_[t[0], t[breaks + 1]], np.r_[t[breaks], t[-1]]
    step = period / 20
    if np.sum((stops - starts) / step + 2) > max_points:
        return None
    parts = []
    for a, z in zip(starts, stops):
        parts += [np.arange(a, z + step, step), [np.nan]]
    return np.concatenate(parts)[:-1]
