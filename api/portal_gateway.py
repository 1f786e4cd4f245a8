"""The portal's one door into the server, beside :mod:`api.queries` (the reads).

Pages and components of ``apps/`` import :mod:`api.queries` for data and this module for
everything else the portal needs from the server: the request's store and configuration,
the Rubin store (:func:`rubin_store`), a store of its own for a background job, the API's
renderers, the search bar's parsing of angles and dates, annotations (read and write),
analyses by external services (start, list, delete) and sign-in sessions. They never import
routes, auth, guard or parameter internals: those may change shape without touching a page.
Writes go through the same functions as the API's, with the same checks (session CSRF token,
scopes, per-user and per-address write limits), and their refusals come back as
:class:`Refused` carrying the message to show.
"""
from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator

import pandas as pd
from flask import current_app, request

from settings import Config
from store import Store, open_store
from store.errors import StoreError

from .access import current_store
from .access import rubin_store as _rubin_store
from .annotations import (MAX_TEXT, TAG, annotate, check_write_rate, delete_annotation, for_object, get_annotation,
                          object_of_name, objects_with_tag)
from .auth import Identity, password_identity, session_csrf, session_identity, sign_in, sign_out, token_identity
from .errors import ApiError
from .guard import client_address
from .params import Param, parse_angle, parse_date
from .rate_limits import shared_limits
from .render import EXTENSIONS, RENDERERS

__all__ = ["MAX_TEXT", "TAG", "Identity", "Refused", "add_annotation", "analyses", "analysis_services", "angle",
           "config", "for_object", "may_delete_analysis", "register_service", "registered_services",
           "remove_analysis", "remove_service", "start_analysis",
           "base_url", "get_annotation", "job_store", "julian_date", "load_schemas", "may_delete", "object_of_name", "objects_with_tag",
           "password_identity", "remove_annotation", "render", "rubin_store",
           "session_csrf", "session_identity", "sign_in", "sign_out", "store", "store_or_none", "token_identity", "too_many_sign_ins"]


class Refused(ValueError):
    """A write or a value the server refuses; ``str(exc)`` is the message for the user."""


# -- the request's context -------------------------------------------------------------------
def store() -> Store:
    """The process's store (opened on first use), as the API reads it."""
    return current_store()


def load_schemas() -> None:
    """Read every survey's table schema now (each is read once per process, then cached)."""
    from hbase_schema import SURVEYS, get_schema
    for survey in SURVEYS:
        get_schema(survey)


def store_or_none() -> Store | None:
    """The process's ZTF store, or None when this server holds no ZTF tables (a Rubin-only
    server): for pages that only decorate with it (the example chips)."""
    try:
        return current_store()
    except (ApiError, StoreError):
        return None


def config() -> Config:
    """The server's configuration."""
    return current_app.config["NOCTURNE"]


def rubin_store() -> Store:
    """The process's Rubin/LSST store (tables of hbase_schema/rubin.yml); :class:`Refused`,
    with the command that creates them, when this server holds none."""
    try:
        return _rubin_store()
    except ApiError as exc:
        raise Refused(exc.message) from None


def rubin_store_or_none() -> Store | None:
    """The process's Rubin store, or None when this server holds no Rubin tables: for pages
    that only decorate with it (the Rubin example chips)."""
    try:
        return _rubin_store()
    except (ApiError, StoreError):
        return None


def base_url() -> str:
    """This server's address as the browser reached it (``http://host:port``): the request's
    scheme and Host; behind a local proxy (nginx), the scheme it forwards (X-Forwarded-Proto)."""
    scheme = request.scheme
    forwarded = request.headers.get("X-Forwarded-Proto", "").strip().lower()
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if local and forwarded in ("http", "https"):
        scheme = forwarded
    return f"{scheme}://{request.host}"


@contextlib.contextmanager
def job_store(survey: str = "ztf") -> Iterator[Store]:
    """A store of ``survey`` (``ztf`` or ``rubin``) for a background job: the worker's own in a
    web worker, a fresh connection in a forked job process (a forked SQLite or Thrift
    connection is not safe to reuse)."""
    import multiprocess
    if multiprocess.current_process().name == "MainProcess":
        yield current_store(survey)
        return
    if survey == "ztf":
        own = open_store(config())
    else:
        from hbase_schema import get_schema
        own = open_store(config(), schema=get_schema(survey))
    try:
        yield own
    finally:
        own.close()


# -- formats and parsing ---------------------------------------------------------------------
def render(fmt: str, frame: pd.DataFrame) -> tuple[bytes, str]:
    """``frame`` in the API's format ``fmt`` (csv, json, votable, parquet) and its file extension."""
    return RENDERERS[fmt][1](frame), EXTENSIONS[fmt]


def angle(name: str, text: str, hours: bool, minimum: float, maximum: float) -> float:
    """Degrees from decimal or sexagesimal ``text``, read as the API reads ``ra``/``dec``;
    :class:`Refused` says why not."""
    try:
        return parse_angle(Param(name, name, minimum=minimum, maximum=maximum), text, hours=hours)
    except (ApiError, ValueError) as exc:
        raise Refused(getattr(exc, "message", str(exc))) from None


