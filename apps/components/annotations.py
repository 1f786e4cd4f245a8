"""The object page's annotations panel: what people wrote about the object, and, for a
signed-in user, a form to add one.

Sign-in takes a username and password or an API token and begins a session
(:func:`api.auth.sign_in`: a row in the store, its id in Flask's signed session cookie,
HttpOnly, SameSite=Lax, with a CSRF token); every write sends that token back
from the page (``ann-csrf``) and is refused unless it matches the session's. Text is shown
as text: Dash renders strings as text nodes, never as HTML.
"""
from __future__ import annotations

from urllib.parse import quote

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from flask import current_app

from api import auth
from api.annotations import MAX_TEXT, annotate, check_write_rate, delete_annotation, for_object, get_annotation
from api.access import current_store
from api.errors import ApiError
from api.guard import client_address
from api.rate_limits import shared_limits
from apps.callbacks import callback

HIDDEN = {"display": "none"}
SHOWN: dict = {}
ROW = {"display": "flex", "gap": ".5rem", "flexWrap": "wrap", "alignItems": "center", "margin": ".3rem 0"}
INPUT = {"font": "inherit", "padding": ".35rem .5rem", "border": "1px solid #b9c3d0", "borderRadius": "6px"}


def panel(object_id: str) -> html.Div:
    """The panel, rendered for the request's session."""
    store = current_store()
    identity = auth.session_identity(store)
    return html.Div(className="card annotations", id="annotations", children=[
        html.H3("Annotations"),
        dcc.Store(id="ann-object", data=object_id),
        dcc.Store(id="ann-csrf", data=auth.session_csrf() if identity else ""),
        dcc.Store(id="ann-version", data=0),
        html.Div(listing(for_object(store, object_id), identity), id="ann-list"),
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
            dcc.Textarea(id="ann-text", placeholder=f"What did you find? (at most {MAX_TEXT} characters)",
                         maxLength=MAX_TEXT, style={**INPUT, "width": "100%", "minHeight": "4rem"}),
            html.Div(style=ROW, children=[
                dcc.Input(id="ann-tags", type="text", placeholder="tags, comma-separated", maxLength=400, style=INPUT),
                dcc.Input(id="ann-name", type="text", placeholder="internal name (optional)", maxLength=64, style=INPUT),
                html.Button("Add annotation", id="ann-add", className="btn btn-primary btn-small", n_clicks=0),
            ]),
            html.Div(id="ann-add-msg", className="small", role="status"),
        ]),
    ])


def listing(items: list[dict], identity: auth.Identity | None) -> html.Div:
    if not items:
        return html.P("No annotation yet.", className="muted small", id="ann-empty")
    return html.Ul(style={"listStyle": "none", "padding": 0, "margin": 0}, children=[
        html.Li(className="annotation", style={"borderBottom": "1px solid #dde3ea", "padding": ".4rem 0"}, children=[
            html.Div(className="muted small", children=[
                html.B(a["author"]), f" · {(a['time'] or '')[:16].replace('T', ' ')} UTC",
                *([" · internal name ", html.Span(a["internal_name"], className="ann-name")] if a["internal_name"] else []),
                *([" ", html.Button("delete", id={"type": "ann-del", "id": a["id"]}, className="btn btn-small",
                                    n_clicks=0, style={"marginLeft": ".5rem"})] if _may_delete(identity, a) else []),
            ]),
            html.P(a["text"], className="ann-text", style={"whiteSpace": "pre-wrap", "margin": ".2rem 0"}),
            html.Div([dcc.Link(f"#{t}", href=f"/?q={quote('tag: ' + t)}", className="chip ann-tag",
                               style={"marginRight": ".3rem"}) for t in a["tags"]]),
        ]) for a in items])


def _may_delete(identity, annotation) -> bool:
    return identity is not None and (identity.user == annotation["author"] or identity.can("admin"))


def _error(message: str) -> html.Span:
    return html.Span(message, style={"color": "#b3261e"})


