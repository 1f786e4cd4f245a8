"""Who may call an endpoint: the check of a declared :class:`~api.params.Access`.

:func:`identify` answers the caller's identity or refuses, in this order: 401 (with
``WWW-Authenticate``) without a valid token or signed-in session; for a write, 429 with
``Retry-After`` past the write limit; 403 when the identity lacks every declared scope.
:func:`api.routes.route` calls it before reading the parameters (or, for an access with
``when``, the view calls ``values.identity()`` for the requests that need it).
"""
from __future__ import annotations

from flask import current_app, request

from . import auth
from .access import current_store
from .guard import client_address
from .params import Access
from .rate_limits import RateLimited, retry_after, shared_limits

CSRF_HEADER = "X-CSRF-Token"


def check_write_rate(user: str) -> None:
    """:class:`RateLimited` (429) when ``user``, or the request's client address, made
    ``writes_per_minute`` writes in the last minute, counted across every worker."""
    config = current_app.config["NOCTURNE"]
    limit, limits = config.writes_per_minute, shared_limits(config.data_dir)
    for key, who in ((f"write|{user}", f"by {user}"), (f"write-from|{client_address()}", "from this address")):
        wait = limits.take(key, limit)
        if wait:
            raise RateLimited(f"too many writes {who}: at most {limit} per minute; retry in {retry_after(wait)} s",
                              wait)


def identify(access: Access) -> auth.Identity:
    """The request's identity under ``access``, held to the write limit when it writes and
    to the declared scopes; :class:`~api.auth.AuthError` (401/403) or 429 otherwise."""
    store = current_store()
    if access.via == "token":
        identity = auth.request_identity(store)
    elif access.via == "session":
        identity = auth.session_identity(store, csrf=request.headers.get(CSRF_HEADER, ""))
        if identity is None:
            raise auth.AuthError(401, f"this endpoint needs a signed-in portal session and its CSRF token in the "
                                      f"header {CSRF_HEADER}")
    else:
        raise AssertionError(f"access {access.via!r} names no caller")
    if access.writes:
        check_write_rate(identity.user)
    auth.require(identity, *access.scopes)
    return identity
