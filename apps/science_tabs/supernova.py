"""The Supernova tab: classifier scores, g − r, magnitude rates and the Bazin light-curve fit.

The fit (Bazin per band on difference magnitudes, :func:`science.supernova.fit_lightcurve`)
takes well under half a second (``bench/bench_fits.py``), so the tab is drawn in the
callback that opens it, behind the page's loading spinner, and again when the choice of
earlier detections changes; the fit is cached per object. Its quality warnings are shown in
a box above the fit.
"""
from __future__ import annotations

import numpy as np
from dash import Input, Output, State, dcc, html

from api import portal_gateway as G
from api import queries as q
from apps.science_tabs import _plots as P
from apps.callbacks import callback
from apps.science_tabs._common import fmt, history_control, message, param_table, run_fit, warning_box
from science.supernova import PARAMS, bazin

GRAPH = {"displaylogo": False, "responsive": True}


def layout(object_id: str):
    return html.Div(className="science-tab", id="sn-tab", children=[
        dcc.Store(id="sn-object", data=object_id),
        html.Div(className="science-controls", children=[history_control("sn-history")]),
        html.Div(id="sn-body", children=content(G.store(), object_id))])


@callback(Output("sn-body", "children"), Input("sn-history", "value"), State("sn-object", "data"),
          prevent_initial_call=True)
def refit_supernova(history, object_id):
    """The tab again with another choice of earlier detections."""
    return content(G.store(), object_id, history or "good")


def content(store, object_id: str, history: str = "good") -> list:
    """The tab's children for ``object_id`` read from ``store``; ``history``: which earlier
    detections join the alerts in the fit."""
    alerts = q.objects(store, [object_id])
    if alerts.empty:
        return [message(f"{object_id} has no alert stored here.", "error")]
    lc = q.lightcurve(store, object_id, history=history)
    children = [html.H3("Supernova"),
                dcc.Graph(id="sn-scores", figure=P.scores_figure(alerts), config=GRAPH)]
    result, why = run_fit(store, object_id, "supernova", history=history)
    colour = result["colour"] if result else _colour(lc)
    children.append(dcc.Graph(id="sn-colour", figure=P.colour_figure(colour), config=GRAPH) if colour["jd"]
                    else message("No g − r: no g and r detections within half a day of each other."))
    per_band = P.rates(lc["jd"], lc["diffmag"], lc["band"]) if len(lc["jd"]) else {}
    children.append(dcc.Graph(id="sn-rates", figure=P.rates_figure(per_band), config=GRAPH) if per_band
                    else message("No magnitude rate: no band has detections on two different nights."))
    if result is None:
        children.append(message(why, "error"))
        return children
    box = warning_box(result)
    children += [*([box] if box else []), dcc.Graph(id="sn-fit", config=GRAPH, figure=P.fit_figure(
        lc, lc["diffmag"], lc["differr"], result["model"], _model_at(result), "Bazin fit per band",
        "difference magnitude", time_unit=result.get("time_unit", "JD"))), _params(result)]
    return children


def _colour(lc) -> dict:
    from science.supernova import colour
    return colour(lc["jd"], lc["diffmag"], lc["band"]) if len(lc["jd"]) else {"jd": []}


def _model_at(result):
    def at(band, jd):
        p = result["bands"].get(band)
        if p is None:
            return None
        flux = bazin(jd, *(p[k] for k in PARAMS))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(flux > 0, 23.9 - 2.5 * np.log10(np.where(flux > 0, flux, 1.0)), np.nan)
    return at


def _params(result) -> html.Div:
    tables = []
    for band, p in result["bands"].items():
        tables.append(param_table([
            (f"peak time [{result.get('time_unit', 'JD')}]", fmt(p["t_peak"], p["t_peak_err"], 2)),
            ("peak magnitude", fmt(p["peak_mag"], None, 2)),
            ("τ rise [d]", fmt(p["tau_rise"], p["tau_rise_err"], 2)),
            ("τ fall [d]", fmt(p["tau_fall"], p["tau_fall_err"], 2)),
            ("χ² / dof", f"{p['chi2']:.1f} / {p['dof']}"),
            ("points", str(p["n_points"])),
        ], caption=f"band {band}"))
    notes = [html.P(f"Band {b} not fitted: {why}.", className="muted small")
             for b, why in result["skipped_bands"].items()]
    total = html.P(f"Total χ² / dof = {result['chi2']:.1f} / {result['dof']}; flux unit {result['flux_unit']}.",
                   className="muted small")
    return html.Div(className="science-param-block", children=[html.Div(tables, className="science-param-row"),
                                                               total, *notes])
