"""The portal's one door into the server, beside :mod:`api.queries` (the reads).

Pages and components of ``apps/`` import :mod:`api.queries` for data and this module for
everything else the portal needs from the server: the request's store and configuration,
the Rubin store (:func:`rubin_store`), a store of its own for a background job, the API's
renderers, the search bar's parsing of angles and dates, annotations (read and write) and
sign-in sessions. They never import routes, auth, guard or parameter internals: those may
change shape without touching a page. Writes go through the same functions as the API's,
with the same checks (session CSRF token, scopes, per-user and per-address write limits),
and their refusals come back as :class:`Refused` carrying the message to show.
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

__all__ = ["MAX_TEXT", "TAG", "Identity", "Refused", "add_annotation", "angle", "config", "for_object",
           "base_url", "get_annotation", "job_store", "julian_date", "may_delete", "object_of_name", "objects_with_tag",
           "password_identity", "remove_annotation", "render", "rubin_store",
           "session_csrf", "session_identity", "sign_in", "sign_out", "store", "store_or_none", "token_identity", "too_many_sign_ins"]


class Refused(ValueError):
    """A write or a value the server refuses; ``str(exc)`` is the message for the user."""


# -- the request's context -------------------------------------------------------------------
def store() -> Store:
    """The process's store (opened on first use), as the API reads it."""
    return current_store()


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
def job_store() -> Iterator[Store]:
    """A store for a background job: the worker's own in a web worker, a fresh connection in
    a forked job process (a forked SQLite or Thrift connection is not safe to reuse)."""
    import multiprocess
    if multiprocess.current_process().name == "MainProcess":
        yield current_store()
        return
    own = open_store(config())
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
