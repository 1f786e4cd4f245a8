"""What every response passes through: security headers (with a Content-Security-Policy),
CORS on the API, and a rate limit per client on ``/api/`` (429 with Retry-After).

The limit is ``api_rate_limit`` requests in any 60 s per client address, counted across
every worker and process of the server (:mod:`api.rate_limits`). nginx's ``limit_req``
(deploy/nginx/nocturne.conf) adds a per-second limit in front.
"""
from __future__ import annotations

import ipaddress

from flask import Flask, request

from .errors import API_PATHS, error_response
from .rate_limits import RateLimited, retry_after, shared_limits

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# Everything is served from this origin (Dash's bundles and the assets too). Scripts: only our
# own files, plus the inline scripts of Dash's page, allowed one by one by their hashes
# (``script_hashes``), never ``'unsafe-inline'``. Dash's renderer, dcc, dash-table,
# dash-ag-grid and Plotly need no ``eval`` for what the portal uses (their ``new Function``
# sites are a fallback behind try/catch, ag-grid's string expressions and Plotly's WebGL
# traces, neither used). Styles may be inline: Dash, Plotly and ag-grid set them at run time.
# The sky view (Aladin Lite, served from /assets/vendor) compiles its WebAssembly core:
# ``'wasm-unsafe-eval'`` allows that and nothing else (no ``eval`` of JavaScript), and it fetches
# that core from a ``data:`` URL inside its bundle (connect-src ``data:``: no request leaves) and
# starts a worker from a ``blob:`` URL it makes itself (worker-src ``blob:``); its HiPS
# image tiles come from the origin of the setting ``sky_images``, added to img-src and connect-src.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self' 'wasm-unsafe-eval'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self' data:",
    "worker-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}


def content_security_policy(script_hashes=(), image_origin: str = "") -> str:
    policy = dict(CONTENT_SECURITY_POLICY)
    policy["script-src"] = " ".join([policy["script-src"], *script_hashes])
    if image_origin:
        for key in ("img-src", "connect-src"):
            policy[key] = f"{policy[key]} {image_origin}"
    return "; ".join(f"{k} {v}" for k, v in policy.items())


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute http(s) URL; "" for a path or nothing."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if scheme in ("http", "https") and rest else ""


def client_address() -> str:
    """The client's address; behind a local proxy (nginx), the one it forwarded."""
    remote = request.remote_addr or "unknown"
    forwarded = request.headers.get("X-Forwarded-For")
    try:
        local = ipaddress.ip_address(remote).is_loopback
    except ValueError:
        local = False
    if forwarded and local:
        return forwarded.split(",")[-1].strip()
    return remote


def init_guard(app: Flask) -> None:
    config = app.config["NOCTURNE"]
    limits = shared_limits(config.data_dir)
    origins = {o.strip() for o in config.cors_origins.split(",") if o.strip()}
    sky = origin_of(config.sky_images)
    plain_policy = content_security_policy(image_origin=sky)

    @app.before_request
    def _rate_limit():
        if not config.api_rate_limit or not request.path.startswith(API_PATHS) or request.method == "OPTIONS":
            return None
        wait = limits.take(f"api|{client_address()}", config.api_rate_limit)
        if wait:
            response = error_response(429, f"too many requests: at most {config.api_rate_limit} per minute; "
                                           f"retry in {retry_after(wait)} s")
            response.headers["Retry-After"] = retry_after(wait)
            return response
        return None

    @app.errorhandler(RateLimited)
    def _limited(exc: RateLimited):
        response = error_response(429, exc.message)
        response.headers["Retry-After"] = retry_after(exc.wait)
        return response

    @app.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        hashes = app.config.get("NOCTURNE_SCRIPT_HASHES")  # set by the portal: Dash's csp_hashes
        html = hashes is not None and response.mimetype == "text/html"
        response.headers.setdefault("Content-Security-Policy",
                                    content_security_policy(hashes(), sky) if html else plain_policy)
        if request.path.startswith(API_PATHS) and origins:
            origin = request.headers.get("Origin")
            if "*" in origins:
                response.headers["Access-Control-Allow-Origin"] = "*"
            elif origin in origins:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Vary"] = "Origin"
            response.headers.setdefault("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
            response.headers.setdefault("Access-Control-Allow-Headers", "Content-Type, Authorization")
        return response
