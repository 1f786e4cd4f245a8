"""The Dash app on the Flask server: layout shell, pages, static assets (all served locally).

Dash keeps its callbacks and page registry in module globals and hands them to the first
app that serves a request. Page modules are imported once per process; their callbacks
are kept here and given to every app built afterwards, so tests can build several
servers (each with its own store) in one process.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import dash
from dash import Dash, _callback, html
from flask import Flask

from apps.components.shell import shell

ASSETS = Path(__file__).resolve().parents[1] / "assets"
# Exact paths first: the object page's "/<object_id>" matches any path, so it comes last.
PAGES = ("home", "statistics", "api_docs", "not_found_404", "object")
_callbacks: tuple[dict, list] | None = None


def init_portal(server: Flask) -> Dash:
    """Mount the portal at "/" of ``server`` and return the Dash app."""
    global _callbacks
    app = Dash(__name__, server=server, url_base_pathname="/", use_pages=True, pages_folder="",
               assets_folder=str(ASSETS), serve_locally=True, title="Nocturne",
               suppress_callback_exceptions=True, update_title=None,
               meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"},
                          {"name": "description", "content": "Nocturne: science portal for astronomical alert streams"}])
    if _callbacks is None:
        for name in PAGES:
            module = importlib.import_module(f"apps.pages.{name}")
            dash.page_registry[module.__name__]["layout"] = module.layout  # as Dash's own page loader does
        _callbacks = (dict(_callback.GLOBAL_CALLBACK_MAP), list(_callback.GLOBAL_CALLBACK_LIST))
        _callback.GLOBAL_CALLBACK_MAP.clear()
        _callback.GLOBAL_CALLBACK_LIST.clear()
    app.callback_map.update(_callbacks[0])
    app._callback_list.extend(_callbacks[1])
    app.layout = shell(dash.page_container)
    # Dash finishes its set-up (scripts, callbacks, the pages router) on a worker's first
    # request; with threaded workers a concurrent request could see it half done. Do it now.
    with server.test_request_context("/"):
        server.preprocess_request()
    # the hashes of the page's inline scripts, for the Content-Security-Policy (api/guard.py)
    server.config["NOCTURNE_SCRIPT_HASHES"] = app.csp_hashes
    return app


