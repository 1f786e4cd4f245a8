"""The Microlensing tab: a point-source point-lens fit over all bands, with residuals.

The fit (pyLIMA, :func:`science.mulens.fit_pspl`, through the cached
:func:`api.queries.fit`) can take a second or two, so it runs as a Dash background
callback with a progress line, started when the tab opens and when the choice of earlier
detections changes. The data are DC magnitudes (the lensed star is the reference source),
each kind of point with its marker; the fit's quality warnings are shown in a box above it.
On a Rubin object (``survey``): AB magnitudes from the science-image flux, times in MJD TAI.
"""
from __future__ import annotations

import numpy as np
from dash import Input, Output, dcc, html

from apps.callbacks import callback
from apps.science_tabs import _plots as P
from apps.science_tabs import survey as S
from apps.science_tabs._common import data_version, fmt, history_control, message, param_table, run_fit, warning_box
from science.mulens_pylima import ZERO_POINT, magnification

GRAPH = {"displaylogo": False, "responsive": True}


def layout(object_id: str, survey=S.ZTF):
    return html.Div(className="science-tab", children=[
        html.H3("Microlensing"),
        dcc.Store(id="ml-key", data=data_version(survey.store(), object_id, survey)),
        html.Div(className="science-controls", children=[history_control("ml-history", survey=survey, kind="mulens")]),
        html.Div(id="ml-status", className="science-status", role="status"),
        html.Div(id="ml-results", className="science-results"),
    ])


def results(store, object_id: str, history: str | None = None, survey=S.ZTF) -> list:
    """The fit's warnings, the fit over the data with residuals, and the parameters with
    their uncertainties. ``history``: the survey's choice of photometry (ZTF: which earlier
    detections join the alerts; Rubin: with the forced photometry or not)."""
    history = history or survey.default_photometry["mulens"]
    result, why = run_fit(store, object_id, "mulens", history=history, survey=survey)
    if result is None:
        return [message(why, "error")]
    lc = survey.lightcurve(store, object_id, "mulens", history)
    unit = survey.time_unit(result)
    fig = P.fit_figure(lc, lc["mag"], lc["err"], result["model"], _model_at(result), "PSPL fit (all bands)",
                       survey.mag_title["mulens"], t_marks={"t0": result["t0"]}, time_unit=unit,
                       t_offset=survey.time_offset, colours=survey.colours)
    rows = [(f"t0 [{unit}]", fmt(survey.shown_time(result["t0"]), result["t0_err"], 3)),
            ("u0", fmt(result["u0"], result["u0_err"], 4)),
            ("tE [d]", fmt(result["tE"], result["tE_err"], 2)),
            ("χ² / dof", f"{result['chi2']:.1f} / {result['dof']} = "
                         f"{result['chi2'] / result['dof']:.2f}" if result["dof"] > 0 else f"{result['chi2']:.1f} / 0")]
    for b in result["bands"]:
        rows.append((f"source / baseline mag ({b})",
                     f"{fmt(result['mag_source'][b], None, 2)} / {fmt(result['mag_baseline'][b], None, 2)}"))
        rows.append((f"fs, fb ({b}) [flux, zero point {ZERO_POINT}]",
                     f"{fmt(result['fs'][b], result['fs_err'][b], 1)}, {fmt(result['fb'][b], result['fb_err'][b], 1)}"))
    notes = [html.P(f"Band {b} left out of the fit: {why}.", className="muted small")
             for b, why in result["skipped_bands"].items()]
    box = warning_box(result)
    return [*([box] if box else []), dcc.Graph(id="ml-fit", config=GRAPH, figure=fig),
            html.Div(className="science-param-block", children=[param_table(rows), *notes,
                                                                 html.P(result["method"], className="muted small")])]


def _model_at(result):
    def at(band, jd):
        if band not in result["fs"]:
            return None
        flux = result["fs"][band] * magnification(jd, result["t0"], result["u0"], result["tE"]) + result["fb"][band]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(flux > 0, ZERO_POINT - 2.5 * np.log10(np.where(flux > 0, flux, 1.0)), np.nan)
    return at


@callback(Output("ml-results", "children"), Input("ml-key", "data"), Input("ml-history", "value"),
          background=True,
          running=[(Output("ml-status", "children"), "Fitting a point-source point-lens model…", ""),
                   (Output("ml-status", "className"), "science-status running", "science-status"),
                   (Output("ml-results", "className"), "science-results stale", "science-results")])
def fit_microlensing(key, history=None):
    survey = S.of(key)
    with survey.job_store() as store:
        return results(store, key["objectId"], history, survey)
