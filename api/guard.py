"""What every response passes through: security headers, CORS on the API, and a rate
limit per client on ``/api/`` (429 with Retry-After).

The limit is a token bucket per client address, kept in each gunicorn worker: a client
gets ``api_rate_limit`` requests per minute from each worker, and may spend a whole
minute's worth in a burst. nginx's ``limit_req`` (deploy/nginx/nocturne.conf) adds the global limit in front.
"""
from __future__ import annotations

import ipaddress
import threading
import time

from flask import Flask, request

from .errors import error_response

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class TokenBuckets:
    def __init__(self, per_minute: int, max_clients: int = 100_000):
        self.rate = per_minute / 60.0
        self.burst = max(1.0, float(per_minute))
        self.buckets: dict[str, tuple[float, float]] = {}
        self.max_clients = max_clients
        self.lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 if the client may go on, else the seconds until it may."""
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.buckets[client] = (tokens - 1, now)
                return 0.0
            self.buckets[client] = (tokens, now)
            if len(self.buckets) > self.max_clients:
                self.buckets.clear()
            return (1 - tokens) / self.rate


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
    buckets = TokenBuckets(config.api_rate_limit) if config.api_rate_limit else None
    origins = {o.strip() for o in config.cors_origins.split(",") if o.strip()}

    @app.before_request
    def _rate_limit():
        if buckets is None or not request.path.startswith("/api/") or request.method == "OPTIONS":
            return None
        wait = buckets.take(client_address())
        if wait:
            response = error_response(429, f"too many requests: at most {config.api_rate_limit} per minute; "
                                           f"retry in {wait:.0f} s")
            response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
            return response
        return None

    @app.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/api/") and origins:
            origin = request.headers.get("Origin")
            if "*" in origins:
                response.headers["Access-Control-Allow-Origin"] = "*"
            elif origin in origins:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Vary"] = "Origin"
            response.headers.setdefault("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
            response.headers.setdefault("Access-Control-Allow-Headers", "Content-Type, Authorization")
        return response
