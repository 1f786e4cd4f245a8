"""The object page's annotations panel: what people wrote about the object, and, for a
signed-in user, a form to add one.

Sign-in takes a username and password or an API token and begins a session
(:func:`api.portal_gateway.sign_in`: a row in the store, its id in Flask's signed session cookie,
HttpOnly, SameSite=Lax, with a CSRF token); every write sends that token back
from the page (``ann-csrf``) and is refused unless it matches the session's. Text is shown
as text: Dash renders strings as text nodes, never as HTML.
"""
from __future__ import annotations

from urllib.parse import quote

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from api import portal_gateway as G
from apps.callbacks import callback

HIDDEN = {"display": "none"}
SHOWN: dict = {}
ROW = {"display": "flex", "gap": ".5rem", "flexWrap": "wrap", "alignItems": "center", "margin": ".3rem 0"}
INPUT = {"font": "inherit", "padding": ".35rem .5rem", "border": "1px solid #b9c3d0", "borderRadius": "6px"}


def panel(object_id: str) -> html.Div:
    """The panel, rendered for the request's session."""
    identity = G.session_identity(G.store())
    return html.Div(className="card annotations", id="annotations", children=[
        html.H3("Annotations"),
        dcc.Store(id="ann-object", data=object_id),
        dcc.Store(id="ann-csrf", data=G.session_csrf() if identity else ""),
        dcc.Store(id="ann-version", data=0),
        html.Div(listing(G.for_object(G.store(), object_id), identity), id="ann-list"),
        html.Div(id="ann-signin-box", style=HIDDEN if identity else SHOWN, children=[
            html.P("Sign in to add an annotation: a username and password, or an API token.", className="muted small"),
            html.Div(style=ROW, children=[
                dcc.Input(id="ann-user", type="text", placeholder="username", autoComplete="username", style=INPUT),
                dcc.Input(id="ann-password", type="password", placeholder="password", autoComplete="current-password",
                          style=INPUT),
                html.Span("or", className="muted"),
                dcc.Input(id="ann-token", type="password", placeholder="API token", autoComplete="off", style=INPUT),
                html.Button("Sign in", id="ann-signin", className="btn btn-small", n_clicks=0),
            ]),
            html.Div(id="ann-signin-msg", className="small", role="status"),
        ]),
        html.Div(id="ann-add-box", style=SHOWN if identity else HIDDEN, children=[
            html.Div(style=ROW, children=[
                html.Span(f"Signed in as {identity.user}" if identity else "", id="ann-who", className="muted small"),
                html.Button("Sign out", id="ann-signout", className="btn btn-small", n_clicks=0),
            ]),
            dcc.Textarea(id="ann-text", placeholder=f"What did you find? (at most {G.MAX_TEXT} characters)",
                         maxLength=G.MAX_TEXT, style={**INPUT, "width": "100%", "minHeight": "4rem"}),
            html.Div(style=ROW, children=[
                dcc.Input(id="ann-tags", type="text", placeholder="tags, comma-separated", maxLength=400, style=INPUT),
                dcc.Input(id="ann-name", type="text", placeholder="internal name (optional)", maxLength=64, style=INPUT),
                html.Button("Add annotation", id="ann-add", className="btn btn-primary btn-small", n_clicks=0),
            ]),
            html.Div(id="ann-add-msg", className="small", role="status"),
        ]),
    ])


