"""The Sky tab: the object's neighbourhood in Aladin Lite, with the objects stored around it."""
from __future__ import annotations

from dash import html

from api import portal_gateway as G
from api import queries as q
from apps.components import sky
from apps.science_tabs._common import message


def layout(object_id: str):
    store = G.store()
    alerts = q.objects(store, [object_id])
    if alerts.empty:
        return message(f"{object_id} has no alert stored here.", "error")
    last = alerts.iloc[-1]
    return html.Div(className="science-tab", id="sky-tab", children=[
        html.H3("Sky"), sky.neighbourhood(store, object_id, float(last["i:ra"]), float(last["i:dec"]))])
