"""The Microlensing tab of the object page (placeholder until the science tab lands)."""
from __future__ import annotations

from dash import html


def layout(object_id: str):
    return html.Div(className="tab-placeholder", children=[
        html.H3("Microlensing"),
        html.P(f"The microlensing analysis of {object_id} is coming soon.", className="muted"),
    ])
