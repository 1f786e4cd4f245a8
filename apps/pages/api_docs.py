"""The API page: the REST API's docs (served by the API at /api) inside the portal's layout."""
from __future__ import annotations

import dash
from dash import html

def layout(**_):
    return html.Div(className="api-docs", children=[
        html.Div(className="api-docs-head", children=[
            html.H1("REST API"),
            html.P(["Fink-compatible endpoints under /api/v1 — every example below runs in your browser. ",
                    html.A("Open the docs on their own page", href="/api", target="_blank"), " · ",
                    html.A("OpenAPI spec (JSON)", href="/api/v1/openapi.json")], className="muted"),
        ]),
        html.Iframe(src="/api", className="api-frame", title="Nocturne API documentation"),
    ])


dash.register_page(__name__, path="/api-docs", name="API", title="API · Nocturne", order=2, layout=layout)
