"""Security basics: headers, CORS as configured, no path traversal, no secrets committed."""
import re
import subprocess

import pytest

from api import create_api_app
from conftest import ROOT, make_config
from store import open_store


@pytest.fixture
def client(tmp_path):
    cfg = make_config("embedded", tmp_path)
    open_store(cfg, create=True).close()
    return create_api_app(cfg).test_client()


def test_security_headers_on_every_response(client):
    for path in ["/api/v1/classes", "/api/v1/objects", "/api", "/api/v1/nowhere"]:
        r = client.get(path)
        assert r.headers["X-Content-Type-Options"] == "nosniff", path
        assert r.headers["X-Frame-Options"] == "SAMEORIGIN", path
        assert "Referrer-Policy" in r.headers, path


def test_cors_follows_configuration(tmp_path):
    cfg = make_config("embedded", tmp_path).replace(cors_origins="https://a.example")
    open_store(cfg, create=True).close()
    client = create_api_app(cfg).test_client()
    allowed = client.get("/api/v1/classes", headers={"Origin": "https://a.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://a.example"
    other = client.get("/api/v1/classes", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("path", ["/api/../config.yml", "/api/v1/../../settings.py", "/assets/../config.yml",
                                  "/api/v1/cutouts?objectId=../../config.yml",
                                  "/api/v1/objects?objectId=..%2F..%2Fetc%2Fpasswd",
                                  "/api/v1/cutouts?objectId=%2Fetc%2Fpasswd&output-format=FITS"])
def test_no_path_traversal(client, path):
    r = client.get(path)
    # an unknown objectId is an empty answer, as in Fink (200 []); nothing else is served
    assert r.status_code in (400, 404) or (r.status_code == 200 and r.get_json() == [])
    assert b"root:" not in r.data and b"backend:" not in r.data and b"import " not in r.data


SECRET_PATTERNS = [
    re.compile(rb"-----BEGIN (RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    re.compile(rb"AKIA[0-9A-Z]{16}"),
    re.compile(rb"(?i)(password|passwd|secret|api[_-]?key|token)\s*[:=]\s*['\"][^'\"\s]{8,}['\"]"),
    re.compile(rb"ghp_[A-Za-z0-9]{36}"),
]


def test_no_secrets_in_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    hits = []
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        hits += [f"{name}: {p.pattern[:30]!r}" for p in SECRET_PATTERNS if p.search(data)]
    assert hits == []
