"""Routes for annotations and internal names (Fink's ``metadata``): parse, call
:mod:`api.annotations`, answer JSON. Their methods, access (a token with a scope for the
writes) and parameters are declared in :mod:`api.endpoints`; unknown fields are refused.
"""
from __future__ import annotations

from flask import Response, jsonify

from . import auth
from . import endpoints as E
from .access import current_store
from .annotations import (annotate, check_object_id, delete_annotation, for_object, get_annotation, metadata_rows,
                          with_tag)
from .errors import ApiError
from .routes import route


def _created(body) -> Response:
    response = jsonify(body)
    response.status_code = 201
    return response


@route(E.ANNOTATIONS)
def list_annotations(v):
    if bool(v["objectId"]) == bool(v["tag"]):
        raise ApiError(400, "give either 'objectId' or 'tag'")
    store = current_store()
    if v["tag"]:
        return jsonify(with_tag(store, v["tag"], v["n"]))
    return jsonify(for_object(store, check_object_id(v["objectId"]), v["n"]))


@route(E.ANNOTATE)
def add_annotation(v):
    record = annotate(current_store(), v.identity().user, v["objectId"], v["text"], v["tags"], v["internal_name"])
    return _created(record)


@route(E.UNANNOTATE)
def remove_annotation(v):
    identity = v.identity()
    store = current_store()
    record = get_annotation(store, v["id"])
    if record is None:
        raise ApiError(404, f"no annotation {v['id'][:60]!r}")
    if record["author"] != identity.user and not identity.can("admin"):
        raise auth.AuthError(403, "only the author of an annotation, or an admin, may delete it")
    delete_annotation(store, v["id"])
    return jsonify(status="deleted", id=v["id"])


@route(E.METADATA)
def metadata(v):
    asked = [name for name in ("objectId", "internal_name", "internal_name_encoded") if v[name]]
    if len(asked) != 1:
        raise ApiError(400, "give one of 'objectId' (or all), 'internal_name' or 'internal_name_encoded' "
                            "(POST objectId and internal_name to give a name, with a token)")
    store = current_store()
    if v["internal_name"]:
        return jsonify(metadata_rows(store, internal_name=v["internal_name"]))
    if v["internal_name_encoded"]:
        return jsonify(metadata_rows(store, internal_name_encoded=v["internal_name_encoded"]))
    object_id = v["objectId"] if v["objectId"] == "all" else check_object_id(v["objectId"])
    return jsonify(metadata_rows(store, object_id=object_id))


@route(E.METADATA_GIVE)
def give_name(v):
    """POST metadata: with objectId and internal_name, gives the name (a token with scope
    annotate, as declared); otherwise the same read as GET."""
    if not (v["objectId"] and v["internal_name"]):
        return metadata(v)
    store = current_store()
    record = annotate(store, v.identity().user, v["objectId"], v["comments"], (), v["internal_name"])
    return _created(metadata_rows(store, internal_name=record["internal_name"]))
