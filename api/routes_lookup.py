"""Routes for solar-system objects, names, tracklets and gravitational-wave sky maps
(Fink's ``sso``, ``resolver``, ``tracklet`` and ``skymap``): parse, call a query, render.

What needs an online service we cannot reach (IMCCE's Miriade and quaero, CDS Sesame,
the live TNS, GraceDB) is answered with a 400 that says so and what to send instead.
"""
from __future__ import annotations

from flask import request

from science.skymap import Skymap, SkymapError, map_bytes, read_skymap

from . import endpoints as E
from .access import current_store
from .errors import ApiError
from .queries import resolver, skymap, solar_system as sso_q, tracklet as tracklet_q
from .queries.cutouts import KINDS as CUTOUT_KINDS
from .routes import route

OFFLINE = "this server has no access to online services"


@route(E.SSO)
def sso(v):
    if v["withEphem"] or v["withResiduals"]:
        what = "withResiduals (sHG1G2 residuals need phase angles and distances)" if v["withResiduals"] \
            else "withEphem"
        raise ApiError(400, f"{what} needs ephemerides from IMCCE's Miriade service, and {OFFLINE}: "
                            f"send withEphem=false and withResiduals=false")
    if len(v["n_or_d"]) > E.MAX_OBJECTS:
        raise ApiError(400, f"parameter 'n_or_d': at most {E.MAX_OBJECTS} objects per request")
    kinds = () if not v["withcutouts"] else CUTOUT_KINDS if v["cutout-kind"] == "All" else (v["cutout-kind"],)
    try:
        return sso_q.sso_alerts(current_store(), v["n_or_d"], v["columns"], kinds)
    except sso_q.UnknownName as exc:
        raise ApiError(400, f"{str(exc)!r} is not an MPC number, provisional designation (2010 JO69) or comet "
                            f"(10P, C/2020 V2); names are resolved by IMCCE's quaero, and {OFFLINE}") from None


@route(E.RESOLVER)
def resolve(v):
    store, name, nmax = current_store(), v["name_or_id"] or v["name"], v["nmax"]
    kind, reverse = v["resolver"], v["reverse"]
    if reverse and not name:
        raise ApiError(400, "reverse=true needs name: a ZTF objectId")
    if kind == "tns":
        return resolver.tns_reverse(store, name, nmax) if reverse else resolver.tns(store, name, nmax)
    if kind == "simbad":
        if not reverse:
            raise ApiError(400, f"resolving a name with SIMBAD needs CDS's Sesame service, and {OFFLINE}; "
                                f"reverse=true (an objectId's SIMBAD cross-match) works")
        return resolver.simbad_reverse(store, name, nmax)
    if reverse:
        return resolver.ssodnet_reverse(store, name, nmax)
    if not name:
        raise ApiError(400, "resolver=ssodnet needs name: an MPC number or designation, or its start")
    return resolver.ssodnet(store, name, nmax)


@route(E.TRACKLET)
def tracklet(v):
    given, is_date = (v["id"], False) if v["id"] else (v["date"], True)
    if not given:
        raise ApiError(400, "give id (a tracklet id TRCK_YYYYMMDD_HHMMSS_NN) or date (YYYY-MM-DD hh:mm:ss, "
                            "or its start: YYYY-MM-DD, YYYY-MM-DD hh)")
    prefix = tracklet_q.tracklet_prefix(given, is_date)
    if prefix is None:
        what = "date" if is_date else "id"
        raise ApiError(400, f"parameter '{what}' = {given[:40]!r} is invalid: expected "
                            + ("YYYY-MM-DD, YYYY-MM-DD hh, YYYY-MM-DD hh:mm or YYYY-MM-DD hh:mm:ss" if is_date
                               else "TRCK_YYYYMMDD_HHMMSS_NN or its start (TRCK_YYYYMMDD, TRCK_YYYYMMDD_hh...)"))
    return tracklet_q.tracklet(current_store(), prefix, v["columns"])


@route(E.SKYMAP, "bayestar")  # bayestar: the name in Fink's docs and older API
def sky_map(v):
    sky = requested_skymap(v)
    return skymap.skymap_alerts(current_store(), sky, v["credible_level"], sky.event_jd,
                                v["n_day_before"], v["n_day_after"])


def requested_skymap(v) -> Skymap:
    """The sky map a skymap request sent (a multipart file 'file' or 'bayestar', or the
    parameter bayestar), read; 400 (413 past the size limit) for anything else, as for a map
    without the event's time."""
    upload = request.files.get("file") or request.files.get("bayestar") if request.files else None
    if upload is None and v["event_name"] and not v["bayestar"]:
        raise ApiError(400, f"event_name needs GraceDB to download the map, and {OFFLINE}: download "
                            f"{v['event_name'][:40]}'s bayestar.fits.gz and send it as bayestar")
    try:
        if upload is not None:
            data = upload.read(E.MAX_SKYMAP_BYTES + 1)
        elif v["bayestar"]:
            data = map_bytes(v["bayestar"])
        else:
            raise ApiError(400, "give the map: bayestar (str() of the bytes of bayestar.fits.gz, or base64), "
                                "or upload it as the file 'file'")
        if len(data) > E.MAX_SKYMAP_BYTES:
            raise ApiError(413, f"the map is larger than {E.MAX_SKYMAP_BYTES // 2**20} MB")
        sky = read_skymap(data)
    except SkymapError as exc:
        raise ApiError(400, f"parameter 'bayestar': {exc}") from None
    if sky.event_jd is None:
        raise ApiError(400, "the map's header has no DATE-OBS nor MJD-OBS: the event's time is needed")
    return sky
