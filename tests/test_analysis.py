"""External analysis services, end to end with the example service over real HTTP: register,
start, the dispatcher sends, the service calls back, the results are listed; upload-only;
timeouts that hold no worker; and the refusals (unknown, replayed and late callback tokens,
oversize bodies, a URL outside the allowlist, pickles)."""
from __future__ import annotations

import base64
import os
import pickle
import secrets
import socket
import threading
import time

import pytest
from werkzeug.serving import make_server

from api import analyses as A
from api import auth, create_api_app
from api.analysis_dispatcher import stop_all
from services.example_fitter import serve
from store import open_store

OBJ = "ZTF23abjexnw"
SECRET = secrets.token_urlsafe(16)  # a fresh header token each run (no literal secret in the repository)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def env(module_config):
    store = open_store(module_config, create=True)
    main = store.table("main")
    for i, (jd, fid, mag) in enumerate([(2460230.5, 1, 19.0), (2460232.5, 1, 18.6), (2460234.5, 1, 18.2),
                                         (2460231.5, 2, 18.9), (2460233.5, 2, 18.7), (2460235.5, 2, 18.5)]):
        main.put(main.keys.build(OBJ, jd, i + 1), {"i:objectId": OBJ, "i:jd": jd, "i:candid": i + 1, "i:fid": fid,
                                                   "i:magpsf": mag, "i:sigmapsf": 0.05, "i:ra": 10.0, "i:dec": 20.0})
    auth.add_user(store, "root", roles=["admin"])
    auth.add_user(store, "alice")
    auth.add_user(store, "bob")
    tokens = {"root": auth.issue_token(store, "root", ["admin"])[0],
              "alice": auth.issue_token(store, "alice", ["analysis"])[0],
              "bob": auth.issue_token(store, "bob", ["annotate"])[0]}
    service = serve(0, token=SECRET)
    port = free_port()
    cfg = module_config.replace(api_rate_limit=0, analysis_per_minute=0, api_url=f"http://127.0.0.1:{port}",
                                analysis_allowlist=f"http://127.0.0.1:{service.server_port}/",
                                analysis_max_result_bytes=64 * 1024)
    app = create_api_app(cfg)
    http = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield app.test_client(), store, tokens, service, cfg
    stop_all()
    http.shutdown()
    service.shutdown()
    store.close()


def as_(token):
    return {"Authorization": f"token {token}"}


def register(client, tokens, service, name, path="/analyse", **extra):
    body = {"name": name, "url": f"http://127.0.0.1:{service.server_port}{path}", "description": "line fit",
            "version": "1.0", "contact": "ops@example.org", "auth": "header", "secret": SECRET,
            "data_types": ["detections", "upper_limits"], "parameters": {"model": ["linear", "quadratic"]},
            "timeout": 20, **extra}
    return client.post("/api/v1/analysis/services", json=body, headers=as_(tokens["root"]))


def wait_for(client, key, states=A.ENDED, within=15.0, **which):
    end = time.time() + within
    while time.time() < end:
        found = [a for a in client.get("/api/v1/analysis", query_string={**(which or {"objectId": OBJ}),
                                                                         "includeAnalysisData": "true"}).get_json()
                 if a["id"] == key]
        if found and found[0]["state"] in states:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"analysis {key} did not reach {states}: {found}")


def start(client, token, service="fitter", **parameters):
    return client.post("/api/v1/analysis", json={"objectId": OBJ, "service": service, "parameters": parameters},
                       headers=as_(token))


def test_round_trip_with_the_example_service(env):
    client, store, tokens, service, _ = env
    r = register(client, tokens, service, "fitter")
    assert r.status_code == 201, r.get_json()
    listed = client.get("/api/v1/analysis/services").get_json()
    assert [s["name"] for s in listed] == ["fitter"]
    assert SECRET not in str(listed) and SECRET not in str(store.table("analysis_services").row("fitter"))

    r = start(client, tokens["alice"], model="quadratic")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["state"] == "queued"
    done = wait_for(client, r.get_json()["id"])
    assert done["state"] == "completed", done
    assert done["user"] == "alice" and done["parameters"] == {"model": "quadratic"}
    bands = done["results"]["bands"]
    assert set(bands) == {"g", "r"} and bands["g"]["n"] == 3
    # g brightens by 0.2 mag per day exactly: the quadratic fit finds it
    assert bands["g"]["coefficients"][1] == pytest.approx(-0.2, abs=1e-6)
    assert base64.b64decode(done["plots"][0]["data"]).startswith(b"<svg")
    sent = service.received[-1]
    assert sent["objectId"] == OBJ and len(sent["data"]["photometry"]["detections"]) == 6
    assert "upper_limits" in sent["data"]["photometry"]

    plain = client.get("/api/v1/analysis", query_string={"objectId": OBJ}).get_json()
    assert "results" not in plain[0]

    # the token was used once: a replay is refused, the results stay
    url = sent["callback_url"]
    replay = client.post(url[url.index("/api/"):], json={"results": {"forged": True}})
    assert replay.status_code == 410, replay.get_json()
    assert wait_for(client, done["id"])["results"]["bands"] == bands


