"""The Rubin/LSST routes, ``/lsst/api/v1/<name>``, compatible with Fink's LSST API: parse the
declared parameters (api/rubin_endpoints.py), call a query of api/queries/rubin, render.

Fink serves its LSST API at its own host (``https://api.lsst.fink-portal.org/api/v1/...``);
here the same paths hang under ``/lsst``, so a Fink script works with the base URL
``http://HOST/lsst``. The Rubin tables are a store of their own (api/access.py).
"""
from __future__ import annotations

import time

import pandas as pd
from flask import Blueprint, Response, jsonify

from science.cutout_image import known_colormap, to_png

from . import rubin_endpoints as R
from .access import rubin_store
from .errors import ApiError
from .queries import CutoutUnreadable, decode_stamp, fits_bytes
from .queries import rubin as q
from .queries.columns import Columns
from .routes import API_BLUEPRINTS, _always, _big_cone, _window, fit_json, route, varstar_params
from .routes_lookup import requested_skymap

rubin_bp = Blueprint("lsst_api", __name__, url_prefix=R.PREFIX)
API_BLUEPRINTS.add(rubin_bp.name)
MJD = 2400000.5


def rubin_route(endpoint, expensive=None):
    return route(endpoint, expensive=expensive, blueprint=rubin_bp)


def _columns(v, table: str, extra: tuple = ()) -> list[str] | None:
    """The columns asked, checked against ``table``'s (400 naming the unknown ones)."""
    cols = v.get("columns")
    if cols is not None and "*" in cols:
        return None
    bad = q.unknown_columns(table, cols, extra)
    if bad:
        raise ApiError(400, f"parameter 'columns': unknown column(s) {', '.join(bad[:5])} for this route; "
                            f"see {R.PREFIX}/schema")
    return cols


def _ids(v) -> list[int]:
    values = v["diaObjectId"]
    if len(values) > R.MAX_OBJECTS:
        raise ApiError(400, f"parameter 'diaObjectId': at most {R.MAX_OBJECTS} objects per request, got {len(values)}")
    ids, refused = q.object_ids(values)
    if refused:
        v.warn(f"not diaObjectIds (integers), no rows for: {', '.join(refused[:5])}")
    return ids


def _none_found(v, df: pd.DataFrame | Columns, what: str) -> pd.DataFrame | Columns:
    if df.empty:  # Fink answers an unknown object with an empty list, not an error
        v.warn(f"no {what} for these diaObjectIds")
    return df


@rubin_route(R.OBJECTS)
def objects(v):
    return _none_found(v, q.objects_columns(rubin_store(), _ids(v), _columns(v, "objects")), "diaObject")


@rubin_route(R.SOURCES)
def sources(v):
    return _none_found(v, q.history_columns(rubin_store(), "sources", _ids(v), _columns(v, "sources"),
                                            v["midpointMjdTai"]), "diaSource")


@rubin_route(R.FP)
def fp(v):
    return _none_found(v, q.history_columns(rubin_store(), "fp", _ids(v), _columns(v, "fp")), "forced source")


def _mjd_window(v):
    """``(start, stop)`` MJDs from startdate, stopdate, window; None for an empty range."""
    window = _window(v)
    if window is None:
        return None
    return tuple(None if jd is None else jd - MJD for jd in window)


@rubin_route(R.CONESEARCH, expensive=_big_cone)
def conesearch(v):
    cols = _columns(v, "sources", extra=("v:separation_degree",))
    window = _mjd_window(v)
    if window is None:
        return pd.DataFrame()
    if v.get("kind") != "within" and window == (None, None):
        v.warn("'kind' ignored: no startdate or stopdate given")
    return q.conesearch(rubin_store(), v["ra"], v["dec"], v["radius"], *window, v["kind"], v["n"], cols)


@rubin_route(R.SKYMAP)
def skymap(v):
    sky = requested_skymap(v)
    return q.skymap_alerts(rubin_store(), sky, v["credible_level"], q.event_mjd_tai(sky.event_jd),
                           v["n_day_before"], v["n_day_after"])


