"""The web server: one Flask app holding the REST API (/api) and the Dash portal (/).

Production: ``gunicorn -c deploy/gunicorn.conf.py index:server``.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import NotFound

from api import init_api
from settings import Config, get_config


def create_app(config: Config | None = None) -> Flask:
    """Build the server for ``config`` (default: the process configuration): the REST API
    under /api and the Dash portal at "/" (search, object pages, statistics)."""
    from apps.portal import init_portal

    app = Flask(__name__)
    app.config["NOCTURNE"] = config or get_config()
    init_api(app)

    @app.route("/api/<path:rest>", methods=["GET", "POST"])
    def unknown_api_path(rest):
        raise NotFound()  # answered as the API's JSON error, not captured by the portal's pages

    init_portal(app)
    return app


server = create_app()

if __name__ == "__main__":
    from api.analysis_dispatcher import ensure_started

    cfg = get_config()
    ensure_started(cfg)  # gunicorn starts it in post_worker_init (deploy/gunicorn.conf.py)
    server.run(host=cfg.server_host, port=cfg.server_port)