def listing(items: list[dict], identity: G.Identity | None) -> html.Div:
    if not items:
        return html.P("No annotation yet.", className="muted small", id="ann-empty")
    return html.Ul(style={"listStyle": "none", "padding": 0, "margin": 0}, children=[
        html.Li(className="annotation", style={"borderBottom": "1px solid #dde3ea", "padding": ".4rem 0"}, children=[
            html.Div(className="muted small", children=[
                html.B(a["author"]), f" · {(a['time'] or '')[:16].replace('T', ' ')} UTC",
                *([" · internal name ", html.Span(a["internal_name"], className="ann-name")] if a["internal_name"] else []),
                *([" ", html.Button("delete", id={"type": "ann-del", "id": a["id"]}, className="btn btn-small",
                                    n_clicks=0, style={"marginLeft": ".5rem"})] if G.may_delete(identity, a) else []),
            ]),
            html.P(a["text"], className="ann-text", style={"whiteSpace": "pre-wrap", "margin": ".2rem 0"}),
            html.Div([dcc.Link(f"#{t}", href=f"/?q={quote('tag: ' + t)}", className="chip ann-tag",
                               style={"marginRight": ".3rem"}) for t in a["tags"]]),
        ]) for a in items])


def _error(message: str) -> html.Span:
    return html.Span(message, style={"color": "#b3261e"})


@callback(Output("ann-signin-box", "style"), Output("ann-add-box", "style"), Output("ann-who", "children"),
          Output("ann-csrf", "data"), Output("ann-signin-msg", "children"), Output("ann-password", "value"),
          Output("ann-token", "value"),
          Input("ann-signin", "n_clicks"), Input("ann-signout", "n_clicks"), State("ann-user", "value"),
          State("ann-password", "value"), State("ann-token", "value"), prevent_initial_call=True)
def sign_in_or_out(_in, _out, user, password, token):
    if ctx.triggered_id == "ann-signout":
        G.sign_out(G.store())
        return SHOWN, HIDDEN, "", "", "Signed out.", "", ""
    if G.too_many_sign_ins(user if not (token or "").strip() else ""):
        return no_update, no_update, no_update, no_update, _error("Too many attempts; wait a minute."), "", ""
    store = G.store()
    identity = G.token_identity(store, (token or "").strip()) if (token or "").strip() else \
        G.password_identity(store, user or "", password or "")
    if identity is None:
        return no_update, no_update, no_update, no_update, _error("Wrong username, password or token."), "", ""
    if not identity.can("annotate"):
        return no_update, no_update, no_update, no_update, _error("This token may not annotate."), "", ""
    csrf = G.sign_in(store, identity)
    return HIDDEN, SHOWN, f"Signed in as {identity.user}", csrf, "", "", ""


@callback(Output("ann-add-msg", "children"), Output("ann-version", "data"), Output("ann-text", "value"),
          Input("ann-add", "n_clicks"), State("ann-text", "value"), State("ann-tags", "value"),
          State("ann-name", "value"), State("ann-csrf", "data"), State("ann-object", "data"),
          State("ann-version", "data"), prevent_initial_call=True)
def add(_clicks, text, tags, name, csrf, object_id, version):
    identity = G.session_identity(G.store(), csrf=csrf or "")
    if identity is None or not identity.can("annotate"):
        return _error("Your session has ended: sign in again."), no_update, no_update
    try:
        G.add_annotation(identity, object_id, text, (tags or "").split(","), name)
    except G.Refused as exc:
        return _error(str(exc)), no_update, no_update
    return "Annotation added.", (version or 0) + 1, ""


@callback(Output("ann-add-msg", "children", allow_duplicate=True), Output("ann-version", "data", allow_duplicate=True),
          Input({"type": "ann-del", "id": ALL}, "n_clicks"), State("ann-csrf", "data"), State("ann-version", "data"),
          prevent_initial_call=True)
def delete(clicks, csrf, version):
    if not ctx.triggered_id or not any(clicks or ()):
        return no_update, no_update
    identity = G.session_identity(G.store(), csrf=csrf or "")
    try:
        G.remove_annotation(identity, ctx.triggered_id["id"])
    except G.Refused as exc:
        return _error(str(exc)), no_update
    return "Annotation deleted.", (version or 0) + 1


@callback(Output("ann-list", "children"), Input("ann-version", "data"), Input("ann-csrf", "data"),
          State("ann-object", "data"), prevent_initial_call=True)
def refresh(_version, _csrf, object_id):
    store = G.store()
    return listing(G.for_object(store, object_id), G.session_identity(store))
