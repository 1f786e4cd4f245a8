"""Fits cannot tie up the server: the science code bounds their work, a fit still running
when the time budget passes is killed, and expensive requests take a compute slot of their
client and of the server (429 / 503 with Retry-After when none is free)."""
from __future__ import annotations

import time

import numpy as np
import pytest

import science.varstar as varstar_science
from api import create_api_app
from api.queries import fits
from api.slots import slots_for
from conftest import make_config
from fitload import put_variable_star
from science.inputs import clean_lightcurve
from science.varstar import check_search, fit_period
from store import open_store

HEAVY = {"period_min": 0.01, "period_max": 1000, "nterms_base": 5, "nterms_band": 0}


@pytest.fixture()
def served(tmp_path):
    """(config, store) with ZTF25short (11 points over 60 d), ZTF25long (300 over 180 d), ZTF25decade (300 over 10 years)."""
    cfg = make_config("embedded", tmp_path)
    store = open_store(cfg, create=True)
    put_variable_star(store, "ZTF25short", 11, 60, seed=1)
    put_variable_star(store, "ZTF25long", 300, 180, seed=2)
    put_variable_star(store, "ZTF25decade", 300, 3650, seed=3)
    yield cfg, store
    store.close()


def _client(cfg, **changes):
    return create_api_app(cfg.replace(api_rate_limit=0, **changes)).test_client()


def _no_search(*args, **kwargs):
    raise AssertionError("the period search ran")


def test_the_issues_heavy_varstar_request_is_refused_at_once(served, monkeypatch):
    cfg, _ = served
    client = _client(cfg)
    # refused before any search (it took 27 s, answering 7e9 mag): a search would answer this
    # AssertionError (from the child forked for the fit, which inherits the patch), not the refusal
    monkeypatch.setattr(varstar_science, "_search", _no_search)
    r = client.get("/api/v1/fit/varstar", query_string={"objectId": "ZTF25short", **HEAVY})
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    message = r.get_json()["message"]
    assert "12 model parameters" in message and "at least 24 points" in message and "11" in message


def test_no_amplitude_of_millions_of_magnitudes_for_any_allowed_terms(served):
    _, store = served
    from api import queries as q
    lc = q.lightcurve(store, "ZTF25short")
    for nb, nd in ((1, 0), (0, 1), (1, 1), (2, 0), (5, 0), (3, 1), (5, 5)):
        try:
            res = fit_period(lc["jd"], lc["mag"], lc["err"], lc["band"], nterms_base=nb, nterms_band=nd)
        except ValueError as exc:
            assert "Fourier terms" in str(exc)
            continue
        assert max(res["amplitude"].values()) < 5, (nb, nd, res["amplitude"])


def test_a_search_too_large_for_the_curve_is_refused_with_what_to_change(served):
    cfg, store = served
    from api import queries as q
    # (the search scores ~3 trial frequencies per peak width with a fast Lomb-Scargle: 0.01-1000 d over
    # 180 days is now well within a fit's budget; over ten years it is not)
    lc = q.lightcurve(store, "ZTF25decade")
    clean = clean_lightcurve(lc["jd"], lc["mag"], lc["err"], lc["band"])
    with pytest.raises(ValueError, match="raise period_min"):
        check_search(clean, 0.01, 1000, 1, 0)
    check_search(clean, 0.1, 1.2, 1, 1)  # the default search passes
    r = _client(cfg).get("/api/v1/fit/varstar", query_string={"objectId": "ZTF25decade", **HEAVY, "nterms_base": 1})
    assert r.status_code == 422 and "raise period_min" in r.get_json()["message"]


def _a_minute_long_fit(kind, lc, params):
    time.sleep(60)
    return {"period": 1.0}


