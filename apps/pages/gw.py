"""Gravitational waves: drop a LIGO/Virgo/KAGRA sky map (bayestar.fits.gz), get the ZTF or Rubin
objects with an alert inside its credible region around the event (the API's ``skymap``)."""
from __future__ import annotations

import dash
from dash import Input, Output, State, dcc, html

from api import portal_gateway as G
from api import queries as q
from apps.callbacks import callback
from apps.components import gw_results as gw
from apps.components.results import error
from apps.components.shell import loading

SURVEYS = (("ZTF", "ztf"), ("Rubin/LSST", "rubin"))


def _number(ident: str, label: str, value: float, lo: float, hi: float, step: float) -> html.Label:
    return html.Label(className="field", children=[
        label, dcc.Input(id=ident, type="number", value=value, min=lo, max=hi, step=step, debounce=True)])


def layout(**_):
    return html.Div(className="gw", children=[
        html.H1("Gravitational-wave counterparts"),
        html.P("Drop an event's sky map (bayestar.fits.gz from GraceDB: flat or multi-order HEALPix, gzipped or "
               "not; the event's time is its DATE-OBS). The objects with an alert inside the credible region, "
               "from days before to days after the event, are listed with their newest alert; objects first "
               "detected more than 'days after' before that alert (old variable sources) are left out.",
               className="muted"),
        dcc.Upload(id="gw-upload", max_size=gw.MAX_MAP_BYTES, multiple=False, className="gw-upload",
                   children=html.Div(["Drop the sky map here, or ", html.A("choose a file")], id="gw-upload-label")),
        html.Div(className="gw-form", children=[
            html.Label(className="field", children=["Survey", dcc.RadioItems(
                id="gw-survey", options=[{"label": n, "value": v} for n, v in SURVEYS], value="ztf", inline=True)]),
            _number("gw-level", "Credible level", 0.9, 0.01, 1.0, 0.01),
            _number("gw-before", "Days before", 1.0, 0.0, 7.0, 0.5),
            _number("gw-after", "Days after", 6.0, 0.0, 14.0, 0.5),
            html.Button("Search", id="gw-search", n_clicks=0, className="btn btn-primary"),
        ]),
        loading(html.Div(id="gw-body")),
    ])


dash.register_page(__name__, path="/gw", name="Gravitational waves", title="Gravitational waves · Nocturne",
                   order=3, layout=layout)


@callback(Output("gw-upload-label", "children"), Input("gw-upload", "filename"), prevent_initial_call=True)
def show_file(filename):
    return f"Map: {filename} (drop another to replace it)" if filename else "Drop the sky map here"


@callback(Output("gw-body", "children"), Input("gw-search", "n_clicks"),
          State("gw-upload", "contents"), State("gw-survey", "value"), State("gw-level", "value"),
          State("gw-before", "value"), State("gw-after", "value"), prevent_initial_call=True)
def search(_clicks, contents, survey, level, before, after):
    numbers = []
    for name, value, lo, hi in (("credible level", level, 0.0, 1.0), ("days before", before, 0.0, 7.0),
                                ("days after", after, 0.0, 14.0)):
        number = _number_in(value, lo, hi)
        if number is None:
            return error(f"{name}: a number from {lo:g} to {hi:g}")
        numbers.append(number)
    level, before, after = numbers
    try:
        sky = gw.read_upload(contents)
    except gw.MapRefused as exc:
        return error(str(exc))
    store = G.rubin_store_or_none() if survey == "rubin" else G.store_or_none()
    if store is None:
        return error("this server holds no Rubin tables" if survey == "rubin" else "the store is not available")
    try:
        with q.time_budget(G.config().query_time_budget_s):
            found = gw.find(store, survey, sky, level, before, after)
    except q.QueryTooLarge as exc:
        return error(str(exc))
    return gw.results(found, G.base_url())


def _number_in(value, lo: float, hi: float) -> float | None:
    """``value`` as a number within [lo, hi], or None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if lo <= number <= hi else None
