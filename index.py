"""The web server: one Flask app for the portal and the API. ``gunicorn index:server``.

Until the portal and API issues land, the home page says what the store holds.
"""
from __future__ import annotations

import html

from flask import Flask

from api import init_api
from api.access import current_store
from settings import Config, get_config
from store import StoreError


def create_app(config: Config | None = None) -> Flask:
    """Build the server for ``config`` (default: the process configuration)."""
    app = Flask(__name__)
    app.config["NOCTURNE"] = config or get_config()
    init_api(app)
    store = current_store

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
