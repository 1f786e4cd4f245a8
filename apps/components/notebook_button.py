"""The "Notebook" download of a results page and of an object page: a button, a dcc.Download
and a thin callback handing the page's query to :mod:`apps.notebooks` with this server's address."""
from __future__ import annotations

from dash import Input, Output, State, dcc, html, no_update

from api import portal_gateway as G
from apps import notebooks as NB
from apps import search as S
from apps.callbacks import callback
from science.identifiers import OBJECT_ID

TIP = "A Jupyter notebook that reloads these rows through the Python client and redraws the plots"


def results_button() -> html.Span:
    return html.Span([html.Button("Notebook", id="results-notebook", className="btn btn-small", n_clicks=0,
                                  title=TIP),
                      dcc.Download(id="results-notebook-download")])


def object_button() -> html.Span:
    return html.Span([html.Button("Notebook (.ipynb)", id="object-notebook", className="btn btn-small", n_clicks=0,
                                  title="A Jupyter notebook that reloads this object through the Python client and "
                                        "draws its light curve"),
                      dcc.Download(id="object-notebook-download")])


@callback(Output("results-notebook-download", "data"), Input("results-notebook", "n_clicks"),
          State("search-query", "data"), prevent_initial_call=True)
def results_notebook(clicks, text):
    if not clicks or not text:
        return no_update
    try:
        search, _ = S.resolve(G.store(), S.parse(text))
        nb = NB.results_notebook(search, G.base_url())
    except (S.SearchError, G.Refused, ValueError):
        return no_update
    return dcc.send_bytes(NB.to_bytes(nb), f"nocturne-{search.kind}.ipynb")


@callback(Output("object-notebook-download", "data"), Input("object-notebook", "n_clicks"),
          State("object-id", "data"), prevent_initial_call=True)
def object_notebook(clicks, object_id):
    if not clicks or not OBJECT_ID.match(object_id or ""):
        return no_update
    return dcc.send_bytes(NB.to_bytes(NB.object_notebook(object_id, G.base_url())), f"{object_id}.ipynb")