def julian_date(text: str) -> float:
    """A date (ISO, JD or MJD) as a Julian Date, read as the API reads dates; :class:`Refused` if not."""
    try:
        return parse_date(Param("date", "date"), text)
    except ApiError as exc:
        raise Refused(exc.message) from None


# -- annotations and sessions ----------------------------------------------------------------
def too_many_sign_ins(user: str) -> bool:
    """True when this client address, or the username tried, made ``sign_ins_per_minute``
    attempts in the last minute (counted across every worker of the server)."""
    cfg = config()
    limits = shared_limits(cfg.data_dir)
    keys = [f"sign-in|{client_address()}"] + ([f"sign-in-user|{user.strip().lower()[:64]}"] if (user or "").strip() else [])
    return any(limits.take(key, cfg.sign_ins_per_minute) for key in keys)


def add_annotation(identity: Identity, object_id: str, text: str, tags, internal_name: str | None) -> dict:
    """Store an annotation by ``identity`` after the write limits, as ``POST /api/v1/annotations``
    does; :class:`Refused` with the API's message when it may not."""
    try:
        check_write_rate(identity.user)
        return annotate(current_store(), identity.user, object_id, text, tags, internal_name)
    except ApiError as exc:
        raise Refused(exc.message) from None


def may_delete(identity: Identity | None, annotation: dict) -> bool:
    """Its author, or an admin, may delete an annotation."""
    return identity is not None and (identity.user == annotation["author"] or identity.can("admin"))


def remove_annotation(identity: Identity | None, key: str) -> None:
    """Delete annotation ``key`` if ``identity`` may; :class:`Refused` otherwise."""
    try:
        record = get_annotation(current_store(), key) if identity else None
    except ApiError:  # not an annotation id
        record = None
    if record is None or not may_delete(identity, record):
        raise Refused("You may not delete this annotation (sign in as its author).")
    delete_annotation(current_store(), key)


# -- analyses by external services -----------------------------------------------------------
ANALYSIS_SCOPES = ("analysis", "annotate", "admin")  # as POST /api/v1/analysis declares


def analyses(object_id: str) -> list[dict]:
    """The object's analyses by external services, newest first, with their results and plots."""
    from .analyses import for_object
    return for_object(current_store(), object_id, with_data=True, n=50)


def analysis_services(identity: Identity | None) -> list[dict]:
    """The services ``identity`` may start (public records: name, description, parameters with
    their allowed values...); none for nobody or an identity without an analysis scope."""
    from .analysis_services import listing, may_use
    if identity is None or not any(identity.can(s) for s in ANALYSIS_SCOPES):
        return []
    return [s for s in listing(current_store()) if may_use(identity, s)]


def start_analysis(identity: Identity | None, object_id: str, service: str, parameters: dict) -> dict:
    """Queue an analysis as ``POST /api/v1/analysis`` does (scopes, write limit, the service's
    permission and parameters, the per-user rate) and wake the dispatcher; :class:`Refused`
    with the API's message when it may not."""
    from .analyses import start
    from .analysis_dispatcher import ensure_started
    if identity is None or not any(identity.can(s) for s in ANALYSIS_SCOPES):
        raise Refused("Sign in to start an analysis.")
    try:
        check_write_rate(identity.user)
        record = start(current_store(), config(), identity, object_id, service or "", parameters or {})
    except ApiError as exc:
        raise Refused(exc.message) from None
    ensure_started(config())
    return record


def may_delete_analysis(identity: Identity | None, analysis: dict) -> bool:
    """Who started an analysis, or an admin, may delete it."""
    return identity is not None and (identity.user == analysis.get("user") or identity.can("admin"))


def remove_analysis(identity: Identity | None, key: str) -> None:
    """Delete analysis ``key`` if ``identity`` may, as ``DELETE /api/v1/analysis``; :class:`Refused` otherwise."""
    from .analyses import delete, get
    try:
        record = get(current_store(), key) if identity else None
    except ApiError:  # not an analysis id
        record = None
    if record is None or not may_delete_analysis(identity, record):
        raise Refused("You may not delete this analysis (sign in as who started it).")
    delete(current_store(), key)


def registered_services(identity: Identity | None) -> list[dict]:
    """Every registered service (public records, never a secret), for an admin; none otherwise."""
    from .analysis_services import listing
    return listing(current_store()) if identity is not None and identity.can("admin") else []


def register_service(identity: Identity | None, raw: dict) -> dict:
    """Register (or replace) a service from the admin page's fields, read by the declaration of
    ``POST /api/v1/analysis/services`` and checked as it is; :class:`Refused` with the API's message."""
    from .analysis_services import register
    from .endpoints import ANALYSIS_SERVICE_ADD
    from .params import parse
    if identity is None or not identity.can("admin"):
        raise Refused("Only an administrator may register analysis services.")
    try:
        check_write_rate(identity.user)
        return register(current_store(), config(), identity.user, parse(ANALYSIS_SERVICE_ADD, raw, strict=True))
    except ApiError as exc:
        raise Refused(exc.message) from None


def remove_service(identity: Identity | None, name: str) -> None:
    """Remove service ``name`` (admins only); :class:`Refused` otherwise."""
    from .analysis_services import remove
    if identity is None or not identity.can("admin"):
        raise Refused("Only an administrator may remove analysis services.")
    if not remove(current_store(), name or ""):
        raise Refused(f"No analysis service {str(name)[:40]!r}.")
