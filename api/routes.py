"""The REST API's routes: parse the parameters, call a query, render. Nothing more.

Every route is registered by :func:`route` from its declaration (:class:`api.params.Endpoint`
in :mod:`api.endpoints`): its path, methods, access, parameters and formats. A read route
answers GET (query string) and POST (JSON body) with the same parameters.
"""
from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass

import pandas as pd
from flask import Blueprint, Response, current_app, jsonify, request

from science.cutout_image import known_colormap, to_png

from . import endpoints as E
from . import queries as q
from .access import current_store
from .catalog import read_catalog
from .errors import ApiError, warning_header
from .guard import client_address
from .params import READ_METHODS, Endpoint, Values, parse
from .permits import identify
from .queries.columns import Columns
from .render import respond
from .slots import slots_for

bp = Blueprint("api", __name__, url_prefix="/api/v1")
root = Blueprint("api_root", __name__)  # a declaration's absolute aliases ("/api/": the docs page)


@dataclass(frozen=True)
class Declared:
    """One URL rule made by :func:`route`: the declaration, the URL path, the rule's Flask
    endpoint (``blueprint.name``) and the name it was registered under (the declaration's, or an alias)."""
    endpoint: Endpoint
    path: str
    rule: str
    name: str


#: Every rule :func:`route` registered, in order: the OpenAPI spec (api/docs.py) is made from these.
DECLARED: list[Declared] = []
_METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")


def request_params() -> dict:
    """Parameters from the query string (GET) or the JSON or form body (POST)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        _drain(4 * limit)  # read what was sent, so the client sees the 413 and not a reset
        raise ApiError(413, f"request too large: {request.content_length} bytes; at most {limit} bytes per request")
    if request.method == "POST":
        body = request.get_data(cache=True)
        if request.is_json or body.lstrip()[:1] in (b"{", b"["):
            try:
                params = json.loads(body or b"{}", parse_constant=_not_json)
            except ValueError as exc:
                raise ApiError(400, f"the request body is not valid JSON: {exc}") from None
            if not isinstance(params, dict):
                raise ApiError(400, "the JSON body must be an object of parameter names to values")
            return params
        return {**request.args.to_dict(), **request.form.to_dict()}
    return {k: ",".join(v) for k, v in request.args.to_dict(flat=False).items()}


def _not_json(name: str):
    """NaN, Infinity and -Infinity are not JSON (RFC 8259), though Python's parser takes them."""
    raise ValueError(f"{name} is not a JSON number; send a finite number, or leave the parameter out")


def _drain(at_most: int) -> None:
    stream = request.environ.get("wsgi.input")
    left = min(request.content_length or 0, at_most)
    while stream is not None and left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        left -= len(chunk)


BIG_CONE_ARCSEC = 600


def _always(values) -> bool:
    return True


def _big_cone(values) -> bool:
    return (values.get("radius") or 0) > BIG_CONE_ARCSEC


def _admission():
    """The compute slots of this app (see api/slots.py), made on first use."""
    ext = current_app.extensions
    if "nocturne_slots" not in ext:
        ext["nocturne_slots"] = slots_for(current_app.config["NOCTURNE"])
    return ext["nocturne_slots"]


def route(endpoint: Endpoint, *aliases: str, expensive=None, blueprint: Blueprint | None = None):
    """Register ``fn(values) -> DataFrame | Response`` for ``endpoint`` (and its aliases: names
    under the blueprint's prefix, or absolute paths starting with ``/``), answering the
    declared ``methods``, on ``blueprint`` (default: the ZTF API's, under /api/v1; the Rubin routes pass theirs).

    The declared ``access`` is checked first (401/403, and 429 for a write past the write
    limit: :func:`api.permits.identify`), then the parameters are parsed (an unknown one is
    refused with 400 when the declaration is ``strict``). ``values.identity()`` is the caller.
    ``expensive(values)`` true: the request waits for no one, it takes a compute slot of its
    client and of the server or is refused (429/503 with Retry-After, api/slots.py).
    What the request asked that was ignored or changed (unknown parameters, a clamped
    value, an empty date range) goes to the response's ``Warning`` header (``values.warn``).
    A write runs outside the query time budget: it is never stopped half-way.
    """
    access = endpoint.access
    target = blueprint or bp

    def wrap(fn):
        def view(**path):
            caller = None if access.via == "anyone" else (lambda: identify(access))
            if caller is not None and not access.when:
                checked = caller()
                caller = lambda: checked  # noqa: E731
            values = parse(endpoint, {**request_params(), **path})  # a path's <part> is a parameter
            values.identify = caller
            admitted = (_admission().admit(client_address()) if expensive is not None and expensive(values)
                        else contextlib.nullcontext())
            budget = (contextlib.nullcontext() if access.writes
                      else q.time_budget(current_app.config["NOCTURNE"].query_time_budget_s))
            with admitted, budget:
                result = fn(values)
            if not isinstance(result, Response):
                result = respond(result if isinstance(result, Columns) else q.as_fink_text_columns(result),
                                 values["output-format"], endpoint.name)
            if values.warnings:
                result.headers["Warning"] = warning_header(values.warnings)
            return result
        for name in (endpoint.name, *aliases):
            on, rule = (root, name) if name.startswith("/") else (target, f"/{name}")
            flask_name = _rule_name(name, endpoint)
            options = {"strict_slashes": False} if on is root else {}
            on.add_url_rule(rule, endpoint=flask_name, view_func=view, methods=list(endpoint.methods), **options)
            DECLARED.append(Declared(endpoint, (on.url_prefix or "") + rule, f"{on.name}.{flask_name}", name))
        return fn
    return wrap