def test_upload_only_completes_without_a_callback(env):
    client, _, tokens, service, _ = env
    assert register(client, tokens, service, "archive", "/silent", upload_only=True).status_code == 201
    r = start(client, tokens["alice"], "archive")
    done = wait_for(client, r.get_json()["id"])
    assert done["state"] == "completed" and "uploaded" in done["message"]
    assert service.received[-1]["callback_url"] is None


def test_a_service_that_never_calls_back_times_out_and_its_token_is_refused(env):
    client, _, tokens, service, _ = env
    assert register(client, tokens, service, "silent", "/silent", timeout=1).status_code == 201
    r = start(client, tokens["alice"], "silent")
    done = wait_for(client, r.get_json()["id"])
    assert done["state"] == "timed_out"
    late = service.received[-1]["callback_url"]
    answer = client.post(late[late.index("/api/"):], json={"results": {"late": True}})
    assert answer.status_code == 410 and "expired" in answer.get_json()["message"]


def test_a_service_that_never_answers_holds_no_worker(env):
    client, _, tokens, service, _ = env
    assert register(client, tokens, service, "hang", "/hang", timeout=2).status_code == 201
    t0 = time.monotonic()
    r = start(client, tokens["alice"], "hang")
    assert r.status_code == 201 and time.monotonic() - t0 < 2  # the request returned before any send
    assert client.get("/api/v1/analysis/services").status_code == 200  # the server answers meanwhile
    assert wait_for(client, r.get_json()["id"])["state"] == "timed_out"


def test_unknown_and_forged_tokens_are_refused(env):
    client = env[0]
    r = client.post("/api/v1/webhook/analysis/" + "x" * 43, json={"results": {}})
    assert r.status_code == 404 and r.get_json()["message"] == "unknown callback token"
    assert client.post("/api/v1/webhook/analysis/short", json={}).status_code == 404


def test_an_oversize_body_is_refused(env):
    client, _, tokens, service, _ = env
    r = client.post("/api/v1/webhook/analysis/" + "y" * 43, json={"results": {"big": "z" * 100_000}})
    assert r.status_code == 413, r.get_json()


def test_a_url_outside_the_allowlist_is_refused(env):
    client, store, tokens, service, _ = env
    for url in ("http://169.254.169.254/latest/meta-data", f"http://127.0.0.1:{service.server_port + 1}/x",
                f"http://user@127.0.0.1:{service.server_port}/analyse", "file:///etc/passwd"):
        r = client.post("/api/v1/analysis/services", json={"name": "evil", "url": url}, headers=as_(tokens["root"]))
        assert r.status_code == 400 and "allowlist" in r.get_json()["message"], url
    assert client.post("/api/v1/analysis/services", json={"name": "evil", "url": f"http://127.0.0.1:"
                       f"{service.server_port}/analyse"}, headers=as_(tokens["alice"])).status_code == 403


class Boom:
    def __reduce__(self):
        return (os.system, (f"touch {BOOM_FILE}",))


BOOM_FILE = f"/tmp/nocturne-analysis-unpickled-{os.getpid()}"


def test_a_pickled_payload_is_refused_and_never_unpickled(env):
    client, _, tokens, service, _ = env
    evil = pickle.dumps(Boom(), protocol=4)
    r = client.post("/api/v1/webhook/analysis/" + "p" * 43, data=evil,
                    headers={"Content-Type": "application/python-pickle"})
    assert r.status_code == 415 and "pickle" in r.get_json()["message"]
    with pytest.raises(Exception) as refused:
        A.parse_callback({"plots": [{"format": "png", "data": base64.b64encode(evil).decode()}]})
    assert refused.value.status == 415
    with pytest.raises(Exception) as refused:
        A.parse_callback({"inference_data": {"format": "netcdf", "data": base64.b64encode(evil).decode()}})
    assert refused.value.status == 415
    assert not os.path.exists(BOOM_FILE)


