"""The REST API's routes: parse the parameters, call a query, render. Nothing more.

Every route answers GET (query string) and POST (JSON body) with the same parameters.
"""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
from flask import Blueprint, Response, current_app, jsonify, request

from science.classification import simbad_type
from science.cutout_image import known_colormap, to_png

from . import endpoints as E
from . import queries as q
from .access import current_store
from .errors import ApiError
from .guard import client_address
from .params import Endpoint, parse
from .render import respond
from .slots import slots_for

bp = Blueprint("api", __name__, url_prefix="/api/v1")


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
                params = json.loads(body or b"{}")
            except ValueError as exc:
                raise ApiError(400, f"the request body is not valid JSON: {exc}") from None
            if not isinstance(params, dict):
                raise ApiError(400, "the JSON body must be an object of parameter names to values")
            return params
        return {**request.args.to_dict(), **request.form.to_dict()}
    return {k: ",".join(v) for k, v in request.args.to_dict(flat=False).items()}


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


def route(endpoint: Endpoint, *aliases: str, expensive=None):
    """Register ``fn(values) -> DataFrame | Response`` for ``endpoint`` (and its aliases).

    ``expensive(values)`` true: the request waits for no one, it takes a compute slot of its
    client and of the server or is refused (429/503 with Retry-After, api/slots.py).
    """
    def wrap(fn):
        def view():
            values = parse(endpoint, request_params())
            admitted = (_admission().admit(client_address()) if expensive is not None and expensive(values)
                        else contextlib.nullcontext())
            with admitted, q.time_budget(current_app.config["NOCTURNE"].query_time_budget_s):
                result = fn(values)
            if isinstance(result, Response):
                return result
            return respond(result, values["output-format"], endpoint.name)
        for name in (endpoint.name, *aliases):
            bp.add_url_rule(f"/{name}", endpoint=name.replace("/", "_"), view_func=view, methods=["GET", "POST"])
        return fn
    return wrap


def _ids(values: list[str]) -> list[str]:
    if len(values) > E.MAX_OBJECTS:
        raise ApiError(400, f"parameter 'objectId': at most {E.MAX_OBJECTS} objects per request, got {len(values)}")
    return list(dict.fromkeys(values))


@route(E.OBJECTS)
def objects(v):
    ids = _ids(v["objectId"])
    df = q.objects(current_store(), ids, v["columns"], v["withupperlim"], v["withcutouts"], v["cutout-kind"])
    if df.empty and len(ids) == 1:
        raise ApiError(404, f"no alert for objectId {ids[0]!r}")
    return df


def _window(v, days_key: str = "window", scale: float = 1.0):
    start, stop = v.get("startdate"), v.get("stopdate")
    if v.get(days_key) is not None and start is not None:
        if stop is not None:
            raise ApiError(400, "give either 'stopdate' or 'window', not both")
        stop = start + v[days_key] * scale
    if start is not None and stop is not None and stop <= start:
        raise ApiError(400, "'stopdate' must be after 'startdate'")
    return start, stop


@route(E.CONESEARCH, expensive=_big_cone)
def conesearch(v):
    start, stop = _window(v)
    return q.conesearch(current_store(), v["ra"], v["dec"], v["radius"], start, stop, v["n"], v["columns"])


@route(E.EXPLORER, expensive=_big_cone)
def explorer(v):
    given = [g for g in E.EXPLORER.groups if any(v.get(p) is not None for p in g)]
    if len(given) != 1:
        raise ApiError(400, "give exactly one group of parameters: objectId | ra, dec, radius | startdate (+ window)")
    group = given[0]
    missing = [p for p in group if v.get(p) is None]
    if missing:
        raise ApiError(400, f"missing parameter(s) {', '.join(missing)} of the group {', '.join(group)}")
    store = current_store()
    if group == ("objectId",):
        return q.objects(store, _ids(v["objectId"]), v["columns"])
    if group == ("startdate",):
        start = v["startdate"]
        return q.time_window(store, start, start + v["window"] / 1440, v["n"], v["columns"])
    return q.conesearch(store, v["ra"], v["dec"], v["radius"], n=v["n"], columns=v["columns"])


def class_label(text: str) -> str:
    """Fink's spellings of a class → the label the class index holds."""
    if text.startswith("(SIMBAD) "):
        return simbad_type(text)
    return text


@route(E.LATESTS)
def latests(v):
    start, stop = _window(v)
    return q.latests(current_store(), class_label(v["class"]), v["n"], start, stop, v["columns"])


@route(E.SSO)
def sso(v):
    names = [n.strip().replace(" ", "") for n in v["n_or_d"]]
    return q.sso(current_store(), names, v["columns"])