def _rule_name(name: str, endpoint: Endpoint) -> str:
    """The Flask endpoint of a rule: the name (``fit_varstar``), and its methods when it
    answers others than GET and POST (``annotations_delete``), as several declarations share a path."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", name.strip("/"))
    if tuple(endpoint.methods) != READ_METHODS:
        base += "_" + "_".join(m.lower() for m in endpoint.methods)
    return base


API_BLUEPRINTS = {bp.name, root.name}  # and each survey's API blueprint, added where it is made


def api_rules() -> list[Declared]:
    """The rules of the API's own blueprints (``bp``, ``root`` and the other surveys' API
    blueprints, :data:`API_BLUEPRINTS`), not those another blueprint declared through
    :func:`route` for itself."""
    return [d for d in DECLARED if d.rule.split(".", 1)[0] in API_BLUEPRINTS]


def methods_at(path: str) -> list[str]:
    """Every method declared at the URL ``path``, in the usual order."""
    declared = {m for d in DECLARED if d.path == path for m in d.endpoint.methods}
    return [m for m in _METHOD_ORDER if m in declared]


@bp.after_request
def _allowed_methods(response):
    """CORS: a path answering more than GET and POST (annotations' DELETE) says which."""
    methods = methods_at(request.url_rule.rule) if request.url_rule is not None else []
    if set(methods) - set(READ_METHODS):
        response.headers["Access-Control-Allow-Methods"] = ", ".join([*methods, "OPTIONS"])
    return response


def _ids(values: list[str]) -> list[str]:
    if len(values) > E.MAX_OBJECTS:
        raise ApiError(400, f"parameter 'objectId': at most {E.MAX_OBJECTS} objects per request, got {len(values)}")
    return list(dict.fromkeys(values))


@route(E.OBJECTS)
def objects(v):
    ids = _ids(v["objectId"])
    df = q.objects(current_store(), ids, v["columns"], v["withupperlim"], v["withcutouts"], v["cutout-kind"],
                   newest_first=True, as_fink=True, withfp=v["withfp"])
    if df.empty:  # Fink answers an unknown object with an empty list, not an error
        v.warn(f"no alert for objectId {ids[0]!r}" if len(ids) == 1 else "no alert for any of these objectIds")
    return df


@route(E.FP)
def fp(v):
    ids = _ids(v["objectId"])
    columns = v["columns"]
    if columns is not None and "*" in columns:
        columns = None
    bad = q.forced.unknown_columns(columns)
    if bad:
        raise ApiError(400, f"parameter 'columns': unknown column(s) {', '.join(bad[:5])} for this route; "
                            f"see /api/v1/schema (table fp)")
    df = q.forced_photometry(current_store(), ids, columns)
    if df.empty:
        v.warn(f"no forced photometry for objectId {ids[0]!r}" if len(ids) == 1
               else "no forced photometry for any of these objectIds")
    return df


def _window(v: Values):
    """``(start, stop)`` JDs from a start and a stop date, or a start and a window in days;
    stopdate wins over window, as in Fink. ``None`` when the range is empty (stop not after
    start): the route then answers an empty result, as Fink does."""
    start, stop = v.get("startdate"), v.get("stopdate")
    if v.get("window") is not None and start is not None:
        if stop is not None:
            v.warn("'window' ignored: 'stopdate' given")
        else:
            stop = start + v["window"]
    if start is not None and stop is not None and stop <= start:
        v.warn("empty date range: the stop date is not after the start date")
        return None
    return start, stop


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame(columns=columns or [])


CONE_ALWAYS = ["i:ra", "i:dec", "v:separation_degree"]  # Fink's conesearch adds these to any columns


@route(E.CONESEARCH, expensive=_big_cone)
def conesearch(v):
    columns = None if v["columns"] is None else list(dict.fromkeys(v["columns"] + CONE_ALWAYS))
    window = _window(v)
    if window is None:
        return _empty(columns)
    return q.conesearch(current_store(), v["ra"], v["dec"], v["radius"], *window, v["n"], columns)


@route(E.EXPLORER, expensive=_big_cone)
def explorer(v):
    """Fink's explorer: group 1 objectId, group 2 a cone (its dates as the conesearch's, on
    the first detection; or the legacy startdate_conesearch on the alerts' dates), group 3
    a date and a window in minutes. Dates only modify the cone when a cone is given."""
    cone = ("ra", "dec", "radius")
    given = [g for g in (("objectId",), cone) if any(v.get(p) is not None for p in g)]
    if not given and v.get("startdate") is not None:
        given = [("startdate",)]
    if len(given) != 1:
        raise ApiError(400, "give exactly one group of parameters: objectId | ra, dec, radius (+ startdate, "
                            "stopdate or window in days) | startdate (+ window in minutes)")
    group = given[0]
    missing = [p for p in group if v.get(p) is None]
    if missing:
        raise ApiError(400, f"missing parameter(s) {', '.join(missing)} of the group {', '.join(group)}")
    store = current_store()
    if group == ("objectId",):
        return q.objects(store, _ids(v["objectId"]), v["columns"], newest_first=True, as_fink=True)
    if group == ("startdate",):
        if v["stopdate"] is not None:  # Nocturne's: [startdate, stopdate), any length (n bounds the read)
            window = _window(v)
            return _empty(v["columns"]) if window is None else q.time_window(store, *window, v["n"], v["columns"])
        minutes = E.EXPLORER_WINDOW_MINUTES if v["window"] is None else v["window"]
        if minutes > E.EXPLORER_MAX_MINUTES:
            raise ApiError(400, f"parameter 'window' = {minutes:g} is invalid: at most {E.EXPLORER_MAX_MINUTES} "
                                f"minutes after startdate (without a cone, window is in minutes)")
        start = v["startdate"]
        return q.time_window(store, start, start + minutes / 1440, v["n"], v["columns"])
    columns = None if v["columns"] is None else list(dict.fromkeys(v["columns"] + CONE_ALWAYS))
    if v.get("startdate") is not None or v.get("stopdate") is not None:
        if v.get("startdate_conesearch") is not None:
            v.warn("'startdate_conesearch' ignored: 'startdate' given")
        window = _window(v)  # days, on the first detection, as Fink's conesearch
        if window is None:
            return _empty(columns)
        return q.conesearch(store, v["ra"], v["dec"], v["radius"], *window, v["n"], columns)
    start = v["startdate_conesearch"]
    if start is None:
        return q.conesearch(store, v["ra"], v["dec"], v["radius"], n=v["n"], columns=columns)
    # Fink's older explorer: the latest alert of each object seen in [start, start + window days)
    return q.conesearch(store, v["ra"], v["dec"], v["radius"], start, start + v["window_days_conesearch"], v["n"],
                        columns, by_alert_date=True)


@route(E.LATESTS)
def latests(v):
    window = _window(v)
    if window is None:
        return _empty(v["columns"])
    trend = v["trend"]
    if trend in q.BLAZAR_TRENDS:
        if not v["class"].startswith(q.BLAZAR_CLASS):  # Fink's own test asks '(CTA) Blazar low state'
            raise ApiError(400, f"trend {trend!r} is only for class {q.BLAZAR_CLASS!r}; "
                                f"class {v['class']!r} accepts trend rising or fading")
        return _empty(v["columns"])  # Nocturne holds no CTA blazar states: no alert is in one
    return q.latests(current_store(), v["class"], v["n"], *window, v["columns"], trend=trend, color=v["color"])


@route(E.XMATCH, expensive=_always)
def xmatch(v):
    catalog, sources = read_catalog(v["catalog"], v["header"])
    return q.xmatch_catalog(current_store(), catalog, sources, v["radius"], v["window"], v["columns"])


@route(E.CUTOUTS)
def cutouts(v):
    kinds = q.CUTOUT_KINDS if v["kind"] == "All" else (v["kind"],)
    fmt = v["output-format"]
    if v["kind"] == "All" and fmt != "array":
        raise ApiError(400, "kind=All is only available with output-format=array")
    if not known_colormap(v["colormap"]):
        raise ApiError(400, f"parameter 'colormap' = {v['colormap']!r} is not a matplotlib colour map (e.g. Greys_r, viridis)")
    if v["pmin"] >= v["pmax"]:
        raise ApiError(400, "'pmin' must be smaller than 'pmax'")
    cells = q.find_alert(current_store(), v["objectId"], v["candid"], kinds)
    if cells is None and v["candid"] is None:
        # As Fink (its issue #193): an object without alerts is an empty 200, not an error.
        v.warn(f"no alert for objectId {v['objectId']!r}")
        return jsonify({}) if fmt == "array" else Response(b"", mimetype=_EMPTY_CUTOUT_TYPES[fmt])
    if cells is None:
        what = f"alert {v['candid']} of {v['objectId']!r}" if v["candid"] is not None else f"objectId {v['objectId']!r}"
        raise ApiError(404, f"no {what}")
    blobs = {k: cells.get(f"b:cutout{k}_stampData") for k in kinds}
    if any(b is None for b in blobs.values()):
        raise ApiError(404, f"alert {cells['i:candid']} has no {', '.join(k for k, b in blobs.items() if b is None)} cutout")
    candid = cells["i:candid"]
    if fmt == "array":
        return jsonify({f"b:cutout{k}_stampData": _stamp(q.decode_stamp, b, k, candid).tolist()
                        for k, b in blobs.items()})
    kind, blob = next(iter(blobs.items()))
    name = f"{v['objectId']}_{candid}_{kind}"
    if fmt == "fits":
        return Response(_stamp(q.fits_bytes, blob, kind, candid), mimetype="application/fits",
                        headers={"Content-Disposition": f'attachment; filename="{name}.fits"'})
    data = _stamp(q.decode_stamp, blob, kind, candid)
    if kind == "Difference" and str(cells.get("i:isdiffpos", "t")) in ("f", "0"):
        data = -data
    png = to_png(data, v["stretch"], v["colormap"], v["pmin"], v["pmax"], v["convolution_kernel"])
    return Response(png, mimetype="image/png", headers={"Cache-Control": "public, max-age=86400"})


_EMPTY_CUTOUT_TYPES = {"png": "image/png", "fits": "application/fits"}


def _stamp(decode, blob: bytes, kind: str, candid):
    """``decode(blob)``; a stamp damaged in the store is a 404 naming it, not a 500."""
    try:
        return decode(blob)
    except q.CutoutUnreadable as exc:
        raise ApiError(404, f"the {kind} cutout of alert {candid} is damaged in the store and cannot be "
                            f"decoded ({exc}); the alert's other data are intact") from None


@route(E.CLASSES)
def classes(v):
    return jsonify(q.known_classes(current_store()))


@route(E.SCHEMA)
def schema(v):
    return jsonify(q.schema_columns())


@route(E.COLUMNS_OLD)
def columns_old(v):
    return jsonify(q.old_columns())


@route(E.STATISTICS)
def statistics(v):
    date = v["date"]
    if date and not (date.isdigit() and len(date) in (4, 6, 8)):
        raise ApiError(400, f"parameter 'date' = {date!r} is invalid: expected YYYY, YYYYMM or YYYYMMDD")
    if v["schema"]:
        return q.statistics_schema(current_store())
    return q.statistics(current_store(), date, v["columns"])


@route(E.ANOMALY)
def anomaly(v):
    start, stop = v["start_date"], v["stop_date"]
    if stop is not None:
        stop += 1  # Fink: the stop date's whole day is included
    if start is not None and stop is not None and stop <= start:
        return pd.DataFrame()
    return q.anomalies(current_store(), v["n"], start, stop, v["columns"])


@route(E.RANDOM)
def random(v):
    return q.random_alerts(current_store(), v["n"], v["seed"], v["class"] or None, v["columns"])


@route(E.HEALTH)
def health(v):
    store = current_store()
    tables = store.existing_tables()
    cfg = current_app.config["NOCTURNE"]
    return jsonify(status="ok", backend=store.backend, schema_version=store.schema.version,
                   table_prefix=store.prefix, tables=tables, api_url=cfg.api_url)


def fit_json(compute):
    """The JSON answer of a fit (``compute()``, of either survey): 404 for an object it cannot
    find, 422 for a light curve it cannot fit."""
    try:
        return jsonify(compute())
    except LookupError as exc:
        raise ApiError(404, str(exc)) from None
    except ValueError as exc:
        raise ApiError(422, f"cannot fit this light curve: {exc}") from None


def varstar_params(v) -> dict:
    """The variable-star fit's parameters from its declared values (either survey)."""
    if v["period_min"] >= v["period_max"]:
        raise ApiError(400, "'period_min' must be smaller than 'period_max'")
    return {k: v[k] for k in ("period_min", "period_max", "nterms_base", "nterms_band", "period")}


def _fit(kind: str, v, **params):
    return fit_json(lambda: q.fit(current_store(), v["objectId"], kind, history=v["history"], withfp=v["withfp"],
                                  **params))


@route(E.FIT_VARSTAR, expensive=_always)
def fit_varstar(v):
    return _fit("varstar", v, **varstar_params(v))


@route(E.FIT_MULENS, expensive=_always)
def fit_mulens(v):
    return _fit("mulens", v)


@route(E.FIT_SUPERNOVA, expensive=_always)
def fit_supernova(v):
    return _fit("supernova", v)
