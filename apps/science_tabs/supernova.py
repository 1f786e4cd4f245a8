"""The Supernova tab: classifier scores, g − r, magnitude rates and the Bazin light-curve fit.

The fit (Bazin per band on difference magnitudes, :func:`science.supernova.fit_lightcurve`)
takes well under half a second (``bench/bench_fits.py``), so the tab is drawn in the
callback that opens it, behind the page's loading spinner, and again when the choice of
earlier detections changes; the fit is cached per object. Its quality warnings are shown in
a box above the fit.

On a Rubin object (``survey``, :mod:`apps.science_tabs.survey`) the scores are Fink's Rubin
classifiers the diaSources carry, with the object's Fink tags; ZTF's random-forest scores have
no Rubin counterpart and the tab says so in a line. Magnitudes are AB from the difference flux
(``psfFlux``), times in MJD TAI.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from dash import Input, Output, State, dcc, html

from api import queries as q
from api.queries import rubin as qr
from apps.science_tabs import _plots as P
from apps.science_tabs import survey as S
from apps.callbacks import callback
from apps.science_tabs._common import fmt, history_control, message, param_table, run_fit, warning_box
from science.supernova import PARAMS, bazin

GRAPH = {"displaylogo": False, "responsive": True}


def layout(object_id: str, survey=S.ZTF):
    return html.Div(className="science-tab", id="sn-tab", children=[
        dcc.Store(id="sn-object", data=object_id),
        dcc.Store(id="sn-survey", data=survey.name),
        html.Div(className="science-controls",
                 children=[history_control("sn-history", survey=survey, kind="supernova")]),
        html.Div(id="sn-body", children=content(survey.store(), object_id, survey=survey))])


@callback(Output("sn-body", "children"), Input("sn-history", "value"), State("sn-object", "data"),
          State("sn-survey", "data"), prevent_initial_call=True)
def refit_supernova(history, object_id, survey="ztf"):
    """The tab again with another choice of photometry."""
    survey = S.of(survey)
    return content(survey.store(), object_id, history, survey)


def content(store, object_id: str, history: str | None = None, survey=S.ZTF) -> list:
    """The tab's children for ``object_id`` read from ``store``; ``history``: the survey's
    choice of photometry (ZTF: which earlier detections join the alerts; Rubin: forced or not)."""
    history = history or survey.default_photometry["supernova"]
    scores = _scores(store, object_id, survey)
    if scores is None:
        return [message(f"{object_id} has no alert stored here.", "error")]
    lc = survey.lightcurve(store, object_id, "supernova", history)
    children = [html.H3("Supernova"), *scores]
    result, why = run_fit(store, object_id, "supernova", history=history, survey=survey)
    colour = result["colour"] if result else _colour(lc)
    children.append(dcc.Graph(id="sn-colour", figure=P.colour_figure(colour, survey.mjd_title), config=GRAPH)
                    if colour["jd"] else message("No g − r: no g and r detections within half a day of each other."))
    per_band = P.rates(lc["jd"], lc["diffmag"], lc["band"]) if len(lc["jd"]) else {}
    children.append(dcc.Graph(id="sn-rates", figure=P.rates_figure(per_band, survey.mjd_title, survey.colours),
                              config=GRAPH) if per_band
                    else message("No magnitude rate: no band has detections on two different nights."))
    if result is None:
        children.append(message(why, "error"))
        return children
    box = warning_box(result)
    children += [*([box] if box else []), dcc.Graph(id="sn-fit", config=GRAPH, figure=P.fit_figure(
        lc, lc["diffmag"], lc["differr"], result["model"], _model_at(result), "Bazin fit per band",
        survey.mag_title["supernova"], time_unit=survey.time_unit(result), t_offset=survey.time_offset,
        colours=survey.colours)), _params(result, survey)]
    return children


RUBIN_ONLY_SCORES = ("ZTF's random-forest early SN Ia and kilonova scores and SuperNNova Ia vs non-Ia have no "
                     "Rubin counterpart; the Rubin alerts carry SuperNNova SN vs others and the early SN Ia score.")


def _scores(store, object_id: str, survey) -> list | None:
    """The classifier scores' figure (with, for Rubin, its tags and what ZTF has that Rubin has
    not), or None when the object has no alert."""
    if survey is S.ZTF:
        alerts = q.objects(store, [object_id])
        return None if alerts.empty else [dcc.Graph(id="sn-scores", figure=P.scores_figure(alerts), config=GRAPH)]
    try:
        t, found, tags = survey.scores_and_tags(store, object_id)
    except LookupError:  # not a diaObjectId
        return None
    if qr.objects(store, [int(object_id)]).empty:
        return None
    out = [dcc.Graph(id="sn-scores", config=GRAPH, figure=P.scores_figure(
        pd.DataFrame({"jd": t, **found}), S.RUBIN_SCORES, "jd", survey.mjd_title))] if found else \
        [message("No Fink classifier score on this object's diaSources.")]
    out.append(html.P(f"Fink tags: {', '.join(tags)}." if tags else "No Fink tag on this object's alerts.",
                      className="small", id="sn-tags"))
    out.append(html.P(RUBIN_ONLY_SCORES, className="muted small"))
    return out


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


def _params(result, survey=S.ZTF) -> html.Div:
    tables = []
    for band, p in result["bands"].items():
        tables.append(param_table([
            (f"peak time [{survey.time_unit(result)}]", fmt(survey.shown_time(p["t_peak"]), p["t_peak_err"], 2)),
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
