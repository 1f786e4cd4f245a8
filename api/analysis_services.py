"""The registry of external analysis services: what an administrator declares about each one,
its validation, and who may use it. Routes in :mod:`api.routes_analysis`, declared in
:mod:`api.endpoints`.

A service is one row of table ``analysis_services`` keyed by its name: ``s:spec`` holds what
anyone may read (description, version, contact, URL, the data types it is sent, its optional
parameters with their allowed values, its timeout, whether it is upload-only, who may use it,
how it authenticates), ``s:secret`` its header token or basic password, encrypted
(:mod:`api.analysis_secrets`) and never returned by any endpoint.

A service's URL must start with one of the prefixes of the setting ``analysis_allowlist``,
checked when it is registered and again each time it is called: the server makes no request
to an address the administrator did not allow (and follows no redirect, see the dispatcher).
"""
from __future__ import annotations

import re
import urllib.parse

from store import Store, TableMissing

from . import auth
from .analysis_secrets import encrypt
from .errors import ApiError

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")
DATA_TYPES = ("detections", "upper_limits", "forced_photometry", "cutouts", "annotations")
AUTH_KINDS = ("none", "header", "basic")
MAX_TIMEOUT_S = 86_400
PUBLIC = ("description", "version", "contact", "url", "auth", "auth_header", "data_types", "parameters",
          "timeout", "upload_only", "users", "scopes")


def allowed_url(config, url: str) -> bool:
    """True when ``url`` is a plain http(s) URL starting with one of the allowlist's prefixes."""
    prefixes = [p for p in config.analysis_allowlist.split(",") if p]
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc or parts.fragment:
        return False
    return any(url.startswith(p) for p in prefixes)


def check_url(config, url: str) -> str:
    url = (url or "").strip()
    if not allowed_url(config, url):
        allowed = config.analysis_allowlist.replace(",", ", ") or "none (the setting analysis_allowlist is empty)"
        raise ApiError(400, f"parameter 'url' = {url[:80]!r} is not allowed: a service's URL must be http(s) and start "
                            f"with a prefix of the administrator's allowlist: {allowed}")
    return url


def _parameters(value) -> dict:
    """``{name: [allowed values, ...]}``: each optional parameter of the service and its choices."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or len(value) > 20:
        raise ApiError(400, "parameter 'parameters' must be a JSON object of at most 20 names, each with a list of "
                            "allowed values, e.g. {\"model\": [\"bazin\", \"linear\"]}")
    out = {}
    for name, allowed in value.items():
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$", str(name)):
            raise ApiError(400, f"parameter name {str(name)[:40]!r} is invalid: a letter or _, then letters, digits, _")
        if (not isinstance(allowed, list) or not 0 < len(allowed) <= 50
                or not all(isinstance(a, (str, int, float)) and not isinstance(a, bool) and len(str(a)) <= 100
                           for a in allowed)):
            raise ApiError(400, f"the allowed values of {name!r} must be a list of 1 to 50 strings or numbers")
        out[str(name)] = allowed
    return out


def register(store: Store, config, author: str, v: dict) -> dict:
    """Store (or replace) the service of ``v`` (validated values of the declaration); return
    its public record."""
    name = v["name"]
    if not NAME.match(name or ""):
        raise ApiError(400, f"parameter 'name' = {str(name)[:40]!r} is invalid: 2 to 40 lower-case letters, "
                            f"digits, '_' or '-'")
    url = check_url(config, v["url"])
    data_types = v["data_types"] or ["detections"]
    bad = [d for d in data_types if d not in DATA_TYPES]
    if bad:
        raise ApiError(400, f"data type {bad[0][:40]!r} is unknown; known: {', '.join(DATA_TYPES)}")
    kind = v["auth"]
    secret = v["secret"] or ""
    if kind != "none" and not secret:
        raise ApiError(400, f"auth {kind} needs a 'secret' (the header's token, or user:password for basic)")
    if kind == "basic" and ":" not in secret:
        raise ApiError(400, "the secret of basic authentication is user:password")
    header = v["auth_header"] or "Authorization"
    if not HEADER.match(header):
        raise ApiError(400, "parameter 'auth_header' must be a header name (letters, digits, '-')")
    scopes = v["scopes"] or []
    bad = [s for s in scopes if s not in auth.SCOPES]
    if bad:
        raise ApiError(400, f"scope {bad[0][:40]!r} is unknown; known: {', '.join(auth.SCOPES)}")
    users = v["users"] or []
    bad = [u for u in users if not auth.USERNAME.match(u)]
    if bad:
        raise ApiError(400, f"username {bad[0][:40]!r} is invalid")
    spec = {"description": v["description"] or "", "version": v["version"] or "", "contact": v["contact"] or "",
            "url": url, "auth": kind, "auth_header": header if kind == "header" else None,
            "data_types": data_types, "parameters": _parameters(v["parameters"]), "timeout": v["timeout"],
            "upload_only": bool(v["upload_only"]), "users": users, "scopes": scopes}
    table = auth.writable(store, "analysis_services")
    table.put(table.keys.build(name), {"s:spec": spec, "s:secret": encrypt(config, secret) if kind != "none" else None,
                                       "s:created": auth.now_iso(), "s:author": author})
    return public(name, spec)


def public(name: str, spec: dict) -> dict:
    return {"name": name, **{k: spec.get(k) for k in PUBLIC}}


def get(store: Store, name: str) -> dict | None:
    """``{"name", "spec", "secret"}`` of a service (the secret still encrypted), or None."""
    if not NAME.match(name or ""):
        return None
    try:
        table = store.table("analysis_services")
        cells = table.row(table.keys.build(name))
    except TableMissing:
        return None
    return {"name": name, "spec": cells["s:spec"], "secret": cells.get("s:secret")} if cells.get("s:spec") else None


def listing(store: Store) -> list[dict]:
    try:
        table = store.table("analysis_services")
        return [public(table.keys.parse(k)["name"], c["s:spec"]) for k, c in table.scan(columns=["s:spec"])]
    except TableMissing:
        return []


def remove(store: Store, name: str) -> bool:
    found = get(store, name)
    if found:
        table = auth.writable(store, "analysis_services")
        table.delete(table.keys.build(name))
    return found is not None


def may_use(identity: auth.Identity, spec: dict) -> bool:
    """Admins always; else a user the service names, or a token holding a scope it names; a
    service naming neither users nor scopes is anyone's who may start analyses."""
    users, scopes = spec.get("users") or [], spec.get("scopes") or []
    if identity.can("admin") or (not users and not scopes):
        return True
    return identity.user in users or any(identity.can(s) for s in scopes)


def check_parameters(spec: dict, given) -> dict:
    """The parameters of an analysis: only those the service declares, each one of its allowed values."""
    given = given or {}
    if not isinstance(given, dict):
        raise ApiError(400, "parameter 'parameters' must be a JSON object of the service's parameter names to values")
    declared = spec.get("parameters") or {}
    out = {}
    for name, value in given.items():
        if name not in declared:
            raise ApiError(400, f"the service has no parameter {str(name)[:40]!r}; it has: "
                                f"{', '.join(declared) or 'none'}")
        match = [a for a in declared[name] if str(a) == str(value)]
        if not match:
            raise ApiError(400, f"parameter {name!r} = {str(value)[:40]!r} is not allowed; allowed: "
                                f"{', '.join(map(str, declared[name]))}")
        out[name] = match[0]
    return out
