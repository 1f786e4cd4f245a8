"""Routes of the external analysis services: the registry (admin), starting, listing and
deleting analyses, and the services' webhook. Parse, call :mod:`api.analyses` or
:mod:`api.analysis_services`, answer JSON; declared in :mod:`api.endpoints`.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify, request

from . import analyses as A
from . import analysis_services as S
from . import auth
from . import endpoints as E
from .access import current_store, rubin_store
from .analysis_dispatcher import ensure_started
from .errors import ApiError
from .routes import route


def _created(body) -> Response:
    response = jsonify(body)
    response.status_code = 201
    return response


def _config():
    return current_app.config["NOCTURNE"]


@route(E.ANALYSIS_SERVICES)
def list_services(v):
    return jsonify(S.listing(current_store()))


@route(E.ANALYSIS_SERVICE_ADD)
def add_service(v):
    record = S.register(current_store(), _config(), v.identity().user, v)
    ensure_started(_config())
    return _created(record)


@route(E.ANALYSIS_SERVICE_REMOVE)
def remove_service(v):
    if not S.remove(current_store(), v["name"]):
        raise ApiError(404, f"no analysis service {v['name'][:40]!r}")
    return jsonify(status="deleted", name=v["name"])


@route(E.ANALYSES)
def list_analyses(v):
    return jsonify(A.for_object(current_store(), A.target(v["objectId"], v["diaObjectId"]), v["includeAnalysisData"]))


@route(E.ANALYSIS_START)
def start_analysis(v):
    target = A.target(v["objectId"], v["diaObjectId"])
    record = A.start(current_store(), _config(), v.identity(), target, v["service"], v["parameters"],
                     rubin=rubin_store() if A.is_rubin(target) else None)
    ensure_started(_config())
    return _created(record)


@route(E.ANALYSIS_DELETE)
def delete_analysis(v):
    identity, store = v.identity(), current_store()
    found = A.get(store, v["id"])
    if found is None:
        raise ApiError(404, f"no analysis {v['id'][:60]!r}")
    if found["user"] != identity.user and not identity.can("admin"):
        raise auth.AuthError(403, "only who started an analysis, or an admin, may delete it")
    A.delete(store, v["id"])
    return jsonify(status="deleted", id=v["id"])


@route(E.WEBHOOK)
def webhook(v):
    """A service's results: JSON only, at most ``analysis_max_result_bytes``; the token in the
    path is single-use and expires with the analysis."""
    limit = _config().analysis_max_result_bytes
    if (request.content_length or 0) > limit or len(request.get_data(cache=True)) > limit:
        raise ApiError(413, f"the results are larger than {limit} bytes (analysis_max_result_bytes)")
    body = request.get_data(cache=True)
    if A.is_pickle(body) or not (request.is_json or body.lstrip()[:1] == b"{"):
        raise ApiError(415, "the results must be a JSON object (Content-Type: application/json); "
                            "pickled data is never read")
    return jsonify(A.accept_callback(current_store(), _config(), v["token"],
                                     {k: v[k] for k in ("status", "message", "results", "plots", "inference_data")}))
