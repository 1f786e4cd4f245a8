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
    # an unknown objectId is an empty answer, as in Fink (200 [], or for cutouts an empty
    # PNG/FITS body or {} for an array); nothing else is served
    empty = r.data == b"" or r.get_json(silent=True) in ([], {})
    assert r.status_code in (400, 404) or (r.status_code == 200 and empty)
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


def test_sign_in_costs_the_same_scrypt_whether_the_user_exists_or_not(tmp_path, monkeypatch):
    import hashlib

    from api import auth
    with open_store(make_config("embedded", tmp_path), create=True) as store:
        auth.add_user(store, "ada", password="analytical engine")
        auth.add_user(store, "tokenonly")
        auth.password_identity(store, "warm-up", "a wrong password")  # a dummy hash may be made once per process
        calls = []
        real = hashlib.scrypt
        monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append((k["n"], k["r"], k["p"])) or real(*a, **k))
        for user in ("ada", "nobody", "tokenonly", "Not A Name!"):
            calls.clear()
            assert auth.password_identity(store, user, "a wrong password") is None
            assert calls == [(auth.SCRYPT["n"], auth.SCRYPT["r"], auth.SCRYPT["p"])], user
        assert auth.password_identity(store, "ada", "analytical engine").user == "ada"


def inline_scripts(page: str) -> list[str]:
    """The bodies of the inline scripts a browser runs (not JSON data, not in comments)."""
    page = re.sub(r"<!--.*?-->", "", page, flags=re.S)
    return [body for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
            if "src=" not in attrs and "application/json" not in attrs]


def test_a_content_security_policy_that_allows_exactly_the_portals_scripts(tmp_path):
    import base64
    import hashlib

    from index import create_app
    cfg = make_config("embedded", tmp_path)
    open_store(cfg, create=True).close()
    client = create_app(cfg).test_client()
    for path in ["/", "/statistics", "/ZTF23abjexnw"]:
        r = client.get(path)
        policy = dict(part.strip().split(" ", 1) for part in r.headers["Content-Security-Policy"].split(";"))
        scripts = policy["script-src"].split()
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in scripts
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'self'"
        page = r.data.decode()
        inline = inline_scripts(page)
        assert inline, "Dash's page has its renderer inline"
        for body in inline:
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in scripts, (path, body[:80])
        external = re.findall(r"<script[^>]*src=\"([^\"]+)\"", page)
        assert external and all(src.startswith("/") and not src.startswith("//") for src in external), external
    api = client.get("/api/v1/classes")
    assert "default-src 'self'" in api.headers["Content-Security-Policy"]
