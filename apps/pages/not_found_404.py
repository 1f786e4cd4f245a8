"""The not-found page: for unknown paths and for objectIds with no alert in the store."""
from __future__ import annotations

from urllib.parse import quote

import dash
from dash import dcc, html

from api import portal_gateway as G
from apps import search as S

def not_found(path: str = "", message: str = "", extra: list | None = None) -> html.Div:
    return html.Div(className="not-found card", id="not-found", children=[
        html.H1("Not found"),
        html.P(message or f"There is no page at {path}.", className="lead"),
        *(extra or []),
        html.P(["Search again from the ", dcc.Link("search page", href="/"), ", or try an example: "]),
        html.Div(className="examples", children=[dcc.Link(label, href=f"/?q={quote(text)}", className="chip")
                                                 for label, text in S.examples(G.store_or_none()).items()]),
    ])


def layout(**_):
    return not_found()


dash.register_page(__name__, path="/404", name="Not found", title="Not found · Nocturne", order=98, layout=layout)
