"""The web server: one Flask app for the portal and the API. ``gunicorn index:server``.

Until the portal and API issues land, the home page says what the store holds.
"""
from __future__ import annotations

import html

from flask import Flask, g, jsonify

from settings import Config, get_config
from store import StoreError, open_store


def create_app(config: Config | None = None) -> Flask:
    """Build the server for ``config`` (default: the process configuration)."""
    app = Flask(__name__)
    app.config["NOCTURNE"] = config or get_config()

    def store():
        if "store" not in g:
            g.store = open_store(app.config["NOCTURNE"])
        return g.store

    @app.teardown_appcontext
    def _close(_exc):
        s = g.pop("store", None)
        if s is not None:
            s.close()

    @app.get("/health")
    def health():
        try:
            tables = store().existing_tables()
        except StoreError as exc:
            return jsonify(status="error", message=str(exc)), 503
        return jsonify(status="ok", backend=app.config["NOCTURNE"].backend, tables=tables)

    @app.get("/")
    def home():
        cfg = app.config["NOCTURNE"]
        try:
            s = store()
            nights = [k.rsplit("_", 1)[-1] for k, _ in s.table("statistics").scan(columns=["basic:raw"])]
            alerts = sum(c.get("basic:sci", 0) for _, c in s.table("statistics").scan(columns=["basic:sci"]))
            body = (f"<p>{len(nights)} night(s) ingested, {alerts} alerts.</p>"
                    f"<p>Nights: {html.escape(', '.join(nights) or 'none yet')}</p>")
        except StoreError as exc:
            body = f"<p class='error'>The store is not available: {html.escape(str(exc))}</p>"
        return (f"<!doctype html><html><head><title>Nocturne</title></head><body>"
                f"<h1>Nocturne</h1><p>Science portal for astronomical alert streams "
                f"({html.escape(cfg.backend)} store).</p>{body}</body></html>")

    return app


server = create_app()

if __name__ == "__main__":
    cfg = get_config()
    server.run(host=cfg.server_host, port=cfg.server_port)
