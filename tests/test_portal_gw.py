"""The portal's gravitational-wave page (/gw): a sky map dropped on it lists the ZTF or Rubin
objects of its credible region, the same objects the API's skymap routes answer, on the real
ZTF night and the real Rubin alerts; bad uploads and numbers get a message, never an error."""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from astropy.time import Time

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from conftest import make_config  # noqa: E402
from index import create_app  # noqa: E402
from portal_helpers import call, ingest_real, ingest_rubin, layout_nodes, render_page  # noqa: E402
from realdata import source_alerts  # noqa: E402
from rubin_inputs import parquet_files, records  # noqa: E402
from skymaps import gaussian_map  # noqa: E402

SIGMA = 3.0


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    cfg = ingest_rubin(ingest_real(tmp_path_factory.mktemp("portal-gw")))
    return create_app(cfg.replace(api_rate_limit=0)).test_client()


def _upload(data: bytes) -> str:
    return "data:application/gzip;base64," + base64.b64encode(data).decode()


def _search(client, contents, survey="ztf", level=0.9, before=1.0, after=6.0) -> list[dict]:
    """The page's search callback as the browser calls it; every component of its answer."""
    got = call(client, {"id": "gw-body", "property": "children"},
               [{"id": "gw-search", "property": "n_clicks", "value": 1}],
               [{"id": "gw-upload", "property": "contents", "value": contents},
                {"id": "gw-survey", "property": "value", "value": survey},
                {"id": "gw-level", "property": "value", "value": level},
                {"id": "gw-before", "property": "value", "value": before},
                {"id": "gw-after", "property": "value", "value": after}])
    return list(layout_nodes(got["response"]["gw-body"]["children"]))


def _by_id(nodes: list[dict], ident: str) -> dict:
    found = [n["props"] for n in nodes if n["props"].get("id") == ident]
    assert len(found) == 1, ident
    return found[0]


def _errors(nodes: list[dict]) -> list[str]:
    return [n["props"]["children"] for n in nodes if n["props"].get("className") == "alert-error"]


def _young_rubin(packets) -> dict:
    """The diaSource of a real Rubin alert whose object was first detected < 6 days before it."""
    return next(p["diaSource"] for p in packets if p["diaSource"]["diaObjectId"]
                and p["diaSource"]["midpointMjdTai"] - (p["misc"] or {}).get("firstDiaSourceMjdTaiFink", 0) < 6)


def _linked(grid: dict, field: str) -> list[str]:
    """The ids of the table's rows (each a markdown link ``[id](path)``)."""
    return [row[field].split("]")[0].lstrip("[") for row in grid["rowData"]]


def test_the_page_is_in_the_menu_and_holds_the_form(client):
    page = render_page(client, "/gw")
    ids = {n["props"].get("id") for n in layout_nodes(json.loads(page))}
    assert {"gw-upload", "gw-survey", "gw-level", "gw-before", "gw-after", "gw-search", "gw-body"} <= ids
    shell = client.get("/_dash-layout")
    assert shell.status_code == 200
    assert "/gw" in {n["props"].get("href") for n in layout_nodes(shell.get_json())}  # in the top bar


def test_a_ztf_search_lists_the_objects_the_api_answers(client):
    target = next(r for r in source_alerts() if r.get("cdsxmatch") is None
                  and r["candidate"]["jd"] - r["candidate"]["jdstarthist"] < 1 and r["candidate"]["jd"] > 2460236)
    c = target["candidate"]
    data = gaussian_map(c["ra"], c["dec"], SIGMA, Time(c["jd"] - 0.5, format="jd").isot)
    nodes = _search(client, _upload(data))
    assert not _errors(nodes)
    shown = _linked(_by_id(nodes, "gw-grid"), "objectId")
    api = client.post("/api/v1/skymap", json={"bayestar": str(data), "credible_level": 0.9})
    assert api.status_code == 200
    expected = {r["i:objectId"] for r in api.get_json()}
    assert target["objectId"] in shown and set(shown) == expected and len(shown) == len(expected) > 1
    assert _by_id(nodes, "gw-count")["children"] == f"{len(expected)} ZTF objects"
    summary = _by_id(nodes, "gw-summary")["children"]
    assert "90% credible region" in summary and "deg²" in summary
    figure = _by_id(nodes, "gw-sky")["figure"]
    assert [t["name"] for t in figure["data"]] == ["90% region (cell centres)", "objects"]
    assert "/api/v1/skymap" in _by_id(nodes, "gw-curl")["children"]
    # a tighter region: fewer objects, still those the API answers
    tight = _linked(_by_id(_search(client, _upload(data), level=0.05), "gw-grid"), "objectId")
    tight_api = client.post("/api/v1/skymap", json={"bayestar": str(data), "credible_level": 0.05}).get_json()
    assert set(tight) == {r["i:objectId"] for r in tight_api} and 0 < len(tight) < len(shown)


