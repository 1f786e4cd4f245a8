"""The Dash app on the Flask server: layout shell, pages, static assets (all served locally).

Only Dash's public API is used. Each page module calls ``dash.register_page`` with its
``layout`` (Dash's documented alternative to a scanned ``pages`` folder), so
``dash.page_registry`` holds every page once the modules are imported; the registry
orders them by ``order``, the object page's catch-all ``/<object_id>`` last. Callbacks are
declared with :func:`apps.callbacks.callback` and attached to each app with
``app.callback``, so a process may build several servers (tests build one per store).
"""
from __future__ import annotations

import importlib
from pathlib import Path

import dash
from dash import Dash
from flask import Flask, redirect, send_file

from apps import callbacks
from apps.components.shell import shell
from apps.science_tabs._common import manager

ASSETS = Path(__file__).resolve().parents[1] / "assets"
#: plotly.js with the cartesian traces only (scatter, bar, heatmap: all the portal draws), 1.5 MB
#: instead of the 4.8 MB of Dash's full bundle; fetched at install by scripts/plotly.sh
PLOTLY_CARTESIAN = ASSETS / "vendor" / "plotly" / "plotly-cartesian.min.js"
PLOTLY_ROUTE = "/_nocturne/plotly.min.js"  # assets/plotly_js.js points dcc.Graph here
PAGES = ("home", "statistics", "gw", "api_docs", "not_found_404", "rubin_object", "admin_analysis", "object")


def warm_up() -> None:
    """Pay at start what the first page of each process would pay: the table schemas (read
    once per process), plotly's lazily imported figure classes and its default template
    (~1.5 s cold, measured by ``bench/bench_portal.py --chromium``)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from api import portal_gateway

    portal_gateway.load_schemas()
    import pandas as pd
    import plotly.io as pio

    x = pd.Series([0.0, 1.0])
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True)
    fig.add_trace(go.Scatter(x=x, y=x, mode="markers", error_y={"array": x}, customdata=[[0], [1]]), 1, 1)
    fig.add_trace(go.Bar(x=x, y=x), 2, 1)
    fig.update_layout(template=pio.templates.default, legend={"orientation": "h"}, xaxis={"title": "x"},
                      yaxis={"autorange": "reversed"})
    fig.to_plotly_json()


def serve_plotly():
    """The cartesian plotly.js bundle when installed, else a redirect to Dash's full one."""
    if PLOTLY_CARTESIAN.is_file():
        return send_file(PLOTLY_CARTESIAN, mimetype="application/javascript", max_age=86400)
    return redirect("/_dash-component-suites/plotly/package_data/plotly.min.js", code=302)


def init_portal(server: Flask) -> Dash:
    """Mount the portal at "/" of ``server`` and return the Dash app."""
    config = server.config["NOCTURNE"]
    app = Dash(__name__, server=server, url_base_pathname="/", use_pages=True, pages_folder="",
               assets_folder=str(ASSETS), assets_path_ignore=["vendor"], serve_locally=True, title="Nocturne",
               suppress_callback_exceptions=True, update_title=None,
               background_callback_manager=manager(config.dash_jobs_dir),
               meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"},
                          {"name": "description", "content": "Nocturne: science portal for astronomical alert streams"}])
    for name in PAGES:  # register_page needs an app first: import the pages after it (once per process)
        importlib.import_module(f"apps.pages.{name}")
    callbacks.attach(app)
    server.add_url_rule(PLOTLY_ROUTE, "nocturne_plotly", serve_plotly)
    app.layout = shell(dash.page_container)
    # Dash finishes its set-up (scripts, callbacks, the pages router) on a worker's first
    # request; with threaded workers a concurrent request could see it half done. Do it now.
    with server.test_request_context("/"):
        server.preprocess_request()
    warm_up()
    # the hashes of the page's inline scripts, for the Content-Security-Policy (api/guard.py)
    server.config["NOCTURNE_SCRIPT_HASHES"] = app.csp_hashes
    return app
