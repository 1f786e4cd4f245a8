"""Every endpoint is declared one way (api/endpoints.py, registered by api.routes.route): each
URL rule under /api comes from a declaration with the declared methods, the OpenAPI spec lists
exactly the declared operations, and the declared access (token, portal session) and
strictness are what the routes enforce."""
from __future__ import annotations

import re

import pytest
from flask import Blueprint, jsonify

from api import auth, create_api_app
from api import endpoints as E
from api import rubin_endpoints as R
from api.params import Access, Endpoint, Param
from api.routes import api_rules, route
from conftest import make_config
from store import open_store

OBJ = "ZTF23abjexnw"
IMPLICIT = {"HEAD", "OPTIONS"}  # Flask adds these to every rule


def undeclared(app) -> list[str]:
    """What in ``app``'s URL map under /api is not a declared rule with its declared methods."""
    declared = {d.rule: d for d in api_rules()}
    problems = []
    for rule in app.url_map.iter_rules():
        if not (rule.rule == "/api" or rule.rule.startswith(("/api/", "/lsst/api/"))):
            continue
        d = declared.get(rule.endpoint)
        if d is None:
            problems.append(f"{rule.rule} ({rule.endpoint}) is not declared")
        elif rule.rule != d.path or set(rule.methods) - IMPLICIT != set(d.endpoint.methods):
            problems.append(f"{rule.rule} answers {sorted(set(rule.methods) - IMPLICIT)}, "
                            f"declared {d.path} {list(d.endpoint.methods)}")
    registered = {r.endpoint for r in app.url_map.iter_rules()}
    problems += [f"{d.path} ({d.rule}) is declared but not served" for d in declared.values() if d.rule not in registered]
    return problems


@pytest.fixture
def app(tmp_path):
    cfg = make_config("embedded", tmp_path).replace(api_rate_limit=0)
    store = open_store(cfg, create=True)
    main = store.table("main")
    main.put(main.keys.build(OBJ, 2460236.5, 1), {"i:objectId": OBJ, "i:jd": 2460236.5, "i:candid": 1})
    auth.add_user(store, "ada", password="analytical engine")
    yield create_api_app(cfg), store
    store.close()


def test_every_api_rule_comes_from_a_declaration(app):
    flask_app, _ = app
    assert undeclared(flask_app) == []
    served = {r.rule for r in flask_app.url_map.iter_rules()}
    assert {"/api/v1/annotations", "/api/v1/metadata", "/api/v1/openapi.json", "/api/v1/docs", "/api/"} <= served
    assert {d.endpoint for d in api_rules()} == set(E.ALL) | set(R.ALL) | set(E.VO_ALL)  # every declaration is served


def test_a_bare_route_is_caught(app):
    flask_app, _ = app
    flask_app.add_url_rule("/api/v1/bare", "bare", lambda: "", methods=["GET"])
    assert undeclared(flask_app) == ["/api/v1/bare (bare) is not declared"]


def test_the_spec_lists_exactly_the_declared_operations(app):
    flask_app, _ = app
    spec = flask_app.test_client().get("/api/v1/openapi.json").get_json()
    listed = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    # a path's Flask <part> is OpenAPI's {part}
    declared = {(re.sub(r"<(\w+)>", r"{\1}", d.path), m.lower()) for d in api_rules() for m in d.endpoint.methods}
    assert listed == declared
    served = {(re.sub(r"<(\w+)>", r"{\1}", r.rule), m.lower()) for r in flask_app.url_map.iter_rules() if r.rule.startswith(("/api", "/lsst/api"))
              for m in set(r.methods) - IMPLICIT}
    assert listed == served
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    # access and strictness come from the declaration
    annotations = spec["paths"]["/api/v1/annotations"]
    assert annotations["delete"]["security"] == [{"token": []}]
    assert annotations["delete"]["responses"]["401"]["headers"]["WWW-Authenticate"]["required"]
    assert spec["paths"]["/api/v1/metadata"]["post"]["security"] == [{}, {"token": []}]
    assert annotations["post"]["requestBody"]["content"]["application/json"]["schema"]["additionalProperties"] is False
    assert spec["paths"]["/api/v1/objects"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "additionalProperties"] is True
    assert "404" in spec["paths"]["/api/v1/cutouts"]["get"]["responses"]
    assert "404" not in spec["paths"]["/api/v1/objects"]["get"]["responses"]


