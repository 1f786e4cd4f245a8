"""The registry of external analysis services, /admin/analysis: for a signed-in administrator,
the registered services (never their secrets), a form to register or replace one, and a
button to remove each. Everything goes through :mod:`api.portal_gateway`, which reads the form
by the declaration of ``POST /api/v1/analysis/services`` and checks it as the API does (URL
allowlist, names, parameters, scopes); other visitors see only how to sign in.
"""
from __future__ import annotations

import json

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from api import portal_gateway as G
from apps.callbacks import callback

DATA_TYPES = ("detections", "upper_limits", "forced_photometry", "cutouts", "annotations")
SCOPES = ("analysis", "annotate", "admin")
INPUT = {"font": "inherit", "padding": ".35rem .5rem", "border": "1px solid #b9c3d0", "borderRadius": "6px"}
ROW = {"display": "flex", "gap": ".5rem", "flexWrap": "wrap", "alignItems": "center", "margin": ".4rem 0"}


def layout(**_):
    identity = G.session_identity(G.store())
    if identity is None or not identity.can("admin"):
        return html.Div(className="card", id="svc-admin", children=[
            html.H1("Analysis services"),
            html.P("This page is for administrators. Sign in as one (in the Annotations panel of any object's "
                   "page), then come back.", id="svc-denied")])
    return html.Div(id="svc-admin", children=[
        html.H1("Analysis services"),
        dcc.Store(id="svc-csrf", data=G.session_csrf()),
        dcc.Store(id="svc-version", data=0),
        html.Div(className="card", children=[html.H3("Registered"),
                                             html.Div(listing(G.registered_services(identity)), id="svc-list")]),
        html.Div(className="card", children=[html.H3("Register or replace"), form()]),
    ])


def form():
    field = lambda id_, placeholder, **kw: dcc.Input(id=id_, placeholder=placeholder, style=INPUT, **kw)  # noqa: E731
    return html.Div([
        html.Div(style=ROW, children=[field("svc-name", "name (e.g. fitter)", maxLength=40),
                                      field("svc-url", "URL (in the allowlist)", maxLength=500, size="50"),
                                      field("svc-timeout", "timeout (s)", type="number", min=1, value=600)]),
        html.Div(style=ROW, children=[field("svc-description", "description", maxLength=500, size="60")]),
        html.Div(style=ROW, children=[
            dcc.Dropdown(id="svc-auth", value="none", clearable=False, searchable=False, style={"minWidth": "8rem"},
                         options=[{"label": f"auth: {a}", "value": a} for a in ("none", "header", "basic")]),
            field("svc-secret", "secret (token, or user:password)", type="password", maxLength=1000),
            dcc.Checklist(id="svc-upload-only", options=[{"label": "upload only", "value": "yes"}], value=[])]),
        html.Div(style=ROW, children=[html.Span("sends:"), dcc.Checklist(
            id="svc-data-types", value=["detections"], inline=True,
            options=[{"label": d.replace("_", " "), "value": d} for d in DATA_TYPES])]),
        dcc.Textarea(id="svc-parameters", placeholder='parameters and their allowed values, e.g. '
                                                      '{"model": ["linear", "quadratic"]}',
                     style={**INPUT, "width": "100%", "minHeight": "3rem"}),
        html.Div(style=ROW, children=[
            field("svc-users", "users who may use it, comma-separated", maxLength=1000, size="40"),
            html.Span("or scopes:"), dcc.Checklist(id="svc-scopes", value=[], inline=True,
                                                   options=[{"label": s, "value": s} for s in SCOPES])]),
        html.Button("Register", id="svc-register", className="btn btn-primary btn-small", n_clicks=0),
        html.Div(id="svc-msg", className="small", role="status"),
    ])


def listing(services: list[dict]):
    if not services:
        return html.P("No service is registered.", className="muted small")
    head = html.Tr([html.Th(h) for h in ("name", "URL", "sends", "parameters", "who", "timeout", "")])
    rows = [html.Tr(className="svc-row", children=[
        html.Td(html.B(s["name"])), html.Td(s["url"]), html.Td(", ".join(s.get("data_types") or [])),
        html.Td(json.dumps(s.get("parameters") or {})),
        html.Td(", ".join((s.get("users") or []) + [f"scope {x}" for x in s.get("scopes") or []]) or "anyone"),
        html.Td(f"{s['timeout']} s" + (" · upload only" if s.get("upload_only") else "")),
        html.Td(html.Button("remove", id={"type": "svc-del", "name": s["name"]}, className="btn btn-small",
                            n_clicks=0))]) for s in services]
    return html.Table([head, *rows], className="svc-table")


dash.register_page(__name__, path="/admin/analysis", name="Analysis services", title="Analysis services · Nocturne",
                   order=98, layout=layout)


def _error(message: str) -> html.Span:
    return html.Span(message, style={"color": "#b3261e"})


@callback(Output("svc-msg", "children"), Output("svc-version", "data"),
          Input("svc-register", "n_clicks"), State("svc-name", "value"), State("svc-url", "value"),
          State("svc-timeout", "value"), State("svc-description", "value"), State("svc-auth", "value"),
          State("svc-secret", "value"), State("svc-upload-only", "value"), State("svc-data-types", "value"),
          State("svc-parameters", "value"), State("svc-users", "value"), State("svc-scopes", "value"),
          State("svc-csrf", "data"), State("svc-version", "data"), prevent_initial_call=True)
def register(clicks, name, url, timeout, description, auth, secret, upload_only, data_types, parameters, users,
             scopes, csrf, version):
    if not clicks:
        return no_update, no_update
    raw = {"name": name, "url": url, "timeout": timeout, "description": description, "auth": auth, "secret": secret,
           "upload_only": "yes" in (upload_only or []), "data_types": data_types or None,
           "parameters": parameters, "users": users, "scopes": scopes or None}
    try:
        record = G.register_service(G.session_identity(G.store(), csrf=csrf or ""), raw)
    except G.Refused as exc:
        return _error(str(exc)), no_update
    return f"Service {record['name']} registered.", (version or 0) + 1


@callback(Output("svc-msg", "children", allow_duplicate=True), Output("svc-version", "data", allow_duplicate=True),
          Input({"type": "svc-del", "name": ALL}, "n_clicks"), State("svc-csrf", "data"), State("svc-version", "data"),
          prevent_initial_call=True)
def remove(clicks, csrf, version):
    if not ctx.triggered_id or not any(clicks or ()):
        return no_update, no_update
    try:
        G.remove_service(G.session_identity(G.store(), csrf=csrf or ""), ctx.triggered_id["name"])
    except G.Refused as exc:
        return _error(str(exc)), no_update
    return f"Service {ctx.triggered_id['name']} removed.", (version or 0) + 1


@callback(Output("svc-list", "children"), Input("svc-version", "data"), prevent_initial_call=True)
def refresh(_version):
    return listing(G.registered_services(G.session_identity(G.store())))
