"""Annotations on both backends: the round trip, who may delete, input that is refused, and
text that looks like HTML staying text."""
from __future__ import annotations

import pytest

from api import auth, create_api_app
from api.annotations import for_object, objects_with_tag
from store import open_store

OBJ, OTHER, GHOST = "ZTF23abjexnw", "ZTF18adljlvp", "ZTF20aaaaaaa"
INJECTION = '<script>alert("x")</script><img src=x onerror="alert(1)"> & "quotes"'


def put_object(store, object_id: str) -> None:
    main = store.table("main")
    main.put(main.keys.build(object_id, 2460236.5, 1), {"i:objectId": object_id, "i:jd": 2460236.5, "i:candid": 1})


@pytest.fixture(scope="module")
def env(module_config):
    """An API on a store with two objects, users alice and carol (annotate) and bob (admin)."""
    store = open_store(module_config, create=True)
    for oid in (OBJ, OTHER):
        put_object(store, oid)
    auth.add_user(store, "alice")
    auth.add_user(store, "carol")
    auth.add_user(store, "bob", roles=["admin"])
    tokens = {"alice": auth.issue_token(store, "alice", ["annotate"])[0],
              "carol": auth.issue_token(store, "carol", ["annotate"])[0],
              "bob": auth.issue_token(store, "bob", ["admin"])[0]}
    client = create_api_app(module_config.replace(api_rate_limit=0)).test_client()
    yield client, store, tokens
    store.close()


def as_(token: str) -> dict:
    return {"Authorization": f"token {token}"}


def post(client, token, **body):
    return client.post("/api/v1/annotations", json=body, headers=as_(token) if token else {})


def test_round_trip(env):
    client, store, tokens = env
    r = post(client, tokens["alice"], objectId=OBJ, text="Rising fast in g.\nWorth a spectrum.",
             tags=["Kilonova", "followup"], internal_name="AT 2023xyz")
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["author"] == "alice" and made["tags"] == ["kilonova", "followup"]
    assert made["id"].startswith(OBJ + "_")

    listed = client.get("/api/v1/annotations", query_string={"objectId": OBJ}).get_json()
    assert [a["id"] for a in listed] == [made["id"]]
    assert listed[0]["text"] == "Rising fast in g.\nWorth a spectrum."
    assert listed[0]["internal_name"] == "AT 2023xyz"

    tagged = client.get("/api/v1/annotations", query_string={"tag": "KILONOVA"}).get_json()
    assert [a["objectId"] for a in tagged] == [OBJ]
    assert objects_with_tag(store, "kilonova") == [OBJ]

    by_name = client.get("/api/v1/metadata", query_string={"internal_name": "at 2023XYZ"}).get_json()
    assert by_name[0]["i:objectId"] == OBJ and by_name[0]["d:username"] == "alice"
    of_object = client.post("/api/v1/metadata", json={"objectId": OBJ}).get_json()
    assert [m["d:internal_name"] for m in of_object] == ["AT 2023xyz"]


def test_fink_metadata_post_gives_a_name(env):
    client, _, tokens = env
    r = client.post("/api/v1/metadata", json={"objectId": OTHER, "internal_name": "my-var-1", "comments": "periodic",
                                             "username": "whoever"}, headers=as_(tokens["carol"]))
    assert r.status_code == 201
    assert r.get_json()[0]["d:username"] == "carol"
    assert client.get("/api/v1/metadata?internal_name=my-var-1").get_json()[0]["i:objectId"] == OTHER
    anonymous = client.post("/api/v1/metadata", json={"objectId": OTHER, "internal_name": "x1"})
    assert anonymous.status_code == 401


def test_fink_compat_metadata_as_fink_test_reads_it(env):
    """Fink's metadata test: a name looked up (quote_plus in the URL) gives i:objectId; the
    object's rows carry d:username and d:internal_name_encoded (the name without spaces); the
    encoded name finds the object too (without regard to case, as our names); 'all' lists
    every named object. Writing still needs a token."""
    from urllib.parse import quote_plus
    client, _, tokens = env
    name = "Fink J061603.51+080222.8"
    r = client.post("/api/v1/metadata", json={"objectId": OTHER, "internal_name": name, "comments": "Candidate to CV",
                                             "username": "carol"}, headers=as_(tokens["carol"]))
    assert r.status_code == 201, r.get_json()
    assert client.post("/api/v1/metadata", json={"objectId": OBJ, "internal_name": "Fink J0"}).status_code == 401
    by_name = client.get(f"/api/v1/metadata?internal_name={quote_plus(name)}").get_json()
    assert [row["i:objectId"] for row in by_name] == [OTHER] and "d:objectId" not in by_name[0]
    rows = client.get(f"/api/v1/metadata?objectId={OTHER}").get_json()
    mine = [row for row in rows if row["d:internal_name"] == name]
    assert mine and mine[0]["d:internal_name_encoded"] == "FinkJ061603.51+080222.8"
    assert mine[0]["d:username"] == "carol" and mine[0]["d:comments"] == "Candidate to CV"
    for encoded in ("FinkJ061603.51+080222.8", "finkj061603.51+080222.8"):
        found = client.get(f"/api/v1/metadata?internal_name_encoded={quote_plus(encoded)}").get_json()
        assert [(row["i:objectId"], row["d:internal_name"]) for row in found] == [(OTHER, name)], encoded
    assert client.get("/api/v1/metadata?internal_name_encoded=NoSuchName").get_json() == []
    every = client.get("/api/v1/metadata?objectId=all").get_json()
    assert (OTHER, name) in {(row["i:objectId"], row["d:internal_name"]) for row in every}
    assert len({row["i:objectId"] for row in every}) >= 1 and all(row["d:internal_name"] for row in every)
    both = client.get("/api/v1/metadata", query_string={"objectId": OTHER, "internal_name_encoded": "x"})
    assert both.status_code == 400


