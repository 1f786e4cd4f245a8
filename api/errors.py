"""One error shape for the whole API: ``{"status": "error", "message": "...", "text": "..."}``.

``text`` holds the same sentence as ``message``: it is the key Fink's API puts its error
sentence under (``{'status': 'error', 'text': ...}``), so a client written for Fink finds it
where it looks; the status codes are Fink's too (400 for a missing or invalid argument).

:class:`ApiError` carries the HTTP status; :func:`register` makes Flask answer every
error under ``/api/`` with that shape (404, 405, 413, 503 for an unavailable store, and
500 only for our own bugs, logged, with no traceback shown).
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("nocturne.api")
API_PATHS = ("/api/", "/lsst/api/")  # the ZTF API's paths, and the Rubin/LSST API's


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_body(message: str) -> dict:
    return {"status": "error", "message": message, "text": message}


def warning_header(warnings: list[str]) -> str:
    """An RFC 7234 ``Warning`` value (``299 - "text"``, comma-separated), in printable ASCII."""
    parts = []
    for text in warnings:
        text = text.encode("ascii", "backslashreplace").decode("ascii")[:500]
        text = "".join(c if c.isprintable() else "?" for c in text).replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'299 - "{text}"')
    return ", ".join(parts)


def error_response(status: int, message: str):
    response = jsonify(error_body(message))
    response.status_code = status
    return response


def register(app: Flask) -> None:
    from store import StoreError, StoreUnavailable

    def is_api() -> bool:
        return request.path.startswith(API_PATHS)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        response = error_response(exc.status, exc.message)
        response.headers.update(exc.headers)
        return response

    from .queries import QueryTooLarge

    @app.errorhandler(QueryTooLarge)
    def _too_large(exc):
        return error_response(422, str(exc))

    @app.errorhandler(StoreUnavailable)
    def _unavailable(exc):
        log.error("store unavailable: %s", exc)
        response = error_response(503, f"the data store is unavailable right now; try again shortly ({exc})")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(StoreError)
    def _store_error(exc):
        log.error("store error: %s", exc)
        return error_response(503, f"the data store cannot answer: {exc}")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if not is_api():
            return exc
        allowed = ", ".join(m for m in (getattr(exc, "valid_methods", None) or ["GET", "POST"]) if m not in ("HEAD", "OPTIONS"))
        messages = {404: f"no such endpoint {request.path}; see /api/v1/openapi.json",
                    405: f"{request.method} is not allowed on {request.path}; use {allowed}",
                    413: "request too large", 400: "bad request: " + (exc.description or "")}
        response = error_response(exc.code or 500, messages.get(exc.code, exc.description or exc.name))
        if getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _bug(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        if not is_api():
            return "Internal error: the team has been told. Please try again.", 500
        return error_response(500, "internal error: this is a bug in Nocturne, not in your request")
