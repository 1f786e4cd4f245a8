"""The object's classification history: the class each alert was given, against time.

The class of an alert is the classification rule's label at that alert
(``d:classification``, ``science/classification.py``); an object's class can change as
its light curve grows (e.g. "Early SN Ia candidate" then "SN candidate"), which the
badge, showing the last alert's class only, hides.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from science.bands import ZTF_FID

CLASS_COLUMN = "d:classification"


def history(alerts: pd.DataFrame) -> pd.DataFrame:
    """One row per alert, oldest first: jd, date (UTC), band, class."""
    if alerts.empty or "i:jd" not in alerts:
        return pd.DataFrame(columns=["jd", "date", "band", "class"])
    jd = alerts["i:jd"].astype(float).to_numpy()
    classes = alerts[CLASS_COLUMN] if CLASS_COLUMN in alerts else pd.Series([None] * len(alerts))
    out = pd.DataFrame({
        "jd": jd,
        "date": pd.to_datetime((jd - 2440587.5) * 86400, unit="s").strftime("%Y-%m-%d %H:%M:%S"),
        "band": [ZTF_FID.get(int(f), "?") if f == f else "?" for f in alerts.get("i:fid", pd.Series([np.nan] * len(jd)))],
        "class": [c if isinstance(c, str) and c else "Unknown" for c in classes],
    })
    return out.sort_values("jd", kind="stable").reset_index(drop=True)


def figure(hist: pd.DataFrame) -> go.Figure:
    """Each alert's class against its date: one row per class, in order of first appearance."""
    order = list(dict.fromkeys(hist["class"]))
    fig = go.Figure(go.Scatter(
        x=hist["date"], y=hist["class"], mode="markers+lines", line={"width": 1, "color": "#c5ccd6"},
        marker={"size": 9, "color": "#3f6ad8"}, customdata=np.c_[hist["jd"], hist["band"]],
        hovertemplate="%{x}<br>JD %{customdata[0]:.5f}, band %{customdata[1]}<br>%{y}<extra></extra>"))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=order, title_text=None, automargin=True)
    fig.update_xaxes(title_text="date of the alert (UTC)")
    fig.update_layout(template="plotly_white", height=120 + 28 * len(order), showlegend=False,
                      margin={"l": 10, "r": 10, "t": 10, "b": 40})
    return fig


def card(alerts: pd.DataFrame) -> html.Div:
    """The Summary tab's card: the plot, and a sentence on how many class changes there were."""
    hist = history(alerts)
    changes = int((hist["class"] != hist["class"].shift()).sum() - 1) if len(hist) else 0
    words = (f"{len(hist)} alert{'s' * (len(hist) != 1)}, "
             + ("one class throughout." if changes <= 0 else f"{changes} change{'s' * (changes != 1)} of class."))
    return html.Div(className="card", id="class-history", children=[
        html.H3("Classification history"),
        dcc.Graph(id="class-history-graph", figure=figure(hist), config={"displaylogo": False, "responsive": True}),
        html.P(words, className="muted small", id="class-history-summary"),
    ])
