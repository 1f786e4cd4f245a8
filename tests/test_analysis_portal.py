"""The portal's analysis controls in-process: the admin page of the service registry (admins
only, the API's checks), and starting and deleting an analysis from the object page's card
with the session's CSRF token (the browser round trip is tests/browser/test_analysis_browser.py)."""
import json
import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from api import analyses as A  # noqa: E402
from api import auth  # noqa: E402
from api.analysis_services import listing  # noqa: E402
from conftest import make_config  # noqa: E402
from index import create_app  # noqa: E402
from portal_helpers import call, render_page  # noqa: E402
from store import open_store  # noqa: E402
from test_annotations_portal import callback, sign_in  # noqa: E402

OBJ = "ZTF23abjexnw"
ALLOWED = "http://127.0.0.1:9/"

SVC_SECRET = secrets.token_urlsafe(16)  # a fresh service secret each run (no literal secret in the repository)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    cfg = make_config("embedded", tmp_path_factory.mktemp("analysis-portal"))
    cfg = cfg.replace(analysis_allowlist=ALLOWED, analysis_dispatcher=False, analysis_per_minute=0)
    store = open_store(cfg, create=True)
    main = store.table("main")
    main.put(main.keys.build(OBJ, 2460230.5, 1), {"i:objectId": OBJ, "i:jd": 2460230.5, "i:candid": 1, "i:fid": 1})
    auth.add_user(store, "root", password="root password", roles=["admin"])
    auth.add_user(store, "ada", password="analytical engine")
    yield create_app(cfg), store
    store.close()


