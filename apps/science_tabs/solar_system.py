"""The Solar System tab, for an alert naming a known solar-system object (``ssnamenr``):
its detections' astrometric residuals and its phase curve with an H, G fit per band.

Residuals are about a smooth fit of RA and Dec against time (observed minus predicted needs
an ephemeris service). Phase angles and distances come from the offline ephemerides file
(:mod:`api.queries.sso_phase`); without it the tab says so and draws no phase curve.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from dash import dcc, html

from api import portal_gateway as G
from api import queries as q
from api.queries import sso_phase
from api.queries.solar_system import sso_name
from apps.components.lightcurve import FILTER_COLOURS
from apps.science_tabs._common import fmt, message, param_table
from science import phase_curve as PC
from science.bands import ZTF_FID

GRAPH = {"displaylogo": False, "responsive": True}


def ssnamenr_of(alerts) -> str | None:
    names = alerts.get("i:ssnamenr")
    if names is None:
        return None
    found = [str(n) for n in names.dropna() if str(n) and str(n).lower() not in ("null", "none", "nan")]
    return found[-1] if found else None


def layout(object_id: str):
    store = G.store()
    alerts = q.objects(store, [object_id])
    name = ssnamenr_of(alerts) if not alerts.empty else None
    if name is None:
        return message(f"{object_id} is not associated with a known solar-system object (no ssnamenr).")
    obs = sso_phase.observations(store, name, G.config().data_dir)
    return html.Div(className="science-tab", id="sso-tab", children=[
        html.H3(f"Solar System: {sso_name(name)}"),
        html.P(f"{len(obs)} detections of ssnamenr {name} stored here, over "
               f"{obs['jd'].nunique() and int(np.ptp(obs['jd']) + 1)} days.", className="muted small"),
        *residuals(obs), *phase_curve(obs)])


def residuals(obs) -> list:
    try:
        res = PC.smooth_residuals(obs["jd"], obs["ra"], obs["dec"])
    except ValueError as exc:
        return [message(f"No astrometric residuals: {exc}.")]
    fig = go.Figure([go.Scatter(x=res["jd"] - 2400000.5, y=res[k], mode="markers", name=label)
                     for k, label in (("ra", "RA·cos Dec"), ("dec", "Dec"))])
    fig.update_layout(template="plotly_white", height=300, margin={"l": 60, "r": 10, "t": 40, "b": 40},
                      title=f"Astrometric residuals about a degree-{res['degree']} fit in time "
                            f"(rms {res['rms']:.2f}″)",
                      xaxis={"title": "MJD"}, yaxis={"title": "residual [arcsec]"})
    return [dcc.Graph(id="sso-residuals", figure=fig, config=GRAPH),
            html.P("Observed minus a smooth fit of RA and Dec against time, not minus an ephemeris "
                   "(that needs an online service): they show scatter and outliers, not orbit errors.",
                   className="muted small")]


def phase_curve(obs) -> list:
    known = obs.dropna(subset=["alpha_deg", "r_au", "delta_au"])
    if known.empty:
        return [message("No phase curve: ZTF alerts carry no phase angle or distances, and the ephemerides "
                        f"file ({sso_phase.EPHEMERIDES_FILE} in the data directory) holds none for this object.")]
    fig = go.Figure()
    rows, notes = [], []
    grid = np.linspace(0, max(1.0, float(known["alpha_deg"].max()) * 1.05), 200)
    for fid, band in ZTF_FID.items():
        part = known[known["fid"] == fid]
        if part.empty:
            continue
        reduced = PC.reduced_magnitude(part["magpsf"], part["r_au"], part["delta_au"])
        colour = FILTER_COLOURS[fid]
        fig.add_trace(go.Scatter(x=part["alpha_deg"], y=reduced, mode="markers", name=band,
                                 error_y={"type": "data", "array": part["sigmapsf"], "visible": True},
                                 marker={"color": colour}))
        try:
            fit = PC.fit_hg(part["alpha_deg"], reduced, part["sigmapsf"])
        except ValueError as exc:
            notes.append(html.P(f"Band {band} not fitted: {exc}.", className="muted small"))
            continue
        fig.add_trace(go.Scatter(x=grid, y=PC.hg_magnitude(grid, fit["H"], fit["G"]), mode="lines",
                                 name=f"H, G fit {band}", line={"color": colour}))
        rows.append(param_table([("H", fmt(fit["H"], fit["H_err"], 3)), ("G", fmt(fit["G"], fit["G_err"], 3)),
                                 ("χ² / dof", f"{fit['chi2']:.1f} / {fit['dof']}"),
                                 ("points", str(fit["n_points"])),
                                 ("phase angles", f"{fit['alpha_min']:.1f}° – {fit['alpha_max']:.1f}°")],
                                caption=f"band {band}"))
    fig.update_layout(template="plotly_white", height=360, margin={"l": 60, "r": 10, "t": 40, "b": 40},
                      title="Phase curve: reduced magnitude m − 5 log10(r Δ)",
                      xaxis={"title": "phase angle [deg]"}, yaxis={"title": "reduced magnitude", "autorange": "reversed"})
    return [dcc.Graph(id="sso-phase", figure=fig, config=GRAPH),
            html.Div(className="science-param-block", id="sso-hg", children=[
                html.Div(rows, className="science-param-row"), *notes,
                html.P("IAU H, G system (Bowell et al. 1989), least squares weighted by the magnitude errors; "
                       f"distances and phase angles from {sso_phase.EPHEMERIDES_FILE}.", className="muted small")])]