def too_many_sign_ins(user: str) -> bool:
    """True when this client address, or the username tried, made ``sign_ins_per_minute``
    attempts in the last minute (counted across every worker of the server)."""
    config = current_app.config["NOCTURNE"]
    limits = shared_limits(config.data_dir)
    keys = [f"sign-in|{client_address()}"] + ([f"sign-in-user|{user.strip().lower()[:64]}"] if (user or "").strip() else [])
    return any(limits.take(key, config.sign_ins_per_minute) for key in keys)


@callback(Output("ann-signin-box", "style"), Output("ann-add-box", "style"), Output("ann-who", "children"),
          Output("ann-csrf", "data"), Output("ann-signin-msg", "children"), Output("ann-password", "value"),
          Output("ann-token", "value"),
          Input("ann-signin", "n_clicks"), Input("ann-signout", "n_clicks"), State("ann-user", "value"),
          State("ann-password", "value"), State("ann-token", "value"), prevent_initial_call=True)
def sign_in_or_out(_in, _out, user, password, token):
    if ctx.triggered_id == "ann-signout":
        auth.sign_out(current_store())
        return SHOWN, HIDDEN, "", "", "Signed out.", "", ""
    if too_many_sign_ins(user if not (token or "").strip() else ""):
        return no_update, no_update, no_update, no_update, _error("Too many attempts; wait a minute."), "", ""
    store = current_store()
    identity = auth.token_identity(store, (token or "").strip()) if (token or "").strip() else \
        auth.password_identity(store, user or "", password or "")
    if identity is None:
        return no_update, no_update, no_update, no_update, _error("Wrong username, password or token."), "", ""
    if not identity.can("annotate"):
        return no_update, no_update, no_update, no_update, _error("This token may not annotate."), "", ""
    csrf = auth.sign_in(store, identity)
    return HIDDEN, SHOWN, f"Signed in as {identity.user}", csrf, "", "", ""


@callback(Output("ann-add-msg", "children"), Output("ann-version", "data"), Output("ann-text", "value"),
          Input("ann-add", "n_clicks"), State("ann-text", "value"), State("ann-tags", "value"),
          State("ann-name", "value"), State("ann-csrf", "data"), State("ann-object", "data"),
          State("ann-version", "data"), prevent_initial_call=True)
def add(_clicks, text, tags, name, csrf, object_id, version):
    store = current_store()
    identity = auth.session_identity(store, csrf=csrf or "")
    if identity is None or not identity.can("annotate"):
        return _error("Your session has ended: sign in again."), no_update, no_update
    try:
        check_write_rate(identity.user)
        annotate(store, identity.user, object_id, text, (tags or "").split(","), name)
    except ApiError as exc:
        return _error(exc.message), no_update, no_update
    return "Annotation added.", (version or 0) + 1, ""


@callback(Output("ann-add-msg", "children", allow_duplicate=True), Output("ann-version", "data", allow_duplicate=True),
          Input({"type": "ann-del", "id": ALL}, "n_clicks"), State("ann-csrf", "data"), State("ann-version", "data"),
          prevent_initial_call=True)
def delete(clicks, csrf, version):
    if not ctx.triggered_id or not any(clicks or ()):
        return no_update, no_update
    store = current_store()
    identity = auth.session_identity(store, csrf=csrf or "")
    key = ctx.triggered_id["id"]
    record = get_annotation(store, key) if identity else None
    if record is None or not _may_delete(identity, record):
        return _error("You may not delete this annotation (sign in as its author)."), no_update
    delete_annotation(store, key)
    return "Annotation deleted.", (version or 0) + 1


@callback(Output("ann-list", "children"), Input("ann-version", "data"), Input("ann-csrf", "data"),
          State("ann-object", "data"), prevent_initial_call=True)
def refresh(_version, _csrf, object_id):
    store = current_store()
    return listing(for_object(store, object_id), auth.session_identity(store))
