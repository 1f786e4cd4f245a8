"""Search results: the sortable, paginated table, the sky plot, downloads and API calls."""
from __future__ import annotations

import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from apps import search as S

from . import sky as aladin
from .shell import code_block

WIDTHS = {"class": 150, "first detection": 150, "last detection": 150, "ra": 110, "dec": 110}
CLASS_COLOURS = ["#3f6ad8", "#d1495b", "#1b9e4b", "#e0a100", "#7a4bc2", "#0096a6", "#8c564b", "#5a6270"]


def table(rows: pd.DataFrame) -> dag.AgGrid:
    columns = [{"field": "objectId", "headerName": "objectId", "cellRenderer": "markdown", "pinned": "left",
                "minWidth": 140}]
    columns += [{"field": c, "headerName": c, "minWidth": WIDTHS.get(c, 90)} for c in rows.columns if c != "objectId"]
    data = rows.assign(objectId=[f"[{o}](/{o})" for o in rows["objectId"]]).to_dict("records")
    return dag.AgGrid(
        id="results-grid", rowData=data, columnDefs=columns,
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 90},
        columnSize="autoSize", dashGridOptions={"pagination": True, "paginationPageSize": 20,
                                                           "domLayout": "autoHeight", "animateRows": False},
        className="ag-theme-alpine results-grid")


def sky_plot(rows: pd.DataFrame) -> dcc.Graph:
    fig = go.Figure()
    for i, (label, group) in enumerate(rows.groupby("class", sort=True)):
        fig.add_trace(go.Scatter(x=group["ra"], y=group["dec"], mode="markers", name=label or "no class",
                                   text=group["objectId"], marker={"size": 7, "color": CLASS_COLOURS[i % 8]},
                                   hovertemplate="%{text}<br>ra %{x:.5f}<br>dec %{y:.5f}<extra></extra>"))
    fig.update_layout(margin={"l": 50, "r": 10, "t": 10, "b": 40}, height=320, template="plotly_white",
                      legend={"orientation": "h", "y": -0.2}, xaxis={"title": "ra [deg]", "autorange": "reversed"},
                      yaxis={"title": "dec [deg]"})
    return dcc.Graph(id="results-sky", figure=fig, config={"displaylogo": False, "responsive": True})


def downloads() -> html.Div:
    return html.Div(className="downloads", children=[
        html.Span("Download: ", className="muted"),
        *[html.Button(fmt.upper() if fmt != "votable" else "VOTable", id={"type": "results-dl", "fmt": fmt},
                      className="btn btn-small", n_clicks=0) for fmt in ("csv", "json", "votable")],
        dcc.Download(id="results-download"),
    ])


def api_calls(search: S.Search, base_url: str) -> html.Details:
    endpoint, params = S.api_call(search)
    note = [] if search.kind != "date" else [html.P(
        "The API's explorer takes windows of up to 180 minutes; split longer windows.", className="muted")]
    return html.Details(className="api-calls", children=[
        html.Summary("Copy as Python / curl"),
        *note,
        code_block(S.python_snippet(base_url, endpoint, params), "results-python"),
        code_block(S.curl_snippet(base_url, endpoint, params), "results-curl"),
    ])


def results(search: S.Search, alerts: pd.DataFrame, base_url: str) -> html.Div:
    rows = S.summarise(alerts)
    head = html.Div(className="results-head", children=[
        html.H2(f"{len(rows)} object{'s' if len(rows) != 1 else ''}", id="results-count"),
        html.Span(f"{search.describe()} · {len(alerts)} alert{'s' if len(alerts) != 1 else ''}", className="muted"),
    ])
    if rows.empty:
        return html.Div(className="results", children=[head, html.P(
            "Nothing found. Try a larger cone, another class, or one of the examples above.", className="empty")])
    return html.Div(className="results", children=[
        head,
        html.Div(className="toolbar", children=[downloads(), api_calls(search, base_url)]),
        html.Div(className="results-body", children=[
            html.Div(table(rows), className="results-table"),
            html.Div(sky_plot(rows), className="results-sky card"),
        ]),
        aladin.results_sky(rows),
    ])


def error(message: str) -> html.Div:
    return html.Div(className="alert-error", role="alert", children=message)
