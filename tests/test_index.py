"""The web server mounts the portal at / and the API at /api, on any store state."""
from conftest import make_config
from index import create_app
from store import open_store


def test_portal_and_api_on_an_empty_store(tmp_path):
    cfg = make_config("embedded", tmp_path)
    open_store(cfg, create=True).close()
    client = create_app(cfg).test_client()
    page = client.get("/")
    assert page.status_code == 200 and b"react-entry-point" in page.data
    health = client.get("/api/v1/health").get_json()
    assert health["status"] == "ok" and "main" in health["tables"]
    assert client.get("/api/v1/nothing").get_json()["status"] == "error"


def test_health_says_503_when_the_store_is_missing(tmp_path):
    client = create_app(make_config("embedded", tmp_path / "absent")).test_client()
    r = client.get("/api/v1/health")
    assert r.status_code == 503
    assert r.get_json()["status"] == "error" and "absent" in r.get_json()["message"]
    assert client.get("/").status_code == 200
