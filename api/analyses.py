"""Analyses of objects by external services: starting one, its single-use callback, what the
service sends back, listing and deleting. The dispatcher (:mod:`api.analysis_dispatcher`)
sends them; the routes are in :mod:`api.routes_analysis`.

Table ``analyses`` is keyed ``objectId_time_id`` (an object's analyses sort by time), family
``x`` the request and its state, ``r`` the results. ``analysis_queue`` holds one row per
analysis that has not ended (queued or sent): the dispatcher scans it, not the analyses.
``analysis_callbacks`` holds each callback token's SHA-256 (the token is only in the URL sent
to the service), the analysis it completes and when it expires; a used token keeps its row,
marked ``used``, so that a replay is told so.

States: ``queued`` → ``sent`` → ``completed`` | ``failed`` | ``timed_out`` (an upload-only
service is ``completed`` when it accepted the data).

What a service sends back is JSON only: ``results`` (an object), ``plots`` (PNG or SVG, base64,
checked by their signature) and ``inference_data`` (NetCDF, base64, checked by its signature).
Nothing is ever unpickled: a pickled body, or a pickle among the data, is refused.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import secrets
import time
from pathlib import Path

from store import Store, TableMissing

from . import auth
from .analysis_services import check_parameters, get as get_service, may_use
from .annotations import check_object_id, object_exists
from .errors import ApiError
from .rate_limits import RateLimited, retry_after, shared_limits

STATES = ("queued", "sent", "completed", "failed", "timed_out")
ENDED = ("completed", "failed", "timed_out")
MAX_PLOTS = 10
PNG = b"\x89PNG\r\n\x1a\n"
NETCDF = (b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n")
WEBHOOK_PATH = "/api/v1/webhook/analysis/"


def _jd(unix: float) -> float:
    return unix / 86400.0 + 2440587.5


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def record(key: str, cells: dict, with_data: bool = False) -> dict:
    out = {"id": key, "objectId": cells.get("x:objectId"), "service": cells.get("x:service"),
           "user": cells.get("x:user"), "parameters": cells.get("x:parameters") or {}, "state": cells.get("x:state"),
           "message": cells.get("x:message"), "created": cells.get("x:created"), "finished": cells.get("x:finished")}
    if with_data:
        inference = cells.get("r:inference")
        out.update(results=cells.get("r:results"), plots=cells.get("r:plots") or [],
                   inference_data=base64.b64encode(inference).decode() if inference else None)
    return out


# -- which object ------------------------------------------------------------------------------
def is_rubin(object_id: str) -> bool:
    """A Rubin diaObjectId (digits) rather than a ZTF objectId: ``x:objectId`` holds either."""
    return object_id.isdigit()


def target(object_id: str | None, dia_object_id: str | None) -> str:
    """The analysed object of a request: a ZTF ``objectId`` or a Rubin ``diaObjectId`` (as
    digits), exactly one of them; ApiError 400 otherwise."""
    if bool(object_id) == bool(dia_object_id):
        raise ApiError(400, "give one of the parameters 'objectId' (ZTF) or 'diaObjectId' (Rubin)")
    if object_id:
        return check_object_id(object_id)
    text = str(dia_object_id).strip()
    if not text.isdigit() or int(text) >= 2**64:
        raise ApiError(400, f"parameter 'diaObjectId' = {text[:40]!r} is invalid: expected an integer such as "
                            f"313853517735395444")
    return str(int(text))


def _exists(store: Store, rubin: Store | None, object_id: str) -> bool:
    if not is_rubin(object_id):
        return object_exists(store, object_id)
    table = rubin.table("objects")
    return bool(table.row(table.keys.build(int(object_id))))


# -- starting ----------------------------------------------------------------------------------
def start(store: Store, config, identity: auth.Identity, object_id: str, service_name: str, parameters,
          rubin: Store | None = None) -> dict:
    """Queue an analysis of ``object_id`` (a ZTF objectId, or a Rubin diaObjectId as digits, then
    looked up in the ``rubin`` store) by the service; ApiError 400/403/404/429 otherwise."""
    if not is_rubin(object_id):
        check_object_id(object_id)
    elif rubin is None:
        raise ApiError(400, "this server holds no Rubin tables: a diaObjectId cannot be analysed here")
    service = get_service(store, service_name)
    if service is None:
        raise ApiError(404, f"no analysis service {str(service_name)[:40]!r}; see GET /api/v1/analysis/services")
    if not may_use(identity, service["spec"]):
        raise auth.AuthError(403, f"user {identity.user} may not use the service {service_name!r}")
    parameters = check_parameters(service["spec"], parameters)
    if not _exists(store, rubin, object_id):
        raise ApiError(404, f"no alert for {'diaObjectId' if is_rubin(object_id) else 'objectId'} {object_id!r}: "
                            f"only stored objects can be analysed")
    if config.analysis_per_minute:
        wait = shared_limits(config.data_dir).take(f"analysis|{identity.user}", config.analysis_per_minute)
        if wait:
            raise RateLimited(f"too many analyses started by {identity.user}: at most {config.analysis_per_minute} "
                              f"per minute; retry in {retry_after(wait)} s", wait)
    now = time.time()
    table, queue = auth.writable(store, "analyses"), auth.writable(store, "analysis_queue")
    aid = secrets.token_hex(6)
    key = table.keys.build(object_id, _jd(now), aid)
    cells = {"x:objectId": object_id, "x:service": service_name, "x:user": identity.user, "x:parameters": parameters,
             "x:state": "queued", "x:created": auth.now_iso(), "x:deadline": now + service["spec"]["timeout"]}
    table.put(key, cells)
    queue.put(queue.keys.build(aid), {"q:analysis": key})
    return record(key, cells)


# -- reading and deleting ----------------------------------------------------------------------
def for_object(store: Store, object_id: str, with_data: bool = False, n: int = 1000) -> list[dict]:
    """The analyses of ``object_id``, newest first."""
    try:
        table = store.table("analyses")
        families = ["x", "r"] if with_data else ["x"]
        return [record(k, c, with_data) for k, c in
                table.scan(row_prefix=table.keys.prefix(object_id), columns=families, reverse=True, limit=n)]
    except TableMissing:
        return []


def get(store: Store, key: str, with_data: bool = False) -> dict | None:
    try:
        table = store.table("analyses")
        table.keys.parse(key)
    except TableMissing:
        return None
    except ValueError:
        raise ApiError(400, f"parameter 'id' = {str(key)[:60]!r} is not an analysis id") from None
    cells = table.row(key)
    return record(key, cells, with_data) if cells.get("x:state") else None


def delete(store: Store, key: str) -> None:
    table = auth.writable(store, "analyses")
    parts = table.keys.parse(key)
    table.delete(key)
    auth.writable(store, "analysis_queue").delete(parts["id"])


def cap(store: Store, object_id: str, user: str, keep: int) -> int:
    """Delete ``user``'s oldest completed analyses of ``object_id`` beyond ``keep``; return how many."""
    done = [a for a in for_object(store, object_id) if a["user"] == user and a["state"] == "completed"]
    for old in done[keep:]:
        delete(store, old["id"])
    return max(0, len(done) - keep)


