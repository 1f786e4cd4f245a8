"""Search results: the sortable, paginated table, the sky plot, downloads and API calls."""
from __future__ import annotations

from urllib.parse import quote

import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html
from plotly.colors import qualitative

from apps import search as S

from . import notebook_button
from . import sky as aladin
from .shell import code_block

WIDTHS = {"class": 150, "first detection": 150, "last detection": 150, "ra": 110, "dec": 110}
#: one colour per class of a plot: 24 well-separated colours, then 24 lighter ones
CLASS_COLOURS = list(qualitative.Dark24) + list(qualitative.Light24)


def table(rows: pd.DataFrame) -> dag.AgGrid:
    return linked_grid("results-grid", rows, "objectId", "/", 140, WIDTHS, 90, column_min=90)


def linked_grid(grid_id: str, rows: pd.DataFrame, ident: str, path: str, ident_width: int,
                widths: dict | None = None, width: int = 110, column_min: int | None = None) -> dag.AgGrid:
    """The sortable, paginated table of a list of objects: ``ident`` pinned left, each a link
    to ``path`` + the id (its page), the other columns ``widths[c]`` (else ``width``) wide at
    least; ``column_min``: the smallest width of any column. Search results, Rubin results
    and the gravitational-wave page use it."""
    columns = [{"field": ident, "headerName": ident, "cellRenderer": "markdown", "pinned": "left",
                "minWidth": ident_width}]
    columns += [{"field": c, "headerName": c, "minWidth": (widths or {}).get(c, width)} for c in rows.columns if c != ident]
    data = rows.assign(**{ident: [f"[{o}]({path}{o})" for o in rows[ident]]}).to_dict("records")
    default = {"sortable": True, "filter": True, "resizable": True}
    if column_min is not None:
        default["minWidth"] = column_min
    return dag.AgGrid(
        id=grid_id, rowData=data, columnDefs=columns, defaultColDef=default,
        columnSize="autoSize", dashGridOptions={"pagination": True, "paginationPageSize": 20,
                                                "domLayout": "autoHeight", "animateRows": False},
        className="ag-theme-alpine results-grid")


def sky_plot(rows: pd.DataFrame) -> dcc.Graph:
    """The objects on the sky, one colour per class; a click on a point opens its object page
    (see :func:`clicked_object`)."""
    fig = go.Figure()
    for i, (label, group) in enumerate(rows.groupby("class", sort=True)):
        fig.add_trace(go.Scatter(x=group["ra"], y=group["dec"], mode="markers", name=label or "no class",
                                 text=group["objectId"], customdata=group["objectId"],
                                 marker={"size": 7, "color": CLASS_COLOURS[i % len(CLASS_COLOURS)]},
                                 hovertemplate="%{text}<br>ra %{x:.5f}<br>dec %{y:.5f}<br>click: open"
                                               "<extra></extra>"))
    fig.update_layout(margin={"l": 50, "r": 10, "t": 10, "b": 40}, height=320, template="plotly_white",
                      legend={"orientation": "h", "y": -0.2}, xaxis={"title": "ra [deg]", "autorange": "reversed"},
                      yaxis={"title": "dec [deg]"}, hovermode="closest", clickmode="event")
    return dcc.Graph(id="results-sky", figure=fig, config={"displaylogo": False, "responsive": True})


def clicked_object(click: dict | None) -> str | None:
    """The object page's path of a clicked point of :func:`sky_plot`, or None."""
    points = (click or {}).get("points") or []
    oid = points[0].get("customdata") if points else None
    return f"/{oid}" if isinstance(oid, str) and oid else None


def downloads(found: S.Found, base_url: str) -> html.Div:
    shown = len(found.alerts)
    children = [html.Span("Download these:" if not found.capped else f"Download the {shown:,} shown:",
                          className="muted"),
                *[html.Button(fmt.upper() if fmt != "votable" else "VOTable", id={"type": "results-dl", "fmt": fmt},
                              className="btn btn-small", n_clicks=0) for fmt in ("csv", "json", "votable")],
                dcc.Download(id="results-download"), notebook_button.results_button()]
    if found.capped:
        n = found.total or S.MAX_API_ROWS
        endpoint, params = S.api_call(found.search, n)
        every = "all" if found.total and found.total <= S.MAX_API_ROWS else f"the first {min(n, S.MAX_API_ROWS):,}"
        children += [html.Span(f" · {every} through the API: ", className="muted", id="results-full"),
                     *[html.A(fmt.upper(), href=S.api_url(base_url, endpoint, params, fmt), className="btn btn-small",
                              id=f"results-full-{fmt}", target="_blank", rel="noopener")
                       for fmt in ("csv", "json", "parquet")]]
        if not found.total or found.total > S.MAX_API_ROWS:
            children.append(html.Span(f" (the API answers at most {S.MAX_API_ROWS:,} rows a call: split the "
                                      f"search)", className="muted"))
    return html.Div(className="downloads", children=children)


def api_calls(search: S.Search, base_url: str) -> html.Details:
    endpoint, params = S.api_call(search)
    return html.Details(className="api-calls", children=[
        html.Summary("Copy as Python / curl"),
        html.P("The API request that answers the rows shown here.", className="muted"),
        code_block(S.python_snippet(base_url, endpoint, params), "results-python"),
        code_block(S.curl_snippet(base_url, endpoint, params), "results-curl"),
    ])


def count_text(found: S.Found) -> str:
    """``561 alerts``, ``first 1,000 of 1,023 alerts``, or ``first 1,000 of 1,000+ objects``."""
    shown, unit = len(found.alerts), found.unit
    if not found.capped:
        return f"{shown:,} {unit if shown != 1 else unit[:-1]}"
    total = f"{found.total:,}" if found.total is not None else f"{S.COUNT_CAP:,}+" if found.unit == "alerts" \
        else f"{shown:,}+"
    return f"first {shown:,} of {total} {unit}"


def results(found: S.Found, base_url: str) -> html.Div:
    search, rows = found.search, S.summarise(found.alerts)
    head = html.Div(className="results-head", children=[
        html.H2(f"{len(rows)} object{'s' if len(rows) != 1 else ''}", id="results-count"),
        html.Span(f"{search.describe()} · {count_text(found)}", className="muted", id="results-what"),
    ])
    if rows.empty:
        hint = [html.P(["Did you mean ", *_links(found.suggestions), "?"], className="suggest", id="results-suggest")] \
            if found.suggestions else []
        return html.Div(className="results", children=[head, *hint, html.P(
            "Nothing found. Try a larger cone, another class, or one of the examples above.", className="empty")])
    return html.Div(className="results", children=[
        head,
        html.Div(className="toolbar", children=[downloads(found, base_url), api_calls(search, base_url)]),
        html.Div(className="results-body", children=[
            html.Div(table(rows), className="results-table"),
            html.Div(sky_plot(rows), className="results-sky card"),
        ]),
        aladin.results_sky(rows),
    ])


def _links(searches: list[str]) -> list:
    out = []
    for i, text in enumerate(searches):
        out += ([" or "] if i else []) + [dcc.Link(text, href=f"/?q={quote(text)}", className="chip")]
    return out


def error(message: str) -> html.Div:
    return html.Div(className="alert-error", role="alert", children=message)
