"""The REST API: a Flask blueprint compatible with Fink's, and the read-side queries.

``create_api_app(config)`` serves the API alone; ``index.py`` mounts it beside the portal.
"""
from __future__ import annotations

from flask import Flask

MAX_BODY_BYTES = 16 * 1024 * 1024


def init_api(app: Flask) -> None:
    """Mount the API blueprint (every declared route, the docs included) and the error handlers on ``app``."""
    from . import errors
    from .auth import init_auth
    from .guard import init_guard
    from . import docs, routes_analysis, routes_annotations, routes_lookup  # noqa: F401  (their routes join bp and root)
    from .routes import bp, root
    from .routes_rubin import rubin_bp
    from .routes_vo import rubin_vo_bp, vo_bp

    if not app.config.get("MAX_CONTENT_LENGTH"):
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.register_blueprint(bp)
    app.register_blueprint(root)
    app.register_blueprint(rubin_bp)
    app.register_blueprint(vo_bp)
    app.register_blueprint(rubin_vo_bp)
    errors.register(app)
    init_auth(app)
    init_guard(app)


def create_api_app(config=None) -> Flask:
    from settings import get_config

    app = Flask(__name__)
    app.config["NOCTURNE"] = config or get_config()
    init_api(app)
    return app