# -- state changes (the dispatcher's and the webhook's) ----------------------------------------
def pending(store: Store) -> list[tuple[str, dict]]:
    """``(key, cells)`` of every analysis that has not ended, oldest first."""
    try:
        queue, table = store.table("analysis_queue"), store.table("analyses")
        keys = [c["q:analysis"] for _, c in queue.scan() if c.get("q:analysis")]
    except TableMissing:
        return []
    found = dict(table.rows(keys, columns=["x"])) if keys else {}
    return sorted(((k, found[k]) for k in keys if k in found), key=lambda kc: kc[0].split("_")[1])


def finish(store: Store, key: str, state: str, message: str = "", results: dict | None = None) -> None:
    assert state in ENDED, state
    table = auth.writable(store, "analyses")
    cells = {"x:state": state, "x:message": message[:2000] or None, "x:finished": auth.now_iso(), "x:claim": None}
    if results:
        cells.update(results)
    table.put(key, cells)
    auth.writable(store, "analysis_queue").delete(table.keys.parse(key)["id"])


def mark_sent(store: Store, key: str, deadline: float) -> None:
    auth.writable(store, "analyses").put(key, {"x:state": "sent", "x:sent": time.time(), "x:deadline": deadline})


def issue_callback(store: Store, key: str, expires: float) -> str:
    """A new single-use callback token for the analysis ``key``, valid until ``expires``."""
    token = secrets.token_urlsafe(32)
    table = auth.writable(store, "analysis_callbacks")
    table.put(table.keys.build(_digest(token)), {"c:analysis": key, "c:expires": expires})
    return token


def expire_callbacks(store: Store, key: str) -> None:
    """Make every unused callback token of ``key`` expire now (the analysis ended otherwise)."""
    table = auth.writable(store, "analysis_callbacks")
    for k, c in table.scan(columns=["c:analysis", "c:used"]):
        if c.get("c:analysis") == key and not c.get("c:used"):
            table.put(k, {"c:expires": 0.0})


# -- the webhook -------------------------------------------------------------------------------
def _b64(value, what: str) -> bytes:
    if not isinstance(value, str):
        raise ApiError(400, f"{what} must be a base64 string")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, f"{what} is not valid base64") from None
    if is_pickle(data):
        raise ApiError(415, f"{what} is a Python pickle: pickled data is never read; send PNG, SVG or NetCDF")
    return data


