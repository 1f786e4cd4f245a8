"""Search results on the Rubin tables: a diaObjectId, or a cone (the newest alert of each object),
one row per object linking to its page (/lsst/<diaObjectId>)."""
from __future__ import annotations

import pandas as pd
from dash import html

from api.queries import rubin as qr
from apps import search as S

from .rubin_object_info import CATS_CLASSES
from .results import error, linked_grid

MAX_ROWS = 1000
OTHER_KINDS = ("The Rubin search takes a diaObjectId (a large integer, or 'lsst: <id>') or a cone 'ra dec radius'; "
               "switch to ZTF in the top bar for classes, nights, solar-system objects, tags and names.")


def run(store, search: S.Search) -> pd.DataFrame:
    """One row per Rubin object the search finds: diaObjectId, ra, dec, and what the table shows."""
    p = search.params
    if search.kind == "diaObjectId":
        found = qr.objects(store, [p["diaObjectId"]], ["r:diaObjectId", "r:ra", "r:dec", "r:nDiaSources",
                                                       "r:midpointMjdTai", "f:main_label_classifier",
                                                       "f:main_label_crossmatch"])
        if found.empty:
            return pd.DataFrame()
        return pd.DataFrame({"diaObjectId": found["r:diaObjectId"].astype(str), "ra": found["r:ra"].round(6),
                             "dec": found["r:dec"].round(6), "diaSources": found["r:nDiaSources"],
                             "newest alert [MJD]": found["r:midpointMjdTai"].round(5),
                             "Fink class": [_cats(v) for v in found["f:main_label_classifier"]],
                             "cross-match": found["f:main_label_crossmatch"].fillna("")})
    found = qr.conesearch(store, p["ra"], p["dec"], p["radius"], n=MAX_ROWS,
                          columns=["r:diaObjectId", "r:band", "r:psfFlux"])
    found = found[found["r:diaObjectId"] != 0] if len(found) else found  # solar-system alerts have no object page
    if found.empty:
        return pd.DataFrame()
    return pd.DataFrame({"diaObjectId": found["r:diaObjectId"].astype(str), "ra": found["r:ra"].round(6),
                         "dec": found["r:dec"].round(6), "last alert [MJD]": found["r:midpointMjdTai"].round(5),
                         "band": found["r:band"], "psfFlux [nJy]": found["r:psfFlux"].round(1),
                         "separation (arcsec)": (found["v:separation_degree"] * 3600).round(2)})


def _cats(value) -> str:
    return "" if value is None or value is pd.NA or value != value else CATS_CLASSES.get(int(value), str(value))


def results(search: S.Search, store) -> html.Div:
    """The results block of a Rubin search (a diaObjectId or a cone), else the message saying what works."""
    if search.kind not in ("diaObjectId", "cone"):
        return error(OTHER_KINDS)
    rows = run(store, search)
    head = html.Div(className="results-head", children=[
        html.H2(f"{len(rows)} Rubin object{'s' if len(rows) != 1 else ''}", id="results-count"),
        html.Span(search.describe() if search.kind == "diaObjectId" else f"Rubin {search.describe()}",
                  className="muted"),
    ])
    if rows.empty:
        return html.Div(className="results", children=[head, html.P(
            "Nothing found among the Rubin objects held here.", className="empty")])
    grid = linked_grid("rubin-results-grid", rows, "diaObjectId", "/lsst/", 190)
    return html.Div(className="results", children=[head, html.Div(grid, className="results-table")])
