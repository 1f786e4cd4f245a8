"""Statistics over time: a calendar heatmap of alerts per night, and cumulative counts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

GRAPH = {"displaylogo": False, "responsive": True}
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def calendar(nights: pd.DataFrame) -> dict:
    """Weeks × weekdays grid of ``alerts`` (None on days without an ingested night): ``z``,
    ``text`` (the dates), ``x`` (each week's Monday) and ``y`` (weekday names)."""
    start = nights["night"].min() - pd.Timedelta(days=nights["night"].min().weekday())
    weeks = int((nights["night"].max() - start).days // 7) + 1
    z = np.full((7, weeks), np.nan)
    text = np.full((7, weeks), "", dtype=object)
    for night, alerts in zip(nights["night"], nights["alerts"]):
        week, day = divmod((night - start).days, 7)
        z[day, week] = alerts
        text[day, week] = night.strftime("%Y-%m-%d")
    x = [(start + pd.Timedelta(weeks=w)).strftime("%Y-%m-%d") for w in range(weeks)]
    return {"z": [[None if np.isnan(v) else int(v) for v in row] for row in z], "text": text.tolist(),
            "x": x, "y": WEEKDAYS}


def heatmap(nights: pd.DataFrame) -> dcc.Graph:
    grid = calendar(nights)
    fig = go.Figure(go.Heatmap(z=grid["z"], x=grid["x"], y=grid["y"], text=grid["text"], colorscale="Blues",
                               xgap=2, ygap=2, hoverongaps=False, colorbar={"title": "alerts"},
                               hovertemplate="%{text}: %{z} alerts<extra></extra>"))
    fig.update_layout(template="plotly_white", height=260, title="Alerts per night",
                      margin={"l": 50, "r": 10, "t": 40, "b": 40},
                      xaxis={"title": "week of", "type": "category"}, yaxis={"autorange": "reversed"})
    return dcc.Graph(id="stats-calendar", figure=fig, config=GRAPH)


def cumulative(nights: pd.DataFrame) -> dcc.Graph:
    x = nights["night"].dt.strftime("%Y-%m-%d")
    fig = go.Figure([go.Scatter(x=x, y=nights["cumulative_received"], mode="lines+markers", name="received",
                                line={"shape": "hv", "color": "#5a6270"}),
                     go.Scatter(x=x, y=nights["cumulative_alerts"], mode="lines+markers", name="stored",
                                line={"shape": "hv", "color": "#3f6ad8"})])
    fig.update_layout(template="plotly_white", height=300, title="Cumulative alerts",
                      margin={"l": 60, "r": 10, "t": 40, "b": 40}, legend={"orientation": "h", "y": -0.25},
                      xaxis={"title": "night (UTC)", "type": "date"}, yaxis={"title": "alerts"})
    return dcc.Graph(id="stats-cumulative", figure=fig, config=GRAPH)


def over_time(nights: pd.DataFrame) -> html.Div:
    """Both charts, with the totals; nothing when no night is stored."""
    if nights.empty:
        return html.Div()
    first, last = (d.strftime("%Y-%m-%d") for d in (nights["night"].min(), nights["night"].max()))
    return html.Div(id="stats-over-time", children=[
        html.Div(heatmap(nights), className="card"), html.Div(cumulative(nights), className="card"),
        html.P(f"{len(nights)} nights from {first} to {last}: {int(nights['cumulative_alerts'].iloc[-1])} alerts "
               f"stored of {int(nights['cumulative_received'].iloc[-1])} received.", className="muted small",
               id="stats-totals")])