def test_results_are_checked_by_their_signature():
    good = A.parse_callback({"results": {"a": 1}, "inference_data": {"data": base64.b64encode(b"CDF\x01rest").decode()},
                             "plots": [{"format": "png", "data": base64.b64encode(A.PNG + b"x").decode()}]})
    assert good[0] == "completed" and good[2]["r:inference"].startswith(b"CDF")
    for bad in ({"plots": [{"format": "png", "data": base64.b64encode(b"<svg/>").decode()}]},
                {"inference_data": {"data": base64.b64encode(b"not netcdf").decode()}},
                {"results": [1, 2]}, {"plots": [{"format": "gif", "data": ""}]}):
        with pytest.raises(Exception) as refused:
            A.parse_callback(bad)
        assert refused.value.status == 400, bad


def test_who_may_use_and_delete(env):
    client, store, tokens, service, _ = env
    assert register(client, tokens, service, "private", users=["alice"]).status_code == 201
    assert start(client, tokens["bob"], "private").status_code == 403
    assert start(client, tokens["alice"], "private", model="cubic").status_code == 400
    r = start(client, tokens["alice"], "private")
    key = r.get_json()["id"]
    wait_for(client, key)
    deleted = client.delete("/api/v1/analysis", query_string={"id": key}, headers=as_(tokens["bob"]))
    assert deleted.status_code == 403
    assert client.delete("/api/v1/analysis", query_string={"id": key}, headers=as_(tokens["alice"])).status_code == 200
    assert key not in [a["id"] for a in client.get("/api/v1/analysis", query_string={"objectId": OBJ}).get_json()]


def test_completed_analyses_are_capped_per_object_and_user(env):
    _, store, _, _, _ = env
    table = auth.writable(store, "analyses")
    for i in range(4):
        table.put(table.keys.build("ZTF20aaaaaaa", 2460000.5 + i, f"c{i}"),
                  {"x:objectId": "ZTF20aaaaaaa", "x:user": "carol", "x:state": "completed", "x:service": "s"})
    table.put(table.keys.build("ZTF20aaaaaaa", 2460009.5, "d"),
              {"x:objectId": "ZTF20aaaaaaa", "x:user": "dave", "x:state": "completed", "x:service": "s"})
    assert A.cap(store, "ZTF20aaaaaaa", "carol", 2) == 2
    left = [(a["user"], a["id"][-2:]) for a in A.for_object(store, "ZTF20aaaaaaa")]
    assert left == [("dave", "_d"), ("carol", "c3"), ("carol", "c2")]


def test_the_object_page_shows_the_results(env):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).parent / "browser"))
    from portal_helpers import render_page

    from index import create_app
    client, _, tokens, service, cfg = env
    if not any(s["name"] == "fitter" for s in client.get("/api/v1/analysis/services").get_json()):
        register(client, tokens, service, "fitter")
    key = start(client, tokens["alice"], model="linear").get_json()["id"]
    done = wait_for(client, key)
    page = render_page(create_app(cfg).test_client(), f"/{OBJ}")
    assert '"id": "analyses"' in page and "fitter" in page and "completed" in page
    assert "data:image/svg+xml;base64," + done["plots"][0]["data"] in page
    assert "model=linear" in page


def test_two_deliveries_of_one_token_at_once_are_accepted_once(env, monkeypatch):
    """Both deliveries pass the first checks together (held at a barrier while their bodies
    are read), then race to use the token: exactly one is accepted, the other told 410."""
    import concurrent.futures as cf
    import urllib.error
    import urllib.request

    _, store, _, _, cfg = env
    table = auth.writable(store, "analyses")
    key = table.keys.build(OBJ, 2460300.5, "race01")
    table.put(key, {"x:objectId": OBJ, "x:service": "fitter", "x:user": "alice", "x:state": "sent",
                    "x:created": auth.now_iso(), "x:deadline": time.time() + 600})
    token = A.issue_callback(store, key, time.time() + 600)
    together = threading.Barrier(2, timeout=10)
    parse = A.parse_callback

    def parse_together(body):
        together.wait()
        return parse(body)

    monkeypatch.setattr(A, "parse_callback", parse_together)

    def deliver(n):
        request = urllib.request.Request(cfg.api_url + A.WEBHOOK_PATH + token, method="POST",
                                         data=f'{{"results": {{"delivery": {n}}}}}'.encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=20) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with cf.ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(deliver, (1, 2)))
    assert codes == [200, 410], codes
    done = A.get(store, key, with_data=True)
    assert done["state"] == "completed" and done["results"]["delivery"] in (1, 2)


