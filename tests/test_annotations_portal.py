"""The annotations panel in-process: sign-in sets a session, a write needs the session's CSRF
token, the page shows text as text, and the search bar finds objects by tag and by name."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from api import auth  # noqa: E402
from api.annotations import annotate, for_object  # noqa: E402
from apps import search as S  # noqa: E402
from index import create_app  # noqa: E402
from portal_helpers import OBJECT, ingest_real, layout_nodes, render_page  # noqa: E402
from store import open_store  # noqa: E402

INJECTION = "<b>bold?</b><script>alert(1)</script>"


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    cfg = ingest_real(tmp_path_factory.mktemp("portal-ann"))
    store = open_store(cfg)
    auth.add_user(store, "ada", password="analytical engine")
    yield create_app(cfg), store
    store.close()


def callback(client, outputs: list[tuple[str, str]], inputs: list[dict], state: list[dict]) -> dict:
    """One multi-output Dash callback as the browser sends it; its outputs as {id: {prop: value}}."""
    body = {"output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outputs], "inputs": inputs, "state": state,
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code in (200, 204), r.data[:500]
    return r.get_json()["response"] if r.status_code == 200 else {}


def sign_in(client, user="", password="", token=""):
    outputs = [("ann-signin-box", "style"), ("ann-add-box", "style"), ("ann-who", "children"), ("ann-csrf", "data"),
               ("ann-signin-msg", "children"), ("ann-password", "value"), ("ann-token", "value")]
    return callback(client, outputs, [{"id": "ann-signin", "property": "n_clicks", "value": 1},
                                      {"id": "ann-signout", "property": "n_clicks", "value": 0}],
                    [{"id": "ann-user", "property": "value", "value": user},
                     {"id": "ann-password", "property": "value", "value": password},
                     {"id": "ann-token", "property": "value", "value": token}])


def add(client, text, csrf, tags="", name=""):
    outputs = [("ann-add-msg", "children"), ("ann-version", "data"), ("ann-text", "value")]
    values = {"ann-text": text, "ann-tags": tags, "ann-name": name, "ann-csrf": csrf, "ann-object": OBJECT,
              "ann-version": 0}
    return callback(client, outputs, [{"id": "ann-add", "property": "n_clicks", "value": 1}],
                    [{"id": k, "property": "data" if k in ("ann-csrf", "ann-object", "ann-version") else "value",
                      "value": v} for k, v in values.items()])


def test_a_wrong_password_signs_nobody_in(portal):
    client = portal[0].test_client()
    out = sign_in(client, "ada", "not the password")
    assert "Wrong" in json.dumps(out["ann-signin-msg"])
    assert not client.get_cookie("nocturne_session")


def test_writes_need_the_sessions_csrf_token(portal):
    app, store = portal
    client = app.test_client()
    assert "session has ended" in json.dumps(add(client, "anonymous", "")["ann-add-msg"])

    out = sign_in(client, "ada", "analytical engine")
    csrf = out["ann-csrf"]["data"]
    assert csrf and out["ann-who"]["children"] == "Signed in as ada"
    cookie = client.get_cookie("nocturne_session")
    assert cookie and cookie.http_only and cookie.same_site == "Lax"

    refused = add(client, "forged", "not-the-token")
    assert "session has ended" in json.dumps(refused["ann-add-msg"])
    assert add(client, "from the portal", csrf, tags="portal-tag")["ann-add-msg"]["children"] == "Annotation added."
    mine = [a for a in for_object(store, OBJECT) if a["text"] == "from the portal"]
    assert mine and mine[0]["author"] == "ada" and mine[0]["tags"] == ["portal-tag"]
    assert "forged" not in [a["text"] for a in for_object(store, OBJECT)]


def test_the_object_page_shows_annotations_as_text(portal):
    app, store = portal
    annotate(store, "ada", OBJECT, INJECTION, ["shown"])
    page = json.loads(render_page(app.test_client(), f"/{OBJECT}"))
    found = [n for n in layout_nodes(page) if n.get("type") == "P" and n["props"].get("children") == INJECTION]
    assert found and "dangerously_allow_html" not in json.dumps(page)


def test_search_by_tag_and_by_internal_name(portal, monkeypatch):
    from api.queries import resolver

    _, store = portal
    annotate(store, "ada", OBJECT, "", ["searchable"], "Ada 1")
    by_tag = S.run(store, S.parse("tag: Searchable"))
    assert set(by_tag["i:objectId"]) == {OBJECT}
    assert set(S.run(store, S.parse("name: ada 1"))["i:objectId"]) == {OBJECT}
    monkeypatch.setattr(resolver, "_sesame", lambda name: (_ for _ in ()).throw(OSError("no network")))
    with pytest.raises(S.SearchError, match="'nobody' is not a name this server holds"):
        S.run(store, S.parse("name: nobody"))  # a name no one gave, and no online resolver: said so
    found = S.find(store, S.parse("tag: searchable"))  # the API request that answers the tag's rows
    assert S.api_call(found.search) == ("objects", {"objectId": OBJECT})
    with pytest.raises(S.SearchError):
        S.parse("tag: <b>")
