"""The web server starts on a store and reports its state."""
from conftest import make_config
from index import create_app
from store import open_store


def test_home_page_and_health_on_an_empty_store(tmp_path):
    cfg = make_config("embedded", tmp_path)
    with open_store(cfg, create=True) as s:
        s.table("statistics").put(s.table("statistics").keys.build("ztf", "20231018"), {"basic:raw": 5, "basic:sci": 4})
    client = create_app(cfg).test_client()
    page = client.get("/")
    assert page.status_code == 200
    assert b"1 night(s) ingested, 4 alerts" in page.data and b"20231018" in page.data
    health = client.get("/api/v1/health").get_json()
    assert health["status"] == "ok" and "main" in health["tables"]


def test_health_says_503_when_the_store_is_missing(tmp_path):
    client = create_app(make_config("embedded", tmp_path / "absent")).test_client()
    r = client.get("/api/v1/health")
    assert r.status_code == 503
    assert r.get_json()["status"] == "error" and "absent" in r.get_json()["message"]
    assert client.get("/").status_code == 200
