"""The Variable star tab of the object page (placeholder until the science tab lands)."""
from __future__ import annotations

from dash import html


def layout(object_id: str):
    return html.Div(className="tab-placeholder", children=[
        html.H3("Variable star"),
        html.P(f"The variable star analysis of {object_id} is coming soon.", className="muted"),
    ])