def click(client, outputs: list[tuple[str, str]], button: dict, state: list) -> dict:
    """A click on one of the buttons matched by an ALL pattern (Dash sends the matched list)."""
    deps = client.get("/_dash-dependencies").get_json()  # its outputs are allow_duplicate: named with a hash
    output = next(d["output"] for d in deps if d["output"].startswith(f"..{outputs[0][0]}.") and
                  any(f'"type":"{button["type"]}"' in str(i["id"]) for i in d["inputs"]))
    body = {"output": output, "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]], "state": state,
            "changedPropIds": [json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"]}
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code in (200, 204), r.data[:500]
    return r.get_json()["response"] if r.status_code == 200 else {}


FIELDS = ("svc-name", "svc-url", "svc-timeout", "svc-description", "svc-auth", "svc-secret", "svc-upload-only",
          "svc-data-types", "svc-parameters", "svc-users", "svc-scopes")


def register(client, csrf, **values):
    given = {"svc-timeout": 60, "svc-auth": "none", "svc-upload-only": [], "svc-data-types": ["detections"],
             "svc-scopes": [], **{k.replace("_", "-"): v for k, v in values.items()}}
    state = [{"id": f, "property": "value", "value": given.get(f)} for f in FIELDS]
    state += [{"id": "svc-csrf", "property": "data", "value": csrf}, {"id": "svc-version", "property": "data", "value": 0}]
    out = callback(client, [("svc-msg", "children"), ("svc-version", "data")],
                   [{"id": "svc-register", "property": "n_clicks", "value": 1}], state)
    return json.dumps(out.get("svc-msg", {}))


def test_the_registry_page_is_for_admins_only(portal):
    app, store = portal
    client = app.test_client()
    assert '"svc-denied"' in render_page(client, "/admin/analysis")
    assert "Only an administrator" in register(client, "", svc_name="nope", svc_url=ALLOWED + "x")
    csrf = sign_in(client, "ada", "analytical engine")["ann-csrf"]["data"]
    assert csrf and '"svc-denied"' in render_page(client, "/admin/analysis")
    assert "Only an administrator" in register(client, csrf, svc_name="nope", svc_url=ALLOWED + "x")
    assert "nope" not in [s["name"] for s in listing(store)]


def test_an_admin_registers_and_removes_a_service(portal):
    app, store = portal
    client = app.test_client()
    csrf = sign_in(client, "root", "root password")["ann-csrf"]["data"]
    assert '"svc-register"' in render_page(client, "/admin/analysis")
    refused = register(client, csrf, svc_name="evil", svc_url="http://169.254.169.254/latest")
    assert "allowlist" in refused
    assert "expected a JSON value" in register(client, csrf, svc_name="bad", svc_url=ALLOWED + "a", svc_parameters="{oops")
    assert "registered" in register(client, csrf, svc_name="fitter", svc_url=ALLOWED + "analyse", svc_auth="header",
                                    svc_secret=SVC_SECRET, svc_parameters='{"model": ["linear", "quadratic"]}',
                                    svc_users="ada", svc_data_types=["detections", "forced_photometry"])
    found = {s["name"]: s for s in listing(store)}
    assert found["fitter"]["parameters"] == {"model": ["linear", "quadratic"]} and found["fitter"]["users"] == ["ada"]
    page = render_page(client, "/admin/analysis")
    assert "fitter" in page and SVC_SECRET not in page
    assert "Only an administrator" in register(client, "forged", svc_name="x2", svc_url=ALLOWED + "b")
    assert "x2" not in {s["name"] for s in listing(store)}

    out = click(client, [("svc-msg", "children"), ("svc-version", "data")], {"type": "svc-del", "name": "fitter"},
                [{"id": "svc-csrf", "property": "data", "value": csrf},
                 {"id": "svc-version", "property": "data", "value": 0}])
    assert "removed" in json.dumps(out["svc-msg"]) and "fitter" not in {s["name"] for s in listing(store)}


def run(client, csrf, service, **parameters):
    ids = [{"type": "an-param", "name": n} for n in parameters]
    state = [{"id": "an-service", "property": "value", "value": service},
             [{"id": i, "property": "value", "value": v} for i, v in zip(ids, parameters.values())],
             [{"id": i, "property": "id", "value": i} for i in ids],
             {"id": "ann-csrf", "property": "data", "value": csrf}, {"id": "an-object", "property": "data", "value": OBJ},
             {"id": "an-version", "property": "data", "value": 0}]
    out = callback(client, [("an-msg", "children"), ("an-version", "data")],
                   [{"id": "an-start", "property": "n_clicks", "value": 1}], state)
    return json.dumps(out.get("an-msg", {}))


def test_start_and_delete_from_the_object_card(portal):
    app, store = portal
    admin = app.test_client()
    register(admin, sign_in(admin, "root", "root password")["ann-csrf"]["data"], svc_name="private",
             svc_url=ALLOWED + "p", svc_parameters='{"model": ["linear", "quadratic"]}', svc_users="root")
    register(admin, sign_in(admin, "root", "root password")["ann-csrf"]["data"], svc_name="open",
             svc_url=ALLOWED + "o", svc_parameters='{"model": ["linear", "quadratic"]}')
    client = app.test_client()
    assert "Sign in to start" in run(client, "", "open", model="linear")
    csrf = sign_in(client, "ada", "analytical engine")["ann-csrf"]["data"]
    controls = call(client, {"id": "an-controls", "property": "children"},
                    [{"id": "ann-csrf", "property": "data", "value": csrf}])
    offered = json.dumps(controls)
    assert '"value": "open"' in offered and '"value": "private"' not in offered  # only what ada may use
    assert '"quadratic"' in offered                                                # its parameter's choices
    assert "Sign in to start" in run(client, "forged", "open", model="linear")
    assert "may not use" in run(client, csrf, "private")
    assert "not allowed" in run(client, csrf, "open", model="cubic")
    assert "queued" in run(client, csrf, "open", model="quadratic")
    mine = [a for a in A.for_object(store, OBJ) if a["user"] == "ada"]
    assert [(a["service"], a["parameters"], a["state"]) for a in mine] == [("open", {"model": "quadratic"}, "queued")]

    listed = callback(client, [("an-list", "children"), ("an-poll", "disabled")],
                      [{"id": "an-version", "property": "data", "value": 1},
                       {"id": "an-poll", "property": "n_intervals", "value": 0},
                       {"id": "ann-csrf", "property": "data", "value": csrf}],
                      [{"id": "an-object", "property": "data", "value": OBJ}])
    assert listed["an-poll"]["disabled"] is False  # polled while it is queued
    assert '"an-del"' in json.dumps(listed["an-list"])

    def delete(who, token):
        return json.dumps(click(who, [("an-msg", "children"), ("an-version", "data")],
                                {"type": "an-del", "id": mine[0]["id"]},
                                [{"id": "ann-csrf", "property": "data", "value": token},
                                 {"id": "an-version", "property": "data", "value": 1}]))
    other = app.test_client()
    auth.add_user(store, "bob", password="bob password")
    assert "may not delete" in delete(other, sign_in(other, "bob", "bob password")["ann-csrf"]["data"])
    assert "deleted" in delete(client, csrf)
    assert not [a for a in A.for_object(store, OBJ) if a["user"] == "ada"]
    listed = callback(client, [("an-list", "children"), ("an-poll", "disabled")],
                      [{"id": "an-version", "property": "data", "value": 2},
                       {"id": "an-poll", "property": "n_intervals", "value": 1},
                       {"id": "ann-csrf", "property": "data", "value": csrf}],
                      [{"id": "an-object", "property": "data", "value": OBJ}])
    assert listed["an-poll"]["disabled"] is True  # nothing pending: the poll stops


def test_a_rubin_analysis_that_cannot_be_read_fails_alone(portal):
    """A queued analysis of a diaObjectId on a server whose Rubin tables are gone: it fails with
    a message, and the dispatcher's tick goes on (no exception)."""
    import time

    from api.analysis_dispatcher import Dispatcher
    app, store = portal
    admin = app.test_client()
    register(admin, sign_in(admin, "root", "root password")["ann-csrf"]["data"], svc_name="anyone",
             svc_url=ALLOWED + "r")
    table, queue = auth.writable(store, "analyses"), auth.writable(store, "analysis_queue")
    key = table.keys.build("170000000000000999", 2460300.5, "rb1")
    table.put(key, {"x:objectId": "170000000000000999", "x:service": "anyone", "x:user": "ada", "x:state": "queued",
                    "x:created": auth.now_iso(), "x:deadline": time.time() + 600})
    queue.put(queue.keys.build("rb1"), {"q:analysis": key})
    dispatcher = Dispatcher(app.config["NOCTURNE"])
    try:
        dispatcher.tick(store)
    finally:
        dispatcher.pool.shutdown()
    done = A.get(store, key)
    assert done["state"] == "failed" and "could not be read" in done["message"], done
    assert key not in [k for k, _ in A.pending(store)]
