"""Users and tokens: 401 without a valid token, 403 without the scope, the CLI, nothing stored in clear."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from api import auth, create_api_app
from conftest import ROOT, make_config
from store import open_store

OBJ = "ZTF23abjexnw"


@pytest.fixture
def api(tmp_path):
    cfg = make_config("embedded", tmp_path).replace(api_rate_limit=0)
    store = open_store(cfg, create=True)
    main = store.table("main")
    main.put(main.keys.build(OBJ, 2460236.5, 1), {"i:objectId": OBJ, "i:jd": 2460236.5, "i:candid": 1})
    auth.add_user(store, "alice", password="correct horse")
    auth.add_user(store, "root", roles=["admin"])
    yield create_api_app(cfg).test_client(), store
    store.close()


def write(client, header: str | None):
    return client.post("/api/v1/annotations", json={"objectId": OBJ, "text": "hello"},
                       headers={"Authorization": header} if header is not None else {})


@pytest.mark.parametrize("header", [None, "", "token", "Basic YWxpY2U6cHc=", "token noc_not-a-real-one",
                                    "token " + "x" * 500])
def test_missing_or_invalid_token_is_401(api, header):
    client, _ = api
    r = write(client, header)
    assert r.status_code == 401
    assert r.get_json()["status"] == "error" and r.get_json()["message"]
    assert r.headers["WWW-Authenticate"].startswith("token")


def test_token_without_the_scope_is_403(api):
    client, store = api
    admin_only, _ = auth.issue_token(store, "root", ["admin"])
    r = write(client, f"token {admin_only}")
    assert r.status_code == 403 and "annotate" in r.get_json()["message"]
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]


def test_a_valid_token_writes_and_a_revoked_one_does_not(api):
    client, store = api
    secret, token_id = auth.issue_token(store, "alice", ["annotate"])
    assert write(client, f"token {secret}").status_code == 201
    assert write(client, f"Bearer {secret}").status_code == 201
    assert auth.revoke_token(store, token_id) == 1
    r = write(client, f"token {secret}")
    assert r.status_code == 401 and "revoked" in r.get_json()["message"]


def test_tokens_and_passwords_are_stored_hashed(api):
    _, store = api
    secret, token_id = auth.issue_token(store, "alice", ["annotate"], note="ci")
    dumped = repr(list(store.table("tokens").scan())) + repr(list(store.table("users").scan()))
    assert secret not in dumped and "correct horse" not in dumped
    assert store.table("tokens").row(auth.token_digest(secret))["t:id"] == token_id
    stored = auth.get_user(store, "alice")["u:password"]
    assert stored.startswith("scrypt$") and auth.verify_password("correct horse", stored)
    assert not auth.verify_password("wrong horse", stored)


def test_admin_scope_needs_an_admin_user(api):
    _, store = api
    with pytest.raises(ValueError, match="admin"):
        auth.issue_token(store, "alice", ["admin"])
    with pytest.raises(ValueError, match="scopes"):
        auth.issue_token(store, "alice", ["delete-everything"])
    with pytest.raises(ValueError, match="exists"):
        auth.add_user(store, "alice")
    with pytest.raises(ValueError, match="username"):
        auth.add_user(store, "Alice Smith")


def test_the_spec_documents_the_token(api):
    client, _ = api
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["token"]["name"] == "Authorization"
    post = spec["paths"]["/api/v1/annotations"]["post"]
    assert post["security"] == [{"token": []}] and {"201", "401", "403"} <= set(post["responses"])
    assert "delete" in spec["paths"]["/api/v1/annotations"]
    assert "security" not in spec["paths"]["/api/v1/annotations"]["get"]


def cli(tmp_path, *args, stdin: str = ""):
    env = {**os.environ, "NOCTURNE_DATA_DIR": str(tmp_path / "store"), "NOCTURNE_BACKEND": "embedded"}
    return subprocess.run([sys.executable, "-m", "api.tokens_cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_the_cli_creates_users_and_issues_lists_and_revokes_tokens(tmp_path):
    open_store(make_config("embedded", tmp_path), create=True).close()
    assert cli(tmp_path, "user", "add", "dora", "--password", stdin="a long password\n").returncode == 0
    issued = cli(tmp_path, "token", "issue", "dora", "--scope", "annotate", "--note", "laptop")
    assert issued.returncode == 0
    secret = issued.stdout.split()[0]
    assert secret.startswith(auth.TOKEN_PREFIX)

    listed = cli(tmp_path, "token", "list")
    assert "dora" in listed.stdout and "laptop" in listed.stdout and secret not in listed.stdout
    token_id = listed.stdout.splitlines()[1].split()[0]

    with open_store(make_config("embedded", tmp_path)) as store:
        assert auth.token_identity(store, secret).scopes == {"annotate"}
        assert auth.password_identity(store, "dora", "a long password").user == "dora"
    assert cli(tmp_path, "token", "revoke", token_id).returncode == 0
    with open_store(make_config("embedded", tmp_path)) as store:
        assert auth.token_identity(store, secret) is None
    assert "revoked" in cli(tmp_path, "token", "list", "dora").stdout.splitlines()[0]

    refused = cli(tmp_path, "token", "issue", "dora", "--scope", "admin")
    assert refused.returncode == 2 and "admin" in refused.stderr
    assert cli(tmp_path, "token", "issue", "nobody").returncode == 2
