"""The object page's card of analyses by external services.

For each analysis: the service, its state (queued → sent → completed, failed or timed out),
who ran it and when, with what parameters, its message, its results as a table and its plots
(PNG or SVG as ``<img>`` of a data URL, so an SVG's scripts never run); who started one (or
an admin) may delete it. A signed-in user (the annotations panel's sign-in: its session and
CSRF token ``ann-csrf``, see :mod:`apps.components.annotations`) picks a service open to them,
its optional parameters among their allowed values, and runs it; the card then polls
(``an-poll``) only while one of the object's analyses is queued or sent. The checks are the
API's (:func:`api.portal_gateway.start_analysis`).
"""
from __future__ import annotations

import json

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from api import portal_gateway as G
from apps.callbacks import callback

POLL_MS = 1500
PENDING = ("queued", "sent")
ROW = {"display": "flex", "gap": ".5rem", "flexWrap": "wrap", "alignItems": "center", "margin": ".3rem 0"}


def card(object_id: str) -> html.Div:
    """The card, rendered for the request's session."""
    identity = G.session_identity(G.store())
    items = G.analyses(object_id)
    return html.Div(className="card", id="analyses", children=[
        html.H3("Analyses"),
        dcc.Store(id="an-object", data=object_id),
        dcc.Store(id="an-version", data=0),
        dcc.Interval(id="an-poll", interval=POLL_MS, disabled=not pending(items)),
        html.Div(controls(identity), id="an-controls"),
        html.Div(id="an-msg", className="small", role="status", **{"aria-live": "polite"}),
        html.Div(listing(items, identity), id="an-list"),
    ])


def pending(items: list[dict]) -> bool:
    return any(a["state"] in PENDING for a in items)


# -- starting ----------------------------------------------------------------------------------
def controls(identity: G.Identity | None):
    if identity is None:
        return html.P("Sign in (in the Annotations panel below) to run an analysis.", className="muted small")
    services = G.analysis_services(identity)
    if not services:
        return html.P("No analysis service is open to you on this server.", className="muted small")
    return html.Div(children=[
        dcc.Dropdown(id="an-service", value=services[0]["name"], clearable=False, searchable=False,
                     options=[{"label": f"{s['name']}" + (f" — {s['description']}" if s.get("description") else ""),
                               "value": s["name"]} for s in services]),
        html.Div(parameters(services[0]), id="an-params"),
        html.Button("Run analysis", id="an-start", className="btn btn-primary btn-small", n_clicks=0),
    ])


def parameters(service: dict | None):
    """One dropdown per optional parameter of the service, its allowed values as choices."""
    declared = (service or {}).get("parameters") or {}
    return html.Div(style=ROW, children=[
        html.Label([f"{name} ", dcc.Dropdown(id={"type": "an-param", "name": name}, value=allowed[0], clearable=False,
                                             searchable=False, options=[{"label": str(a), "value": a} for a in allowed],
                                             style={"minWidth": "9rem"})],
                   style={"display": "flex", "alignItems": "center", "gap": ".3rem"})
        for name, allowed in declared.items()])


# -- the list ----------------------------------------------------------------------------------
def _results_table(results: dict | None):
    if not results:
        return None
    rows = [html.Tr([html.Td(str(k)), html.Td(json.dumps(v, default=str)[:300])]) for k, v in results.items()]
    return html.Table(className="analysis-results", children=rows)


def _plot(plot: dict):
    media = "image/png" if plot.get("format") == "png" else "image/svg+xml"
    return html.Img(src=f"data:{media};base64,{plot['data']}", alt=plot.get("name", "plot"), title=plot.get("name"),
                    className="analysis-plot", style={"maxWidth": "100%"})


def listing(items: list[dict], identity: G.Identity | None):
    if not items:
        return html.P("No analysis yet.", className="muted small")
    rows = []
    for a in items:
        params = ", ".join(f"{k}={v}" for k, v in (a.get("parameters") or {}).items()) or "no parameters"
        delete = html.Button("delete", id={"type": "an-del", "id": a["id"]}, className="btn btn-small", n_clicks=0,
                             style={"marginLeft": ".5rem"}) if G.may_delete_analysis(identity, a) else None
        rows.append(html.Li(className=f"analysis analysis-{a['state']}", children=[
            html.Div([html.B(a["service"]), " · ",
                      html.Span(a["state"].replace("_", " "), className="analysis-state"),
                      f" · {a['user']} · {a['created']} · {params}", delete]),
            html.Div(a["message"], className="analysis-message") if a.get("message") else None,
            _results_table(a.get("results")),
            *[_plot(p) for p in a.get("plots") or []],
        ]))
    return html.Ul(rows)


def _error(message: str) -> html.Span:
    return html.Span(message, style={"color": "#b3261e"})


# -- callbacks ---------------------------------------------------------------------------------
@callback(Output("an-controls", "children"), Input("ann-csrf", "data"), prevent_initial_call=True)
def signed_in_or_out(_csrf):
    return controls(G.session_identity(G.store()))


@callback(Output("an-params", "children"), Input("an-service", "value"), prevent_initial_call=True)
def pick_service(name):
    return parameters(next((s for s in G.analysis_services(G.session_identity(G.store())) if s["name"] == name), None))


@callback(Output("an-msg", "children"), Output("an-version", "data"),
          Input("an-start", "n_clicks"), State("an-service", "value"),
          State({"type": "an-param", "name": ALL}, "value"), State({"type": "an-param", "name": ALL}, "id"),
          State("ann-csrf", "data"), State("an-object", "data"), State("an-version", "data"), prevent_initial_call=True)
def run(clicks, service, values, ids, csrf, object_id, version):
    if not clicks:
        return no_update, no_update
    identity = G.session_identity(G.store(), csrf=csrf or "")
    try:
        G.start_analysis(identity, object_id, service, {i["name"]: v for i, v in zip(ids or [], values or [])})
    except G.Refused as exc:
        return _error(str(exc)), no_update
    return f"Analysis by {service} queued.", (version or 0) + 1


@callback(Output("an-msg", "children", allow_duplicate=True), Output("an-version", "data", allow_duplicate=True),
          Input({"type": "an-del", "id": ALL}, "n_clicks"), State("ann-csrf", "data"), State("an-version", "data"),
          prevent_initial_call=True)
def delete(clicks, csrf, version):
    if not ctx.triggered_id or not any(clicks or ()):
        return no_update, no_update
    try:
        G.remove_analysis(G.session_identity(G.store(), csrf=csrf or ""), ctx.triggered_id["id"])
    except G.Refused as exc:
        return _error(str(exc)), no_update
    return "Analysis deleted.", (version or 0) + 1


@callback(Output("an-list", "children"), Output("an-poll", "disabled"),
          Input("an-version", "data"), Input("an-poll", "n_intervals"), Input("ann-csrf", "data"),
          State("an-object", "data"), prevent_initial_call=True)
def refresh(_version, _ticks, _csrf, object_id):
    """The list again; the poll runs only while an analysis is queued or sent."""
    items = G.analyses(object_id)
    return listing(items, G.session_identity(G.store())), not pending(items)