def test_strictness_is_a_property_of_the_declaration(app):
    flask_app, store = app
    client = flask_app.test_client()
    read = client.get("/api/v1/classes", query_string={"colour": "x"})
    assert read.status_code == 200 and "colour" in read.headers["Warning"]
    token, _ = auth.issue_token(store, "ada", ["annotate"])
    write = client.post("/api/v1/annotations", json={"objectId": OBJ, "text": "x", "colour": "red"},
                        headers={"Authorization": f"token {token}"})
    assert write.status_code == 400 and "colour" in write.get_json()["message"]


def test_a_method_not_declared_is_405_with_allow(app):
    flask_app, _ = app
    client = flask_app.test_client()
    r = client.delete("/api/v1/metadata", query_string={"objectId": OBJ})
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    r = client.put("/api/v1/annotations")
    assert r.status_code == 405 and {"GET", "POST", "DELETE"} <= set(r.headers["Allow"].split(", "))
    r = client.get("/api/v1/annotations", query_string={"objectId": OBJ})
    assert r.headers["Access-Control-Allow-Methods"] == "GET, POST, DELETE, OPTIONS"


WHISPER = Endpoint("whisper", "A write for a signed-in portal session (test only)", (
    Param("text", "string", "what to say", required=True),
), formats=("json",), methods=("POST",), strict=True, access=Access("session", ("annotate",), writes=True))
SHOUT = Endpoint("shout", "The same, for an admin only (test only)", WHISPER.params, formats=("json",),
                 methods=("POST",), access=Access("session", ("admin",), writes=True))


def test_a_portal_session_access(app):
    """Access("session"): the signed-in session and its CSRF token in X-CSRF-Token, else 401;
    the write counts against the write limit and the declared scope is checked."""
    flask_app, store = app
    test_bp = Blueprint("whisper_test", __name__, url_prefix="/test")

    @route(WHISPER, blueprint=test_bp)
    def whisper(v):
        return jsonify(user=v.identity().user, text=v["text"])

    @route(SHOUT, blueprint=test_bp)
    def shout(v):
        return jsonify(user=v.identity().user)

    @test_bp.post("/sign-in")
    def sign_in():
        return jsonify(csrf=auth.sign_in(store, auth.password_identity(store, "ada", "analytical engine")))

    flask_app.register_blueprint(test_bp)
    client = flask_app.test_client()
    refused = client.post("/test/whisper", json={"text": "hi"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("token")
    csrf = client.post("/test/sign-in").get_json()["csrf"]
    assert client.post("/test/whisper", json={"text": "hi"}, headers={"X-CSRF-Token": "forged"}).status_code == 401
    ok = client.post("/test/whisper", json={"text": "hi"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.get_json() == {"user": "ada", "text": "hi"}
    strict = client.post("/test/whisper", json={"text": "hi", "loud": True}, headers={"X-CSRF-Token": csrf})
    assert strict.status_code == 400
    lacking = client.post("/test/shout", json={"text": "hi"}, headers={"X-CSRF-Token": csrf})
    assert lacking.status_code == 403 and "admin" in lacking.get_json()["message"]
    # not an API rule: neither in the spec nor among the API's declarations
    assert "/test/whisper" not in flask_app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert all(d.endpoint not in (WHISPER, SHOUT) for d in api_rules())


def test_the_whole_server_adds_only_the_unknown_path_answer(tmp_path):
    """The server with the portal (index.py): under /api, only the declared rules and the
    catch-all that answers an undeclared /api path with the API's JSON 404 (not a portal page)."""
    from index import create_app
    cfg = make_config("embedded", tmp_path).replace(api_rate_limit=0)
    open_store(cfg, create=True).close()
    server = create_app(cfg)
    assert undeclared(server) == ["/api/<path:rest> (unknown_api_path) is not declared"]
    r = server.test_client().get("/api/v1/nowhere")
    assert r.status_code == 404 and r.get_json()["status"] == "error"