def test_a_name_designates_one_object(env):
    client, _, tokens = env
    post(client, tokens["alice"], objectId=OBJ, text="named", internal_name="SN 2099one")
    r = post(client, tokens["carol"], objectId=OTHER, text="same name", internal_name="sn 2099ONE")
    assert r.status_code == 409 and OBJ in r.get_json()["message"]


def test_a_name_cannot_be_taken_over_by_another_user_in_another_case(env):
    client, _, tokens = env
    assert post(client, tokens["alice"], objectId=OTHER, text="mine", internal_name="Var 2099two").status_code == 201
    for name in ("VAR 2099TWO", "var 2099two", "Var 2099two"):
        r = post(client, tokens["carol"], objectId=OTHER, text="mine now", internal_name=name)
        assert r.status_code == 409, (name, r.get_json())
        assert "already given to" in r.get_json()["message"] and "alice" in r.get_json()["message"]
    fink = client.post("/api/v1/metadata", json={"objectId": OTHER, "internal_name": "var 2099TWO"},
                       headers=as_(tokens["carol"]))
    assert fink.status_code == 409 and fink.get_json()["status"] == "error"
    held = client.get("/api/v1/metadata", query_string={"internal_name": "VAR 2099two"}).get_json()
    assert [(m["d:username"], m["d:internal_name"], m["d:comments"]) for m in held] == [("alice", "Var 2099two", "mine")]
    assert post(client, tokens["alice"], objectId=OTHER, text="again", internal_name="VAR 2099TWO").status_code == 201


def test_html_is_stored_and_returned_as_text(env):
    client, store, tokens = env
    r = post(client, tokens["alice"], objectId=OBJ, text=INJECTION)
    assert r.status_code == 201
    got = client.get("/api/v1/annotations", query_string={"objectId": OBJ})
    assert got.content_type.startswith("application/json")
    assert INJECTION in [a["text"] for a in got.get_json()]

    from apps.components.annotations import listing
    rendered = listing(for_object(store, OBJ), None).to_plotly_json()
    texts = [li.children[1] for li in rendered["props"]["children"]]
    assert any(p.children == INJECTION and type(p).__name__ == "P" for p in texts)  # a text node, not markup


@pytest.mark.parametrize("body, status, words", [
    ({"objectId": OBJ, "text": "x" * 2001}, 400, "longer than"),
    ({"objectId": OBJ, "text": "ok", "tags": ["<b>"]}, 400, "tag"),
    ({"objectId": OBJ, "text": "ok", "tags": [f"t{i}" for i in range(11)]}, 400, "at most 10"),
    ({"objectId": OBJ, "internal_name": "<script>"}, 400, "internal_name"),
    ({"objectId": OBJ, "text": "bell\x07"}, 400, "control"),
    ({"objectId": OBJ}, 400, "needs a text"),
    ({"objectId": "ZTF<svg>", "text": "x"}, 400, "objectId"),
    ({"objectId": GHOST, "text": "x"}, 404, "no alert"),
    ({"text": "x"}, 400, "objectId"),
    ({"objectId": OBJ, "text": "x", "author": "mallory"}, 400, "unknown parameter"),
])
def test_invalid_input_is_refused(env, body, status, words):
    client, _, tokens = env
    r = post(client, tokens["alice"], **body)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["status"] == "error" and words in r.get_json()["message"]


def test_only_the_author_or_an_admin_deletes(env):
    client, store, tokens = env
    first = post(client, tokens["alice"], objectId=OTHER, text="mine", tags=["gone"], internal_name="Temp 1").get_json()
    second = post(client, tokens["alice"], objectId=OTHER, text="mine too").get_json()

    r = client.delete("/api/v1/annotations", query_string={"id": first["id"]}, headers=as_(tokens["carol"]))
    assert r.status_code == 403 and "author" in r.get_json()["message"]
    assert client.delete("/api/v1/annotations", query_string={"id": first["id"]}).status_code == 401

    r = client.delete("/api/v1/annotations", query_string={"id": first["id"]}, headers=as_(tokens["alice"]))
    assert r.status_code == 200
    assert first["id"] not in [a["id"] for a in for_object(store, OTHER)]
    assert client.get("/api/v1/annotations?tag=gone").get_json() == []
    assert client.get("/api/v1/metadata?internal_name=Temp 1").get_json() == []
    again = client.delete("/api/v1/annotations", query_string={"id": first["id"]}, headers=as_(tokens["alice"]))
    assert again.status_code == 404

    r = client.delete("/api/v1/annotations", query_string={"id": second["id"]}, headers=as_(tokens["bob"]))
    assert r.status_code == 200  # an admin deletes anyone's
    assert client.delete("/api/v1/annotations", query_string={"id": "not-a-key"},
                         headers=as_(tokens["bob"])).status_code == 400


def test_reading_needs_no_token(env):
    client, _, _ = env
    assert client.get("/api/v1/annotations", query_string={"objectId": GHOST}).get_json() == []
    assert client.get("/api/v1/annotations").status_code == 400
    assert client.get("/api/v1/metadata", query_string={"objectId": GHOST}).get_json() == []
