"""The Python client (client/, package nocturne_client) against a live server holding real and
simulated alerts of both surveys: it returns what the API answers, raises the API's message,
retries on 429/503 after Retry-After, and installs with pip."""
from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from flask import Flask, Response

from tests.conftest import ROOT
from tests.live_server import live, serve  # noqa: F401  (the fixture)

sys.path.insert(0, str(ROOT / "client"))
from nocturne_client import APIError, APIWarning, Client  # noqa: E402

DATASETS = ["real", "sim"]


def api_frame(live, path: str, **params) -> pd.DataFrame:
    """The API's own answer, in-process (not through the client)."""
    r = live.app.test_client().post(path, json=params)
    assert r.status_code == 200, r.data[:300]
    return pd.DataFrame(r.get_json())


@pytest.mark.parametrize("dataset", DATASETS)
def test_ztf_objects_are_the_apis_rows(live, dataset):
    ids = live.ztf[dataset][:3]
    df = Client(live.url).objects(ids, withupperlim=True)
    assert set(df["i:objectId"]) == set(ids)
    pd.testing.assert_frame_equal(df, api_frame(live, "/api/v1/objects", objectId=",".join(ids), withupperlim=True))


@pytest.mark.parametrize("dataset", DATASETS)
def test_rubin_objects_sources_fp(live, dataset):
    rubin = Client(live.url + "/lsst")
    oid = live.rubin[dataset][0]
    objects = rubin.objects([oid])
    assert objects["r:diaObjectId"].tolist() == [oid]
    sources = rubin.sources(oid)
    assert len(sources) >= 1 and set(sources["r:diaObjectId"]) == {oid}
    pd.testing.assert_frame_equal(sources, api_frame(live, "/lsst/api/v1/sources", diaObjectId=str(oid)))
    pd.testing.assert_frame_equal(rubin.fp(oid), api_frame(live, "/lsst/api/v1/fp", diaObjectId=str(oid)))


@pytest.mark.parametrize("dataset", DATASETS)
def test_conesearch_finds_the_object_at_its_position(live, dataset):
    ztf = Client(live.url)
    alert = ztf.objects(live.ztf[dataset][0], columns="i:ra,i:dec,i:objectId").iloc[0]
    found = ztf.conesearch(alert["i:ra"], alert["i:dec"], 5)
    assert alert["i:objectId"] in set(found["i:objectId"])
    assert (found["v:separation_degree"] <= 5 / 3600).all()
    rubin = Client(live.url + "/lsst")
    obj = rubin.objects(live.rubin[dataset][0]).iloc[0]
    near = rubin.conesearch(obj["r:ra"], obj["r:dec"], 5, astropy=True)
    assert obj["r:diaObjectId"] in set(near["r:diaObjectId"].tolist())


def test_latests_and_statistics_as_the_api(live):
    ztf = Client(live.url)
    classes = ztf.request("GET", "classes").json()
    label = next(iter(classes["Fink classifiers"]))
    pd.testing.assert_frame_equal(ztf.latests(label, n=5), api_frame(live, "/api/v1/latests", **{"class": label, "n": 5}))
    stats = ztf.statistics()
    assert len(stats) >= 2  # the real night and the simulated one
    assert len(Client(live.url + "/lsst").statistics()) >= 2


@pytest.mark.parametrize("survey,dataset", [("ztf", "real"), ("ztf", "sim"), ("rubin", "real"), ("rubin", "sim")])
def test_cutouts_as_array_and_fits(live, survey, dataset):
    client = Client(live.url + ("/lsst" if survey == "rubin" else ""))
    oid = getattr(live, survey)[dataset][0]
    image = client.cutout(oid, "Science")
    with client.cutout_fits(oid, "Science") as hdul:
        data = np.asarray(hdul[0].data, dtype=float)
    assert image.ndim == 2 and image.shape == data.shape
    np.testing.assert_array_equal(np.isnan(image), np.isnan(data))
    np.testing.assert_allclose(np.nan_to_num(image), np.nan_to_num(data))


def test_annotations_with_a_token(live):
    oid = live.ztf["real"][0]
    made = Client(live.url, token=live.token).annotate(oid, text="checked from the client", tags=["client"])
    assert made["objectId"] == oid
    listed = Client(live.url).annotations(oid)
    assert "checked from the client" in set(listed["text"])
    with pytest.raises(ValueError, match="token"):
        Client(live.url).annotate(oid, text="no token")
    with pytest.raises(APIError) as err:
        Client(live.url, token="not a token").annotate(oid, text="bad token")
    assert err.value.status == 401 and err.value.message


