"""The "Notebook" download of a results page and of an object page (ZTF and Rubin): a button, a
dcc.Download and a thin callback handing the page's query to :mod:`apps.notebooks` with this
server's address."""
from __future__ import annotations

import re

from dash import Input, Output, State, dcc, html, no_update

from api import portal_gateway as G
from apps import notebooks as NB
from apps import search as S
from apps.callbacks import callback
from science.identifiers import OBJECT_ID

DIGITS = re.compile(r"[0-9]{1,19}")  # a diaObjectId (int64)

TIP = "A Jupyter notebook that reloads these rows through the Python client and redraws the plots"


def results_button() -> html.Span:
    return html.Span([html.Button("Notebook", id="results-notebook", className="btn btn-small", n_clicks=0,
                                  title=TIP),
                      dcc.Download(id="results-notebook-download")])


def object_button(prefix: str = "object") -> html.Span:
    """The object page's button; ``prefix`` "rubin-object" on the Rubin page (ids ``<prefix>-notebook``)."""
    return html.Span([html.Button("Notebook (.ipynb)", id=f"{prefix}-notebook", className="btn btn-small", n_clicks=0,
                                  title="A Jupyter notebook that reloads this object through the Python client and "
                                        "draws its light curve"),
                      dcc.Download(id=f"{prefix}-notebook-download")])


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


def _object_download(prefix: str, valid, write) -> None:
    """Registers the callback of ``object_button(prefix)``: the object id in the page's store
    ``<prefix>-id``, checked by ``valid`` (a compiled pattern), written by ``write(id, base_url)``."""
    @callback(Output(f"{prefix}-notebook-download", "data"), Input(f"{prefix}-notebook", "n_clicks"),
              State(f"{prefix}-id", "data"), prevent_initial_call=True)
    def download(clicks, object_id):
        if not clicks or not valid.fullmatch(str(object_id or "")):
            return no_update
        return dcc.send_bytes(NB.to_bytes(write(object_id, G.base_url())), f"{object_id}.ipynb")


_object_download("object", OBJECT_ID, NB.object_notebook)
_object_download("rubin-object", DIGITS, lambda oid, base: NB.rubin_object_notebook(int(oid), base))
