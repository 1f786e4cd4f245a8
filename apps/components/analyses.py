"""The object page's card of analyses by external services: for each, the service, its state,
who ran it and when, with what parameters, its results as a table and its plots (PNG or SVG as
``<img>`` of a data URL, so an SVG's scripts never run). Read-only; started with the API
(``POST /api/v1/analysis``)."""
from __future__ import annotations

import json

from dash import html


def _results_table(results: dict | None):
    if not results:
        return None
    rows = [html.Tr([html.Td(str(k)), html.Td(json.dumps(v, default=str)[:300])]) for k, v in results.items()]
    return html.Table(className="analysis-results", children=rows)


def _plot(plot: dict):
    media = "image/png" if plot.get("format") == "png" else "image/svg+xml"
    return html.Img(src=f"data:{media};base64,{plot['data']}", alt=plot.get("name", "plot"), title=plot.get("name"),
                    className="analysis-plot", style={"maxWidth": "100%"})


def card(analyses: list[dict]):
    items = []
    for a in analyses:
        params = ", ".join(f"{k}={v}" for k, v in (a.get("parameters") or {}).items()) or "no parameters"
        items.append(html.Li(className=f"analysis analysis-{a['state']}", children=[
            html.Div([html.B(a["service"]), f" · {a['state'].replace('_', ' ')} · {a['user']} · {a['created']}"
                      f" · {params}"]),
            html.Div(a["message"], className="analysis-message") if a.get("message") else None,
            _results_table(a.get("results")),
            *[_plot(p) for p in a.get("plots") or []],
        ]))
    return html.Div(className="card", id="analyses", children=[
        html.H3("Analyses"),
        html.Ul(items) if items else html.P("No analysis yet: start one with POST /api/v1/analysis."),
    ])