def test_errors_carry_the_apis_message(live):
    with pytest.raises(APIError) as err:
        Client(live.url).conesearch(400, 10, 5)
    r = live.app.test_client().post("/api/v1/conesearch", json={"ra": 400, "dec": 10, "radius": 5})
    assert err.value.status == 400 == r.status_code
    assert err.value.message == r.get_json()["message"] and "'ra'" in err.value.message
    with pytest.raises(ValueError, match="Rubin route"):
        Client(live.url).sources(1)


def test_the_apis_warning_is_a_python_warning(live):
    with pytest.warns(APIWarning, match="colums"):
        Client(live.url).objects(live.ztf["real"][0], colums="i:jd")


def _flaky(status: int, retry_after: str | None, fails: int):
    """A server answering ``status`` (the API's error shape, ``Retry-After``) ``fails`` times, then rows."""
    app, calls = Flask("flaky"), []

    @app.route("/api/v1/objects", methods=["POST"])
    def objects():
        calls.append(1)
        if len(calls) <= fails:
            headers = {"Retry-After": retry_after} if retry_after else {}
            body = json.dumps({"status": "error", "message": "busy, come back", "text": "busy, come back"})
            return Response(body, status=status, mimetype="application/json", headers=headers)
        return Response(json.dumps([{"i:objectId": "ZTF1", "i:jd": 1.5}]), mimetype="application/json")
    return app, calls


@pytest.mark.parametrize("status", [429, 503])
def test_retries_after_retry_after(monkeypatch, status):
    slept = []
    monkeypatch.setattr("nocturne_client.client.time.sleep", slept.append)
    app, calls = _flaky(status, "2", fails=2)
    url, stop = serve(app)
    try:
        df = Client(url).objects("ZTF1")
        assert df["i:objectId"].tolist() == ["ZTF1"] and len(calls) == 3 and slept == [2.0, 2.0]
        app2, _ = _flaky(status, None, fails=10)
        url2, stop2 = serve(app2)
        try:
            slept.clear()
            with pytest.raises(APIError) as err:
                Client(url2, retries=2, backoff=0.5).objects("ZTF1")
            assert err.value.status == status and err.value.message == "busy, come back"
            assert slept == [0.5, 1.0]  # no Retry-After: doubling backoff
        finally:
            stop2()
    finally:
        stop()


def test_the_real_rate_limit_is_retried_then_reported(live, monkeypatch):
    """The API's own 429 (its per-address limit): the client waits its Retry-After, then says why."""
    from api import create_api_app
    slept = []
    monkeypatch.setattr("nocturne_client.client.time.sleep", slept.append)
    url, stop = serve(create_api_app(live.config.replace(api_rate_limit=2)))
    try:
        client = Client(url, retries=1)
        with pytest.raises(APIError) as err:
            for _ in range(4):
                client.statistics()
        assert err.value.status == 429 and "too many requests" in err.value.message
        assert len(slept) == 1 and 0 < slept[0] <= 60
    finally:
        stop()


def test_progress_bar_on_request(live, capsys):
    Client(live.url, progress=True).objects(live.ztf["real"][:5])
    assert "B/s" in capsys.readouterr().err


def test_installs_with_pip_and_reads_a_light_curve(live, tmp_path):
    """pip installs client/ (no network: its dependencies are already here), and the
    installed package, not the checkout, reads a light curve in five lines."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(ROOT / "client")], check=True)
    script = (f"from nocturne_client import Client; import nocturne_client\n"
              f"assert nocturne_client.__file__.startswith({str(target)!r})\n"
              f"lc = Client({live.url!r}).objects({live.ztf['real'][0]!r}, withupperlim=True)\n"
              f"print(len(lc), lc['i:jd'].is_monotonic_decreasing)\n")
    out = subprocess.run([sys.executable, "-c", script], env={"PYTHONPATH": str(target), "PATH": "/usr/bin"},
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    n = len(api_frame(live, "/api/v1/objects", objectId=live.ztf["real"][0], withupperlim=True))
    assert out.stdout.split() == [str(n), "True"]