def test_a_fit_over_its_budget_is_killed_and_the_server_goes_on(served, monkeypatch):
    cfg, _ = served
    # a fit that takes a minute, whatever the machine's speed (the child forked for it inherits
    # the patch), against a 0.3 s budget
    fits._import_science("varstar")  # (imported once per process, before the clock starts)
    client = _client(cfg, query_time_budget_s=0.3)
    with monkeypatch.context() as patch:
        patch.setattr(fits, "_run", _a_minute_long_fit)
        t0 = time.monotonic()
        r = client.get("/api/v1/fit/varstar", query_string={"objectId": "ZTF25long", "nterms_base": 3,
                                                             "nterms_band": 1})
        elapsed = time.monotonic() - t0
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert "was stopped" in r.get_json()["message"] and "Fourier terms" in r.get_json()["message"]
    # not stuck: killed at its budget, not when the fit ends (a minute); the margin is for a loaded machine
    assert elapsed < 0.3 + 10, f"the fit was not stopped at its budget ({elapsed:.1f} s)"
    ok = _client(cfg).get("/api/v1/fit/varstar", query_string={"objectId": "ZTF25long"})
    assert ok.status_code == 200 and abs(ok.get_json()["period"] - 0.57) < 0.01


def test_fit_errors_and_results_cross_the_process_boundary(served):
    cfg, _ = served
    client = _client(cfg)
    r = client.get("/api/v1/fit/supernova", query_string={"objectId": "ZTF25long"})
    assert r.status_code in (200, 422) and r.get_json()  # a result or a science refusal, never a 500
    assert client.get("/api/v1/fit/varstar", query_string={"objectId": "ZTF00nothing"}).status_code == 404


def test_expensive_requests_take_a_slot_of_the_client_and_of_the_server(served):
    cfg, _ = served
    cfg = cfg.replace(compute_slots=2, compute_slots_per_client=1)
    client = _client(cfg)
    fit = {"objectId": "ZTF25long"}
    slots = slots_for(cfg)
    with slots.admit("127.0.0.1"):  # this client's only slot is busy
        r = client.get("/api/v1/fit/varstar", query_string=fit)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert r.get_json()["status"] == "error" and "at a time" in r.get_json()["message"]
        other = client.get("/api/v1/fit/varstar", query_string=fit, environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 200
        assert client.get("/api/v1/health").status_code == 200  # cheap requests take no slot
        with slots.admit("10.0.0.1"):  # and now the server's two slots are busy
            full = client.get("/api/v1/fit/mulens", query_string=fit, environ_base={"REMOTE_ADDR": "10.0.0.2"})
            assert full.status_code == 503 and int(full.headers["Retry-After"]) >= 1
            assert "retry" in full.get_json()["message"]
            xm = client.post("/api/v1/xmatch", json={"catalog": "ra,dec,id\n1,2,a", "header": "ra,dec,id"},
                             environ_base={"REMOTE_ADDR": "10.0.0.3"})
            assert xm.status_code == 503
            small = client.get("/api/v1/conesearch", query_string={"ra": 1, "dec": 2, "radius": 5})
            assert small.status_code == 200  # a small cone is not expensive
    # released when the holders end
    assert client.get("/api/v1/fit/varstar", query_string=fit).status_code == 200


def test_a_slot_is_released_when_its_holder_dies(served, tmp_path):
    import os
    cfg, _ = served
    slots = slots_for(cfg.replace(compute_slots=1, compute_slots_per_client=1))
    pid = os.fork()
    if pid == 0:
        with slots.admit("10.9.9.9"):
            os._exit(0)  # dies holding the slot
    os.waitpid(pid, 0)
    with slots.admit("10.9.9.9"):
        pass


def test_portal_tab_uses_the_same_bounds(served, monkeypatch):
    cfg, store = served
    from apps.science_tabs import varstar
    app = create_api_app(cfg)
    monkeypatch.setattr(varstar_science, "_search", _no_search)  # refused before any search
    with app.test_request_context("/"):
        params, why = varstar.params_from(0.01, 1000, 5, 0, None)
        assert why is None
        out = varstar.results(store, "ZTF25short", params)
    text = str(out)
    assert "Fourier terms" in text and "at least 24 points" in text
