"""Portal sessions are bound to a row in the store: sign-out and a password change end them
(a saved copy of the cookie then writes nothing), the cookie lasts 7 days, and the store
ends a session after 7 days whatever the cookie says."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from api import auth
from api.annotations import for_object
from conftest import BACKENDS, backend_config
from index import create_app
from store import open_store

OBJECT = "ZTF23abjexnw"
SIGN_OUTPUTS = [("ann-signin-box", "style"), ("ann-add-box", "style"), ("ann-who", "children"), ("ann-csrf", "data"),
                ("ann-signin-msg", "children"), ("ann-password", "value"), ("ann-token", "value")]


@pytest.fixture(params=BACKENDS)
def portal(request, tmp_path):
    with backend_config(request.param, tmp_path) as cfg:
        store = open_store(cfg, create=True)
        main = store.table("main")
        main.put(main.keys.build(OBJECT, 2460236.5, 1), {"i:objectId": OBJECT, "i:jd": 2460236.5, "i:candid": 1})
        auth.add_user(store, "ada", password="analytical engine")
        yield create_app(cfg), store
        store.close()


def callback(client, outputs, inputs, state, changed) -> dict:
    body = {"output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outputs], "inputs": inputs, "state": state,
            "changedPropIds": [changed]}
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.data[:500]
    return r.get_json()["response"]


def sign(client, button: str, user="", password="", token="") -> dict:
    return callback(client, SIGN_OUTPUTS, [{"id": "ann-signin", "property": "n_clicks", "value": 1},
                                           {"id": "ann-signout", "property": "n_clicks", "value": 1}],
                    [{"id": "ann-user", "property": "value", "value": user},
                     {"id": "ann-password", "property": "value", "value": password},
                     {"id": "ann-token", "property": "value", "value": token}], f"{button}.n_clicks")


def add(client, text: str, csrf: str) -> str:
    out = callback(client, [("ann-add-msg", "children"), ("ann-version", "data"), ("ann-text", "value")],
                   [{"id": "ann-add", "property": "n_clicks", "value": 1}],
                   [{"id": "ann-text", "property": "value", "value": text},
                    {"id": "ann-tags", "property": "value", "value": ""},
                    {"id": "ann-name", "property": "value", "value": ""},
                    {"id": "ann-csrf", "property": "data", "value": csrf},
                    {"id": "ann-object", "property": "data", "value": OBJECT},
                    {"id": "ann-version", "property": "data", "value": 0}], "ann-add.n_clicks")
    return json.dumps(out["ann-add-msg"])


def signed_in(app, **credentials) -> tuple:
    client = app.test_client()
    csrf = sign(client, "ann-signin", **credentials)["ann-csrf"]["data"]
    assert csrf
    return client, csrf


def texts(store) -> list[str]:
    return [a["text"] for a in for_object(store, OBJECT)]


def test_a_cookie_saved_before_sign_out_writes_nothing_after_it(portal):
    app, store = portal
    client, csrf = signed_in(app, user="ada", password="analytical engine")
    saved = client.get_cookie("nocturne_session").value
    assert "Annotation added." in add(client, "before sign-out", csrf)
    assert sign(client, "ann-signout")["ann-signin-msg"]["children"] == "Signed out."
    thief = app.test_client()
    thief.set_cookie("nocturne_session", saved)
    assert "session has ended" in add(thief, "after sign-out", csrf)
    assert texts(store) == ["before sign-out"]


def test_a_password_change_ends_the_users_sessions(portal):
    app, store = portal
    first, csrf1 = signed_in(app, user="ada", password="analytical engine")
    second, csrf2 = signed_in(app, user="ada", password="analytical engine")
    assert auth.set_password(store, "ada", "difference engine") == 2
    assert "session has ended" in add(first, "old password 1", csrf1)
    assert "session has ended" in add(second, "old password 2", csrf2)
    assert texts(store) == []
    again, csrf = signed_in(app, user="ada", password="difference engine")
    assert "Annotation added." in add(again, "new password", csrf)


def test_a_token_session_ends_with_sign_out_too(portal):
    app, store = portal
    token, _ = auth.issue_token(store, "ada", ["annotate"])
    client, csrf = signed_in(app, token=token)
    saved = client.get_cookie("nocturne_session").value
    sign(client, "ann-signout")
    thief = app.test_client()
    thief.set_cookie("nocturne_session", saved)
    assert "session has ended" in add(thief, "after sign-out", csrf)


def test_the_cookie_lasts_7_days_and_the_store_ends_the_session_after_7_days(portal):
    app, store = portal
    client, csrf = signed_in(app, user="ada", password="analytical engine")
    cookie = client.get_cookie("nocturne_session")
    lifetime = cookie.expires - dt.datetime.now(dt.timezone.utc)
    assert abs(lifetime - dt.timedelta(days=7)) < dt.timedelta(minutes=5), lifetime
    sessions = store.table("sessions")
    (key, cells), = list(sessions.scan(row_prefix=sessions.keys.prefix("ada")))
    started = dt.datetime.fromisoformat(cells["s:created"])
    assert cells["s:expires"] == pytest.approx((started + dt.timedelta(days=7)).timestamp(), abs=2)
    sessions.put(key, {"s:expires": int(dt.datetime.now(dt.timezone.utc).timestamp()) - 1})  # 7 days later
    assert "session has ended" in add(client, "too late", csrf)
    assert texts(store) == [] and sessions.row(key) == {}
