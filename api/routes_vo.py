"""The Virtual Observatory routes, per survey: ``/api/v1/vo/...`` (ZTF) and ``/lsst/api/v1/vo/...``
(Rubin): Simple Cone Search over the alerts and over the objects, Simple Image Access over
the cutouts, VOSI capabilities and availability. Declared in api/endpoints.py (``VO_*``).

Errors are VOTables (QUERY_STATUS ERROR, HTTP 200 as SCS 1.03 and SIA 1.0 have clients
expect), not the API's JSON: each blueprint turns an :class:`ApiError` into one. A store that
is down stays an HTTP 503 with Retry-After, its body the same error VOTable.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from store import StoreError, StoreUnavailable

from . import endpoints as E
from .access import current_store, rubin_store
from .errors import ApiError
from .queries import QueryTooLarge
from .queries import vo as q
from .routes import API_BLUEPRINTS, route
from .vo_documents import VOTABLE_TYPE, availability_xml, capabilities_xml, error_votable, scs_votable, sia_votable

vo_bp = Blueprint("vo", __name__, url_prefix="/api/v1/vo")
rubin_vo_bp = Blueprint("lsst_vo", __name__, url_prefix="/lsst/api/v1/vo")
API_BLUEPRINTS.update({vo_bp.name, rubin_vo_bp.name})
BLUEPRINTS = {"ztf": vo_bp, "rubin": rubin_vo_bp}
TEST_POSITIONS = {"ztf": (3.38, 52.69), "rubin": (53.2514, -27.861)}  # the API's examples


VOSI = ("/capabilities", "/availability")  # XML documents (text/xml): so are their errors


def _votable(body: bytes, status: int = 200, headers: dict | None = None) -> Response:
    mimetype = "text/xml" if request.path.endswith(VOSI) else VOTABLE_TYPE
    return Response(body, status=status, mimetype=mimetype, headers=headers or {})


def _error(exc):
    if isinstance(exc, ApiError):
        status = exc.status if exc.status >= 500 or exc.status == 429 else 200
        return _votable(error_votable(exc.message), status, exc.headers)
    if isinstance(exc, QueryTooLarge):
        return _votable(error_votable(str(exc)))
    if isinstance(exc, StoreUnavailable):
        return _votable(error_votable(f"the data store is unavailable right now; try again shortly ({exc})"), 503,
                        {"Retry-After": "5"})
    return _votable(error_votable(f"the data store cannot answer: {exc}"), 503)


for _bp in BLUEPRINTS.values():
    for _kind in (ApiError, QueryTooLarge, StoreError):
        _bp.register_error_handler(_kind, _error)


def _store(survey: q.Survey):
    return current_store() if survey is q.ZTF else rubin_store()


def _numbers(name: str, text: str, count: tuple[int, ...]) -> list[float]:
    try:
        values = [float(x) for x in text.replace(" ", ",").split(",") if x.strip()]
    except ValueError:
        values = []
    if len(values) not in count or not all(abs(x) < 1e6 for x in values):
        raise ApiError(400, f"parameter '{name}' = {text!r} is invalid: expected "
                            + (" or ".join(f"{n} number(s)" for n in count)) + " in degrees, comma-separated")
    return values


def _formats(text: str) -> tuple[str, ...]:
    out = []
    for item in (x.strip() for x in text.split(",") if x.strip()):
        upper = item.upper()
        if upper == "ALL":
            out += ["image/fits", "image/png"]
        elif upper == "GRAPHIC":
            out.append("image/png")
        elif upper == "METADATA":
            continue
        elif item.lower() in q.SIA_FORMATS:
            out.append(item.lower())
        else:
            raise ApiError(400, f"parameter 'FORMAT' = {item!r} is not served: use image/fits, image/png, ALL, "
                                "GRAPHIC or METADATA")
    return tuple(dict.fromkeys(out))


def _register(survey: q.Survey, bp: Blueprint) -> None:
    def cone(find, what: str):
        def view(v):
            cat = find(_store(survey), survey, v["RA"], v["DEC"], v["SR"], v["VERB"], v["MAXREC"])
            return _votable(scs_votable(cat, f"{survey.name}: {what} within {v['SR']:g} deg of "
                                             f"({v['RA']:g}, {v['DEC']:g})"))
        return view

    route(E.VO_SCS_ALERTS, blueprint=bp)(cone(q.cone_alerts, "alerts"))
    route(E.VO_SCS_OBJECTS, blueprint=bp)(cone(q.cone_objects, "objects"))

    @route(E.VO_SIA, blueprint=bp)
    def sia(v):
        ra, dec = _numbers("POS", v["POS"], (2,))
        if not (0 <= ra <= 360 and -90 <= dec <= 90):
            raise ApiError(400, f"parameter 'POS' = {v['POS']!r} is invalid: ra in [0, 360], dec in [-90, 90]")
        size = _numbers("SIZE", v["SIZE"], (1, 2))
        width, height = (size * 2)[:2]
        if not (0 <= width <= E.MAX_SIA_SIZE_DEG and 0 <= height <= E.MAX_SIA_SIZE_DEG):
            raise ApiError(400, f"parameter 'SIZE' = {v['SIZE']!r} is invalid: each side in [0, "
                                f"{E.MAX_SIA_SIZE_DEG:g}] degrees")
        formats = _formats(v["FORMAT"])
        if not formats:  # METADATA: the columns, no rows
            return _votable(sia_votable([], False))
        images, overflow = q.sia_images(_store(survey), survey, ra, dec, (width, height), formats,
                                        request.host_url.rstrip("/"), v["MAXREC"],
                                        centre_only=v["INTERSECT"] == "CENTER")
        return _votable(sia_votable(images, overflow))

    @route(E.VO_CAPABILITIES, blueprint=bp)
    def capabilities(v):
        base = request.host_url.rstrip("/") + bp.url_prefix
        body = capabilities_xml(base, "ZTF" if survey is q.ZTF else "Rubin/LSST", E.MAX_SR_DEG,
                                E.MAX_SIA_SIZE_DEG, E.MAX_N, TEST_POSITIONS[survey.name])
        return Response(body, mimetype="text/xml")

    @route(E.VO_AVAILABILITY, blueprint=bp)
    def availability(v):
        try:
            _store(survey).existing_tables()
            up, note = True, "the store answers"
        except (ApiError, StoreError) as exc:
            up, note = False, f"the store does not answer: {getattr(exc, 'message', exc)}"
        return Response(availability_xml(up, note), mimetype="text/xml")


_register(q.ZTF, vo_bp)
_register(q.RUBIN, rubin_vo_bp)
