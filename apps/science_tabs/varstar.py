"""The Variable star tab: a multiband period search with its periodogram and folded curve.

The user sets the period range, the Fourier terms (shared and per band) and optionally a
known period; the fit (:func:`science.varstar.fit_period`, through the cached
:func:`api.queries.fit`) runs as a Dash background callback, since long light curves take more than half a
second; while it runs the status line says so (Dash's ``running``, set in the browser as
the request leaves, not at the job's first poll a second later). Magnitudes are DC where a source sits
behind the variable (the star itself in the reference image), difference otherwise; on a Rubin
object (``survey``, :mod:`apps.science_tabs.survey`), AB magnitudes from the science-image
flux over ugrizy, times in MJD TAI, with or without the forced photometry.

The inputs persist per object for the browser session; while a fit runs, the controls and
the previous result stay in place (the result dimmed) under a status line.
"""
from __future__ import annotations

from dash import Input, Output, State, dcc, html

from apps.callbacks import callback
from apps.science_tabs import _plots as P
from apps.science_tabs import survey as S
from apps.science_tabs._common import data_version, fmt, history_control, message, param_table, run_fit, warning_box

DEFAULTS = {"period_min": 0.1, "period_max": 1.2, "nterms_base": None, "nterms_band": None}  # terms: chosen for the points
GRAPH = {"displaylogo": False, "responsive": True}
RUNNING = "Fitting: searching the period (or fitting at the fixed one)…"


def layout(object_id: str, survey=S.ZTF):
    def number(id_, label, value, **kw):
        return html.Label(className="science-input", children=[label, dcc.Input(
            id=id_, type="number", value=value, debounce=True, persistence=object_id, persistence_type="session", **kw)])
    return html.Div(className="science-tab", children=[
        html.H3("Variable star"),
        dcc.Store(id="vs-key", data=data_version(survey.store(), object_id, survey)),
        html.Div(className="science-controls", children=[
            number("vs-pmin", "shortest period [d]", DEFAULTS["period_min"], min=0.01, max=100, step="any"),
            number("vs-pmax", "longest period [d]", DEFAULTS["period_max"], min=0.02, max=1000, step="any"),
            number("vs-nbase", "Fourier terms, shared", DEFAULTS["nterms_base"], min=0, max=5, step=1,
                   placeholder="auto"),
            number("vs-nband", "Fourier terms, per band", DEFAULTS["nterms_band"], min=0, max=5, step=1,
                   placeholder="auto"),
            number("vs-period", "fixed period [d] (optional)", None, min=0.01, max=1000, step="any"),
            history_control("vs-history", survey=survey, kind="varstar"),
            html.Button("Fit", id="vs-fit", className="button", n_clicks=0),
        ]),
        html.Div(id="vs-status", className="science-status", role="status"),
        html.Div(id="vs-results", className="science-results"),
    ])


def params_from(pmin, pmax, nbase, nband, period) -> tuple[dict | None, str | None]:
    """The fit parameters from the inputs, or a message naming the bad input."""
    try:
        p = {"period_min": float(pmin), "period_max": float(pmax),
             "nterms_base": _terms(nbase), "nterms_band": _terms(nband)}
    except (TypeError, ValueError):
        return None, "Give a period range, and whole numbers of Fourier terms (or leave them empty: auto)."
    if not 0 < p["period_min"] < p["period_max"]:
        return None, "The shortest period must be positive and smaller than the longest."
    given = [t for t in (p["nterms_base"], p["nterms_band"]) if t is not None]
    if not all(0 <= t <= 5 for t in given) or (len(given) == 2 and sum(given) < 1):
        return None, "Fourier terms: 0 to 5 each, at least one term in all (empty: chosen for the points)."
    if period not in (None, ""):
        try:
            p["period"] = float(period)
        except (TypeError, ValueError):
            return None, "The fixed period must be a number of days."
        if not p["period"] > 0:
            return None, "The fixed period must be a positive number of days."
    return p, None


def _terms(value) -> int | None:
    """A number of Fourier terms from its input; None (chosen for the points) when empty."""
    if value in (None, ""):
        return None
    if float(value) != int(float(value)):
        raise ValueError(value)
    return int(float(value))


def results(store, object_id: str, params: dict, history: str | None = None, survey=S.ZTF) -> list:
    """The tab's results for ``object_id``: the fit's warnings, best period and score,
    periodogram, folded curve. ``history``: the survey's choice of photometry (ZTF: which
    earlier detections join the alerts; Rubin: with the forced photometry or not)."""
    history = history or survey.default_photometry["varstar"]
    result, why = run_fit(store, object_id, "varstar", history=history, survey=survey, **params)
    if result is None:
        return [message(why, "error")]
    lc = survey.lightcurve(store, object_id, "varstar", history)
    summary = param_table([
        ("period [d]", fmt(result["period"], None, 6)),
        ("score (multiband power, 0..1)", fmt(result["score"], None, 3)),
        (f"epoch of maximum [{survey.time_unit(result)}]", fmt(survey.shown_time(result["epoch"]), None, 4)),
        ("amplitude (model, peak to peak)", ", ".join(f"{b}: {fmt(a, None, 2)} mag"
                                                      for b, a in result["amplitude"].items()) or "—"),
        ("points", str(result["n_points"])),
        ("method", result["method"]),
    ])
    box = warning_box(result)
    out = [*([box] if box else []), html.Div(summary, className="science-param-block")]
    out += [html.P(f"Band {b} has no model: {why}.", className="muted small")
            for b, why in result["skipped_bands"].items()]
    if result["periods"]:
        out.append(dcc.Graph(id="vs-periodogram", config=GRAPH, figure=P.periodogram_figure(
            result["periods"], result["power"], result["period"], (params["period_min"], params["period_max"]))))
    ytitle = survey.mag_title["varstar"]
    out.append(html.Div(className="science-pair", children=[
        dcc.Graph(id="vs-folded", config=GRAPH, figure=P.folded_figure(lc, result, survey.colours, ytitle,
                                                                       survey.dc_label)),
        dcc.Graph(id="vs-unfolded", config=GRAPH, figure=P.unfolded_figure(
            lc, result, colours=survey.colours, ytitle=ytitle, xtitle=survey.mjd_title))]))
    if survey is S.ZTF and any(lc["is_dc"]):
        out.append(html.P("Filled circles: DC magnitudes (reference source + difference); open diamonds: "
                          "difference magnitudes.", className="muted small"))
    return out


@callback(Output("vs-results", "children"), Input("vs-fit", "n_clicks"), Input("vs-key", "data"),
          State("vs-pmin", "value"), State("vs-pmax", "value"), State("vs-nbase", "value"),
          State("vs-nband", "value"), State("vs-period", "value"), State("vs-history", "value"),
          background=True,
          running=[(Output("vs-fit", "disabled"), True, False),
                   (Output("vs-status", "children"), RUNNING, ""),
                   (Output("vs-status", "className"), "science-status running", "science-status"),
                   (Output("vs-results", "className"), "science-results stale", "science-results")])
def fit_varstar(_clicks, key, pmin, pmax, nbase, nband, period, history=None):
    params, why = params_from(pmin, pmax, nbase, nband, period)
    if params is None:
        return [message(why, "error")]
    survey = S.of(key)
    with survey.job_store() as store:
        return results(store, key["objectId"], params, history, survey)
