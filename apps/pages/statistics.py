"""Statistics: alerts per night, per class and per filter over time; the last night's summary."""
from __future__ import annotations

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, dcc, html

from api import portal_gateway as G
from api import queries as q
from api.queries.stats import nightly_counts
from apps.callbacks import callback
from apps.components.lightcurve import FILTER_COLOURS
from apps.components.shell import loading
from apps.components.stats_charts import over_time
from science.bands import ZTF_FID

FILTER_COLUMNS = {f"basic:n_{band}": (band, FILTER_COLOURS[fid]) for fid, band in ZTF_FID.items()}


def layout(**_):
    return html.Div(className="statistics", children=[
        html.H1("Statistics"),
        dcc.Store(id="stats-trigger", data=0),
        loading(html.Div(id="stats-body")),
    ])


dash.register_page(__name__, path="/statistics", name="Statistics", title="Statistics · Nocturne", order=1, layout=layout)


def nights(stats: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(stats["key:key"].str.rsplit("_", n=1).str[-1], format="%Y%m%d")


def _bar(x, series: dict, title: str, stacked: bool = True) -> dcc.Graph:
    fig = go.Figure([go.Bar(x=x, y=y, name=name, marker_color=colour) for name, (y, colour) in series.items()])
    fig.update_layout(template="plotly_white", barmode="stack" if stacked else "group", height=320, title=title,
                      margin={"l": 50, "r": 10, "t": 40, "b": 40}, legend={"orientation": "h", "y": -0.3},
                      xaxis={"type": "category", "title": "night (UTC)"})
    return dcc.Graph(figure=fig, config={"displaylogo": False, "responsive": True})


def summary(last: pd.Series) -> html.Div:
    classes = sorted(((k.split(":", 1)[1], int(v)) for k, v in last.items() if k.startswith("class:") and v),
                     key=lambda kv: -kv[1])
    night = last["key:key"].rsplit("_", 1)[-1]
    facts = [("night", f"{night[:4]}-{night[4:6]}-{night[6:]}"), ("alerts received", last.get("basic:raw")),
             ("alerts stored", last.get("basic:sci")), ("objects", last.get("basic:n_objects")),
             ("quarantined", last.get("basic:quarantined"))]
    return html.Div(className="card", id="stats-last", children=[
        html.H2("Last ingested night"),
        html.Div(className="badges", children=[html.Span(className="badge", children=[
            html.Span(k, className="badge-label"), str(v if v == v and v is not None else "—")]) for k, v in facts]),
        html.Table(className="class-table", children=html.Tbody(
            [html.Tr([html.Td(label), html.Td(n, className="num")]) for label, n in classes[:15]])),
    ])


@callback(Output("stats-body", "children"), Input("stats-trigger", "data"))
def body(_):
    stats = q.statistics(G.store())
    if stats.empty:
        return html.P("No night has been ingested yet.", className="empty")
    stats = stats.assign(night=nights(stats)).sort_values("night")
    x = stats["night"].dt.strftime("%Y-%m-%d")  # categories: nights are sparse, a date axis hides the bars
    per_night = _bar(x, {"stored": (stats.get("basic:sci", 0), "#3f6ad8")}, "Alerts per night")
    filters = _bar(x, {name: (stats[c].fillna(0), colour) for c, (name, colour) in FILTER_COLUMNS.items()
                       if c in stats}, "Alerts per filter")
    class_cols = [c for c in stats.columns if c.startswith("class:")]
    top = stats[class_cols].sum().sort_values(ascending=False).index[:10]
    palette = ["#3f6ad8", "#d1495b", "#1b9e4b", "#e0a100", "#7a4bc2", "#0096a6", "#8c564b", "#5a6270", "#c2185b", "#607d8b"]
    classes = _bar(x, {c.split(":", 1)[1]: (stats[c], palette[i]) for i, c in enumerate(top)},
                   "Alerts per class (10 most frequent)")
    return html.Div([summary(stats.iloc[-1]), over_time(nightly_counts(G.store())), html.Div(className="grid-2", children=[
        html.Div(per_night, className="card"), html.Div(filters, className="card")]),
        html.Div(classes, className="card")])
