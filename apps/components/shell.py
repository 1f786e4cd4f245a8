"""The frame around every page: a top bar with navigation, the page, a footer."""
from __future__ import annotations

from dash import dcc, html

from .survey_switch import switch

NAV = (("Search", "/"), ("Statistics", "/statistics"), ("Gravitational waves", "/gw"), ("API", "/api-docs"))


def shell(page) -> html.Div:
    return html.Div(className="app", children=[
        html.Header(className="topbar", children=[
            dcc.Link(className="brand", href="/", children=[html.Span("◐", className="brand-mark"), "Nocturne"]),
            html.Nav(className="nav", children=[dcc.Link(label, href=href, className="nav-link")
                                                for label, href in NAV]),
            switch(),
        ]),
        html.Main(className="page", children=page),
        html.Footer(className="footer", children=[
            "Nocturne — an open science portal for astronomical alert streams. ",
            html.A("REST API", href="/api"), " · ",
            html.A("OpenAPI spec", href="/api/v1/openapi.json"),
        ]),
    ])


def loading(child, kind: str = "default", target: dict | None = None):
    """A loading indicator shown after a short delay (so fast answers do not flicker).

    ``target`` ({id: property}) limits it to those outputs; without it, any output inside
    ``child`` that is being computed hides the whole child behind the spinner."""
    extra = {"target_components": target} if target else {}
    return dcc.Loading(child, type=kind, delay_show=300, color="#3f6ad8", **extra)


def code_block(code: str, block_id: str) -> html.Div:
    """Code with a copy-to-clipboard button."""
    return html.Div(className="code", children=[
        dcc.Clipboard(target_id=block_id, className="copy", title="Copy"),
        html.Pre(code, id=block_id),
    ])