@rubin_route(R.CUTOUTS)
def cutouts(v):
    kinds = q.CUTOUT_KINDS if v["kind"] == "All" else (v["kind"],)
    fmt = v["output-format"]
    if v["kind"] == "All" and fmt != "array":
        raise ApiError(400, "kind=All is only available with output-format=array")
    if not known_colormap(v["colormap"]):
        raise ApiError(400, f"parameter 'colormap' = {v['colormap']!r} is not a matplotlib colour map (e.g. Greys_r)")
    if v["pmin"] >= v["pmax"]:
        raise ApiError(400, "'pmin' must be smaller than 'pmax'")
    ids, refused = q.object_ids([v["diaObjectId"]])
    found = q.find_cutouts(rubin_store(), ids[0], v["diaSourceId"], kinds) if ids else None
    if found is None and v["diaSourceId"] is None:
        v.warn(f"no alert for diaObjectId {v['diaObjectId']!r}")  # as Fink: an empty 200
        return jsonify({}) if fmt == "array" else Response(b"", mimetype={"png": "image/png"}.get(fmt, "application/fits"))
    if found is None:
        raise ApiError(404, f"no alert {v['diaSourceId']} of diaObjectId {v['diaObjectId']}")
    blobs = {k: found.get(f"b:cutout{k}") for k in kinds}
    missing = [k for k, b in blobs.items() if b is None]
    if missing:
        raise ApiError(404, f"alert {found['diaSourceId']} has no {', '.join(missing)} cutout")
    source = found["diaSourceId"]
    if fmt == "array":
        return jsonify({f"b:cutout{k}": _stamp(decode_stamp, b, k, source).tolist() for k, b in blobs.items()})
    kind, blob = next(iter(blobs.items()))
    name = f"{v['diaObjectId']}_{source}_{kind}"
    if fmt == "fits":
        return Response(_stamp(fits_bytes, blob, kind, source), mimetype="application/fits",
                        headers={"Content-Disposition": f'attachment; filename="{name}.fits"'})
    png = to_png(_stamp(decode_stamp, blob, kind, source), v["stretch"], v["colormap"], v["pmin"], v["pmax"],
                 v["convolution_kernel"])
    return Response(png, mimetype="image/png", headers={"Cache-Control": "public, max-age=86400"})


def _stamp(decode, blob: bytes, kind: str, source):
    try:
        return decode(blob)
    except CutoutUnreadable as exc:
        raise ApiError(404, f"the {kind} cutout of alert {source} is damaged in the store and cannot be decoded "
                            f"({exc}); the alert's other data are intact") from None


@rubin_route(R.SSO)
def sso(v):
    for name in ("withEphem", "withResiduals"):
        if v[name]:
            raise ApiError(400, f"{name}=true needs IMCCE's Miriade service, which this server cannot reach; "
                                f"send {name}=false")
    if len(v["n_or_d"]) > R.MAX_OBJECTS:
        raise ApiError(400, f"parameter 'n_or_d': at most {R.MAX_OBJECTS} names per request")
    cols = _columns(v, "sso", extra=("f:sso_name",))
    df = q.sso(rubin_store(), v["n_or_d"], None if cols is None else [c for c in cols if c != "f:sso_name"])
    if df.empty:
        v.warn("no solar-system source held for these names (numbers and names need an online resolver; "
               "give a designation as Rubin writes it, a packed MPC designation or an ssObjectId)")
    return df


@rubin_route(R.TAGS)
def tags(v):
    tag = v.get("tag")
    if not tag:
        return jsonify(q.tag_list())
    known = q.tag_list()
    if tag not in known:
        raise ApiError(400, f"{tag!r} is not a tag; the tags are: {', '.join(known)} (see {R.PREFIX}/tags)")
    start = v["startdate"] - MJD
    stop = (v["stopdate"] - MJD) if v["stopdate"] is not None else time.time() / 86400 + 40587.0 + 1 / 24
    if stop <= start:
        v.warn("empty date range: the stop date is not after the start date")
        return pd.DataFrame()
    return q.tagged(rubin_store(), tag, v["n"], start, stop, _columns(v, "sources"))


@rubin_route(R.STATISTICS)
def statistics(v):
    date = v["date"]
    if date and not (date.isdigit() and len(date) in (4, 6, 8)):
        raise ApiError(400, f"parameter 'date' = {date!r} is invalid: expected YYYY, YYYYMM or YYYYMMDD")
    if v["schema"]:
        return q.statistics_schema()
    cols = _columns(v, "statistics", extra=("f:night",))
    return q.statistics(rubin_store(), date, cols)


@rubin_route(R.SCHEMA)
def schema(v):
    route = q.schema_route(v["endpoint"])
    if route is None:
        raise ApiError(400, f"parameter 'endpoint' = {v['endpoint']!r} is not a route with a schema; one of: "
                            + ", ".join(f"/api/v1/{name}" for name in q.SCHEMA_TABLES))
    return jsonify(q.schema(route))


@rubin_route(R.RESOLVER)
def resolver(v):
    name = v["name"] if v.get("name") and not v.get("name_or_id") else v["name_or_id"]
    try:
        return q.resolve(rubin_store(), v["resolver"], name, v["reverse"], v["nmax"])
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def _fit(kind: str, v, **params):
    ids, _ = q.object_ids([v["diaObjectId"]])
    if not ids:
        raise ApiError(400, f"parameter 'diaObjectId' = {v['diaObjectId']!r} is invalid: expected an integer")
    return fit_json(lambda: q.fit(rubin_store(), ids[0], kind, v["withfp"], **params))


@rubin_route(R.FIT_VARSTAR, expensive=_always)
def fit_varstar(v):
    return _fit("varstar", v, **varstar_params(v))


@rubin_route(R.FIT_MULENS, expensive=_always)
def fit_mulens(v):
    return _fit("mulens", v)


@rubin_route(R.FIT_SUPERNOVA, expensive=_always)
def fit_supernova(v):
    return _fit("supernova", v)