def test_a_rubin_search_lists_the_objects_the_lsst_api_answers(client):
    packets = records(parquet_files())
    young = _young_rubin(packets)
    event = Time(young["midpointMjdTai"] - 0.5, format="mjd", scale="tai").utc.isot
    data = gaussian_map(young["ra"], young["dec"], SIGMA, event)
    nodes = _search(client, _upload(data), survey="rubin")
    assert not _errors(nodes)
    shown = _linked(_by_id(nodes, "gw-grid"), "diaObjectId")
    api = pd.DataFrame(client.post("/lsst/api/v1/skymap", json={"bayestar": str(data), "credible_level": 0.9}).get_json())
    expected = {str(o) for o in api["r:diaObjectId"] if o}  # solar-system alerts have no object page
    assert str(young["diaObjectId"]) in shown and set(shown) == expected and len(shown) == len(expected)
    assert _by_id(nodes, "gw-count")["children"].endswith("Rubin objects")
    assert all(row["diaObjectId"].endswith(f"(/lsst/{o})") for row, o in zip(_by_id(nodes, "gw-grid")["rowData"], shown))
    assert "/lsst/api/v1/skymap" in _by_id(nodes, "gw-curl")["children"]


def test_an_event_after_every_alert_finds_nothing_and_says_so(client):
    data = gaussian_map(150.0, 2.0, SIGMA, "2027-01-01T00:00:00")
    nodes = _search(client, _upload(data), survey="rubin")
    assert _by_id(nodes, "gw-count")["children"] == "0 Rubin objects"
    assert any(n["props"].get("className") == "empty" for n in nodes)


@pytest.mark.parametrize("contents, numbers, words", [
    (None, {}, "drop or choose a sky map"),
    ("data:application/gzip;base64,not*base64", {}, "not base64"),
    (_upload(b"\x1f\x8b\x08garbage"), {}, "not a sky map"),
    (_upload(gaussian_map(150.0, 2.0, SIGMA, "2026-03-10T00:00:00")), {"level": 2}, "credible level"),
    (_upload(gaussian_map(150.0, 2.0, SIGMA, "2026-03-10T00:00:00")), {"after": "soon"}, "days after"),
    (_upload(gaussian_map(150.0, 2.0, SIGMA, "2026-03-10T00:00:00")), {"before": None}, "days before"),
])
def test_bad_uploads_and_numbers_get_a_message(client, contents, numbers, words):
    errors = _errors(_search(client, contents, **numbers))
    assert len(errors) == 1 and words in errors[0], errors


def test_a_big_answer_shows_the_newest_objects_and_says_how_many_there_are(client, monkeypatch):
    from apps.components import gw_results
    packets = records(parquet_files())
    young = _young_rubin(packets)
    event = Time(young["midpointMjdTai"] - 0.5, format="mjd", scale="tai").utc.isot
    data = gaussian_map(young["ra"], young["dec"], SIGMA, event)
    everything = _linked(_by_id(_search(client, _upload(data), survey="rubin", level=0.99, after=14), "gw-grid"),
                         "diaObjectId")
    assert len(everything) > 3
    monkeypatch.setattr(gw_results, "MAX_ROWS", 3)
    nodes = _search(client, _upload(data), survey="rubin", level=0.99, after=14)
    grid = _by_id(nodes, "gw-grid")
    assert _linked(grid, "diaObjectId") == everything[:3]  # newest first, as the whole answer
    assert _by_id(nodes, "gw-count")["children"] == f"{len(everything)} Rubin objects"
    assert "the newest 3 are shown" in _by_id(nodes, "gw-summary")["children"]
    objects = [t for t in _by_id(nodes, "gw-sky")["figure"]["data"] if t["name"] == "objects"][0]
    assert len(objects["text"]) == 3