DIA = 170000000000000123


def test_a_rubin_object_is_analysed_with_its_sources_and_forced_photometry(env):
    """POST with diaObjectId: the service gets the object's diaSources and forced sources from
    the Rubin tables (every row, oldest first, fluxes in nJy), and its results are listed by diaObjectId."""
    from hbase_schema import get_schema
    client, _, tokens, service, cfg = env
    with open_store(cfg, schema=get_schema("rubin"), create=True) as rubin:
        rubin.table("objects").put(rubin.table("objects").keys.build(DIA), {"r:diaObjectId": DIA, "r:ra": 150.0})
        sources, fp = rubin.table("sources"), rubin.table("fp")
        for i, (mjd, band, flux) in enumerate([(61000.2, "g", 3630.8), (61001.2, "g", 5754.4), (61000.3, "r", 4365.2),
                                               (61002.2, "g", 9120.1), (61001.3, "r", 4365.2)]):
            sources.put(sources.keys.build(DIA, mjd, 500 + i), {"r:diaSourceId": 500 + i, "r:midpointMjdTai": mjd,
                                                                "r:band": band, "r:psfFlux": flux, "r:psfFluxErr": 50.0})
        fp.records.put([{"r:diaObjectId": DIA, "r:diaForcedSourceId": 900 + i, "r:midpointMjdTai": mjd,
                         "r:band": "g", "r:psfFlux": -12.5, "r:psfFluxErr": 40.0} for i, mjd in enumerate([60990.2, 60995.2])])
    if not any(s["name"] == "fitter" for s in client.get("/api/v1/analysis/services").get_json()):
        register(client, tokens, service, "fitter")
    register(client, tokens, service, "rubinfit", data_types=["detections", "forced_photometry"])
    r = client.post("/api/v1/analysis", json={"diaObjectId": str(DIA), "service": "rubinfit"},
                    headers=as_(tokens["alice"]))
    assert r.status_code == 201, r.get_json()
    done = wait_for(client, r.get_json()["id"], diaObjectId=str(DIA))
    assert done["state"] == "completed" and done["objectId"] == str(DIA), done
    sent = next(s for s in reversed(service.received) if s["analysis_id"] == done["id"])
    assert sent["survey"] == "rubin" and sent["diaObjectId"] == DIA
    detections, forced = sent["data"]["photometry"]["detections"], sent["data"]["photometry"]["forced_photometry"]
    assert [p["diaSourceId"] for p in detections] == [500, 502, 501, 504, 503]  # oldest first
    assert detections[0]["jd"] == pytest.approx(61000.2 + 2400000.5)
    assert [(p["diaForcedSourceId"], p["psfFlux"]) for p in forced] == [(900, -12.5), (901, -12.5)]
    # the fitter made magnitudes of the fluxes: g brightens by 0.5 mag per day from 22.5
    g = done["results"]["bands"]["g"]
    assert g["n"] == 3 and g["coefficients"][0] == pytest.approx(22.5, abs=1e-3)
    assert g["coefficients"][1] == pytest.approx(-0.5, abs=1e-3)
    assert client.get("/api/v1/analysis", query_string={"objectId": OBJ}).get_json() != \
        client.get("/api/v1/analysis", query_string={"diaObjectId": str(DIA)}).get_json()


@pytest.mark.parametrize("body, status, words", [
    ({"diaObjectId": "123456789"}, 404, "no alert for diaObjectId"),
    ({"diaObjectId": "12ab"}, 400, "diaObjectId"),
    ({"diaObjectId": "99999999999999999999999"}, 400, "diaObjectId"),
    ({"diaObjectId": str(DIA), "objectId": OBJ}, 400, "one of"),
    ({}, 400, "one of"),
])
def test_which_object_refusals(env, body, status, words):
    from hbase_schema import get_schema
    client, _, tokens, service, cfg = env
    open_store(cfg, schema=get_schema("rubin"), create=True).close()
    if not any(s["name"] == "fitter" for s in client.get("/api/v1/analysis/services").get_json()):
        register(client, tokens, service, "fitter")
    r = client.post("/api/v1/analysis", json={"service": "fitter", **body}, headers=as_(tokens["alice"]))
    assert r.status_code == status and words in r.get_json()["message"], r.get_json()