def is_pickle(data: bytes) -> bool:
    """A pickle of protocol 2 or later begins with PROTO (0x80) and its number; 0 and 1 with an opcode
    followed by text, which no PNG, SVG, NetCDF or JSON begins with (checked by signature anyway)."""
    return len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5


def _plot(item, i: int) -> dict:
    if not isinstance(item, dict):
        raise ApiError(400, f"plots[{i}] must be an object {{name, format, data}}")
    fmt = str(item.get("format", "")).lower()
    data = _b64(item.get("data"), f"plots[{i}].data")
    if fmt == "png" and not data.startswith(PNG):
        raise ApiError(400, f"plots[{i}] is not a PNG image")
    if fmt == "svg":
        head = data[:512].lstrip().lower()
        if not (head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head)):
            raise ApiError(400, f"plots[{i}] is not an SVG image")
    if fmt not in ("png", "svg"):
        raise ApiError(400, f"plots[{i}].format must be png or svg")
    name = str(item.get("name") or f"plot {i + 1}")[:100]
    return {"name": name, "format": fmt, "data": base64.b64encode(data).decode()}


def parse_callback(body: dict) -> tuple[str, str, dict]:
    """``(state, message, result cells)`` from a service's callback body; ApiError 400/415."""
    status = str(body.get("status", "success")).lower()
    if status not in ("success", "error"):
        raise ApiError(400, "'status' must be success or error")
    message = body.get("message") or ""
    if not isinstance(message, str):
        raise ApiError(400, "'message' must be a string")
    results = body.get("results")
    if results is not None and not isinstance(results, dict):
        raise ApiError(400, "'results' must be a JSON object")
    plots = body.get("plots") or []
    if not isinstance(plots, list) or len(plots) > MAX_PLOTS:
        raise ApiError(400, f"'plots' must be a list of at most {MAX_PLOTS} images")
    cells = {"r:results": results, "r:plots": [_plot(p, i) for i, p in enumerate(plots)]}
    inference = body.get("inference_data")
    if inference is not None:
        data = _b64(inference.get("data") if isinstance(inference, dict) else inference, "inference_data")
        if not data.startswith(NETCDF):
            raise ApiError(400, "inference_data must be NetCDF (classic or NetCDF-4/HDF5), base64-encoded")
        cells["r:inference"] = data
    return ("completed" if status == "success" else "failed"), message, cells


def _usable(store: Store, token: str) -> tuple[str, dict]:
    """``(analysis key, its x: cells)`` of a token that may still be used; 404 or 410 otherwise."""
    table = store.table("analysis_callbacks") if "analysis_callbacks" in store.existing_tables() else None
    cells = table.row(table.keys.build(_digest(token))) if table is not None and 20 <= len(token) <= 100 else {}
    if not cells.get("c:analysis"):
        raise ApiError(404, "unknown callback token")
    if cells.get("c:used"):
        raise ApiError(410, f"this callback token was already used ({cells['c:used']}); each is single-use")
    if cells.get("c:expires", 0) < time.time():
        raise ApiError(410, "this callback token has expired: the analysis timed out")
    key = cells["c:analysis"]
    analysis = store.table("analyses").row(key, columns=["x"])
    if analysis.get("x:state") != "sent":
        raise ApiError(410, f"the analysis is {analysis.get('x:state') or 'deleted'}: it takes no more results")
    return key, analysis


@contextlib.contextmanager
def _using_tokens(config):
    """Exclusive use of the callback tokens on this host: ``flock`` on
    ``<data_dir>/run/analysis-callbacks.lock``. The store has no compare-and-set, so the check
    "unused" and the write "used" happen under it: of two deliveries of one token at the same
    moment (by any workers or threads of this host), exactly one is accepted."""
    path = Path(config.data_dir) / "run" / "analysis-callbacks.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # frees the lock


def accept_callback(store: Store, config, token: str, body: dict) -> dict:
    """Complete the analysis of ``token`` with ``body``: 404 for an unknown token, 410 for a used
    or expired one (or an analysis that already ended); the token is used once, atomically on
    one host (:func:`_using_tokens`)."""
    _usable(store, token)  # the refusals first, before reading a large body
    state, message, results = parse_callback(body)
    with _using_tokens(config):
        key, analysis = _usable(store, token)  # again: another delivery may have used it meanwhile
        table = auth.writable(store, "analysis_callbacks")
        table.put(table.keys.build(_digest(token)), {"c:used": auth.now_iso()})
        finish(store, key, state, message, results)
    if state == "completed":
        cap(store, analysis["x:objectId"], analysis["x:user"], config.analysis_max_per_object)
    return {"status": "accepted", "id": key, "state": state}

