"""The web side writes annotations, users and tokens only: the alert tables stay the ingest's.
Writes are held to a per-user rate and the body limit, and a store made before the
annotation tables existed keeps working (they are created on first use)."""
from __future__ import annotations

import dataclasses

import pytest

from api import auth, create_api_app
from conftest import BACKENDS, backend_config, dump, make_config
from hbase_schema import get_schema
from store import open_store

OBJ = "ZTF23abjexnw"
ALERT_TABLES = [t for t in get_schema().tables if t not in auth.USER_TABLES]


def seeded(cfg, schema=None):
    store = open_store(cfg, create=True, schema=schema)
    main = store.table("main")
    main.put(main.keys.build(OBJ, 2460236.5, 1), {"i:objectId": OBJ, "i:jd": 2460236.5, "i:candid": 1})
    return store


@pytest.mark.parametrize("backend", BACKENDS)
def test_annotating_leaves_every_alert_table_as_it_was(backend, tmp_path):
    with backend_config(backend, tmp_path) as cfg:
        store = seeded(cfg)
        auth.add_user(store, "alice", roles=["admin"])
        token, _ = auth.issue_token(store, "alice", ["annotate", "admin"])
        before = dump(store, ALERT_TABLES)
        client = create_api_app(cfg.replace(api_rate_limit=0)).test_client()
        headers = {"Authorization": f"token {token}"}
        made = client.post("/api/v1/annotations", headers=headers,
                           json={"objectId": OBJ, "text": "x", "tags": ["a"], "internal_name": "N1"}).get_json()
        client.post("/api/v1/metadata", headers=headers, json={"objectId": OBJ, "internal_name": "N2"})
        client.delete("/api/v1/annotations", headers=headers, query_string={"id": made["id"]})
        assert dump(store, ALERT_TABLES) == before
        store.close()


@pytest.mark.parametrize("table", ALERT_TABLES)
def test_alert_tables_are_not_writable_from_the_web_side(table, tmp_path):
    with open_store(make_config("embedded", tmp_path), create=True) as store:
        with pytest.raises(PermissionError, match="ingest"):
            auth.writable(store, table)


def test_writes_are_rate_limited_per_user(tmp_path):
    cfg = make_config("embedded", tmp_path).replace(api_rate_limit=0, writes_per_minute=3)
    store = seeded(cfg)
    auth.add_user(store, "alice")
    token, _ = auth.issue_token(store, "alice", ["annotate"])
    app = create_api_app(cfg)
    client = app.test_client()
    codes = [client.post("/api/v1/annotations", headers={"Authorization": f"token {token}"},
                         json={"objectId": OBJ, "text": f"n{i}"}).status_code for i in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    assert client.get("/api/v1/annotations", query_string={"objectId": OBJ}).status_code == 200  # reads go on
    store.close()


def test_an_oversized_body_is_refused(tmp_path):
    cfg = make_config("embedded", tmp_path)
    with seeded(cfg) as store:
        auth.add_user(store, "alice")
        token, _ = auth.issue_token(store, "alice", ["annotate"])
    app = create_api_app(cfg)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    r = app.test_client().post("/api/v1/annotations", json={"objectId": OBJ, "text": "x" * 10_000},
                               headers={"Authorization": f"token {token}"})
    assert r.status_code == 413 and r.get_json()["status"] == "error"


def test_a_store_older_than_the_annotation_tables_keeps_working(tmp_path):
    schema = get_schema()
    old = dataclasses.replace(schema, tables={k: v for k, v in schema.tables.items() if k not in auth.USER_TABLES})
    cfg = make_config("embedded", tmp_path)
    seeded(cfg, schema=old).close()
    client = create_api_app(cfg).test_client()
    assert client.get("/api/v1/annotations", query_string={"objectId": OBJ}).get_json() == []
    assert client.get("/api/v1/metadata", query_string={"internal_name": "x"}).get_json() == []
    assert client.get("/api/v1/annotations", query_string={"tag": "x"}).get_json() == []
    with open_store(cfg) as store:
        auth.add_user(store, "alice")  # creates the missing tables, touching no other
        token, _ = auth.issue_token(store, "alice", ["annotate"])
        assert set(auth.USER_TABLES) <= set(store.existing_tables())
    r = client.post("/api/v1/annotations", headers={"Authorization": f"token {token}"},
                    json={"objectId": OBJ, "text": "first"})
    assert r.status_code == 201