@route(E.XMATCH, expensive=_always)
def xmatch(v):
    try:
        catalog = pd.read_csv(io.StringIO(v["catalog"]))
    except (ValueError, pd.errors.ParserError) as exc:
        raise ApiError(400, f"parameter 'catalog' is not CSV text with a header line: {exc}") from None
    names = v["header"]
    if not 3 <= len(names) <= 4:
        raise ApiError(400, "parameter 'header' names the RA, Dec and ID columns (and optionally a time column)")
    missing = [n for n in names if n not in catalog.columns]
    if missing:
        raise ApiError(400, f"catalog has no column(s) {', '.join(missing)}; it has {', '.join(catalog.columns[:10])}")
    if len(catalog) > E.MAX_XMATCH_ROWS:
        raise ApiError(413, f"catalog has {len(catalog)} rows; at most {E.MAX_XMATCH_ROWS} per request")
    sources = catalog[names].copy()
    sources.columns = ["ra", "dec", "id", "time"][:len(names)]
    for col in ("ra", "dec") + (("time",) if len(names) == 4 else ()):
        sources[col] = pd.to_numeric(sources[col], errors="coerce")
    bad = sources[~np.isfinite(sources["ra"]) | ~np.isfinite(sources["dec"]) | (sources["dec"].abs() > 90)]
    if len(bad):
        raise ApiError(400, f"catalog row {int(bad.index[0]) + 2}: RA/Dec must be numbers in degrees")
    return q.xmatch(current_store(), sources, v["radius"], v["window"], v["columns"])


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
    if cells is None:
        what = f"alert {v['candid']} of {v['objectId']!r}" if v["candid"] is not None else f"objectId {v['objectId']!r}"
        raise ApiError(404, f"no {what}")
    blobs = {k: cells.get(f"b:cutout{k}_stampData") for k in kinds}
    if any(b is None for b in blobs.values()):
        raise ApiError(404, f"alert {cells['i:candid']} has no {', '.join(k for k, b in blobs.items() if b is None)} cutout")
    if fmt == "array":
        return jsonify({f"b:cutout{k}_stampData": q.decode_stamp(b).tolist() for k, b in blobs.items()})
    kind, blob = next(iter(blobs.items()))
    name = f"{v['objectId']}_{cells['i:candid']}_{kind}"
    if fmt == "fits":
        return Response(q.fits_bytes(blob), mimetype="application/fits",
                        headers={"Content-Disposition": f'attachment; filename="{name}.fits"'})
    data = q.decode_stamp(blob)
    if kind == "Difference" and str(cells.get("i:isdiffpos", "t")) in ("f", "0"):
        data = -data
    png = to_png(data, v["stretch"], v["colormap"], v["pmin"], v["pmax"], v["convolution_kernel"])
    return Response(png, mimetype="image/png", headers={"Cache-Control": "public, max-age=86400"})


@route(E.CLASSES)
def classes(v):
    return jsonify(q.known_classes(current_store()))


@route(E.SCHEMA, "columns")
def schema(v):
    return jsonify(q.schema_columns())


@route(E.STATISTICS)
def statistics(v):
    date = v["date"]
    if date and not (date.isdigit() and len(date) in (4, 6, 8)):
        raise ApiError(400, f"parameter 'date' = {date!r} is invalid: expected YYYY, YYYYMM or YYYYMMDD")
    return q.statistics(current_store(), date, v["columns"])


@route(E.RANDOM)
def random(v):
    label = class_label(v["class"]) if v["class"] else None
    return q.random_alerts(current_store(), v["n"], v["seed"], label, v["columns"])


@route(E.HEALTH)
def health(v):
    store = current_store()
    tables = store.existing_tables()
    cfg = current_app.config["NOCTURNE"]
    return jsonify(status="ok", backend=store.backend, schema_version=store.schema.version,
                   table_prefix=store.prefix, tables=tables, api_url=cfg.api_url)


def _fit(kind: str, v, **params):
    try:
        return jsonify(q.fit(current_store(), v["objectId"], kind, **params))
    except LookupError as exc:
        raise ApiError(404, str(exc)) from None
    except ValueError as exc:
        raise ApiError(422, f"cannot fit this light curve: {exc}") from None


@route(E.FIT_VARSTAR, expensive=_always)
def fit_varstar(v):
    if v["period_min"] >= v["period_max"]:
        raise ApiError(400, "'period_min' must be smaller than 'period_max'")
    return _fit("varstar", v, period_min=v["period_min"], period_max=v["period_max"],
                nterms_base=v["nterms_base"], nterms_band=v["nterms_band"], period=v["period"])


@route(E.FIT_MULENS, expensive=_always)
def fit_mulens(v):
    return _fit("mulens", v)


@route(E.FIT_SUPERNOVA, expensive=_always)
def fit_supernova(v):
    return _fit("supernova", v)
