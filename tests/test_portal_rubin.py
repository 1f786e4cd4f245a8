"""The Rubin object page (/lsst/<diaObjectId>), the Rubin search and the survey switch, in-process
on the real Rubin alerts (../shared/data/rubin-fink-2026-03-10), checked against the LSST API's
own answers for the same object."""
import base64
import io
import json
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from conftest import make_config  # noqa: E402
from index import create_app  # noqa: E402
from portal_helpers import RUBIN_OBJECT, call, ingest_rubin, layout_nodes, render_page  # noqa: E402
from store import open_store  # noqa: E402

OBJ = str(RUBIN_OBJECT)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    cfg = ingest_rubin(make_config("embedded", tmp_path_factory.mktemp("portal-rubin")))
    return create_app(cfg.replace(api_rate_limit=0)).test_client()


def _api(client, route, **params):
    r = client.get(f"/lsst/api/v1/{route}", query_string={**params, "output-format": "json"})
    assert r.status_code == 200
    return pd.DataFrame(r.get_json())


def _component(page: str, component_id: str) -> dict:
    """The props of the one component ``component_id`` of a page's layout."""
    found = [n["props"] for n in layout_nodes(json.loads(page)) if n["props"].get("id") == component_id]
    assert len(found) == 1
    return found[0]


def _figure(page: str) -> dict:
    return _component(page, "rubin-lc-graph")["figure"]


def _call_many(client, outputs: list[tuple[str, str]], inputs: list[dict], state: list[dict] | None = None) -> dict:
    """A callback with several outputs, as the browser calls it; the response by output id."""
    body = {"output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outputs], "inputs": inputs, "state": state or [],
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.data[:500]
    return r.get_json()["response"]


def _values(v) -> list:
    """A figure's array as a list (plotly sends numpy arrays as typed arrays: dtype + base64)."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


def _links(page: str) -> list[str]:
    return [m.split('"')[0] for key in ('"href": "', '"src": "') for m in page.split(key)[1:]]


def test_the_page_draws_every_source_and_forced_source_the_api_serves(client):
    page = render_page(client, f"/lsst/{OBJ}")
    sources, fp = _api(client, "sources", diaObjectId=OBJ), _api(client, "fp", diaObjectId=OBJ)
    fig = _figure(page)
    drawn = {"det": 0, "fp": 0}
    bands = {"det": set(), "fp": set()}
    for trace in fig["data"]:
        for row in trace.get("customdata") or []:
            drawn[row[1]] += 1
            bands[row[1]].add(trace["legendgroup"])
    # the default view is psfFlux in nJy: every point has a flux, so every one is drawn
    assert drawn == {"det": len(sources), "fp": len(fp)} and drawn["fp"] > 0
    assert bands["det"] == set(sources["r:band"]) == set("ugrizy")
    assert bands["fp"] == set(fp["r:band"])
    assert fig["layout"]["yaxis"]["title"]["text"] == "psfFlux [nJy]"


def test_the_page_shows_the_newest_diaobject_and_finks_classification_and_tags(client):
    page = render_page(client, f"/lsst/{OBJ}")
    obj = _api(client, "objects", diaObjectId=OBJ).iloc[0]
    from apps.components.rubin_object_info import CATS_CLASSES
    for part in ("rubin-summary", "rubin-classification", f"{obj['r:ra']:.10g}", str(obj["r:nDiaSources"]),
                 CATS_CLASSES[int(obj["f:main_label_classifier"])], obj["f:main_label_crossmatch"],
                 str(obj["r:diaSourceId"]), f"https://lsst.fink-portal.org/{OBJ}"):
        assert part in page, part
    sources = _api(client, "sources", diaObjectId=OBJ, columns="f:tags")
    tags = {t for ts in sources["f:tags"].dropna() for t in ts}
    assert tags, "the real object's alert carries Fink tags"
    for tag in tags:
        assert f"/lsst/api/v1/tags?tag={tag}" in page


def test_the_cutouts_are_the_newest_alerts_and_the_api_serves_them(client):
    page = render_page(client, f"/lsst/{OBJ}")
    obj = _api(client, "objects", diaObjectId=OBJ).iloc[0]
    urls = [u for u in _links(page) if u.startswith("/lsst/api/v1/cutouts?")]
    assert sorted(parse_qs(urlparse(u).query)["kind"][0] for u in urls) == ["Difference", "Science", "Template"]
    for url in urls:
        assert parse_qs(urlparse(url).query)["diaSourceId"] == [str(obj["r:diaSourceId"])]
        r = client.get(url)
        assert r.status_code == 200 and r.content_type == "image/png" and r.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_download_links_give_the_objects_sources_and_forced_sources(client):
    page = render_page(client, f"/lsst/{OBJ}")
    links = [u for u in _links(page) if u.startswith("/lsst/api/v1/") and "output-format" in u]
    sources, fp = _api(client, "sources", diaObjectId=OBJ), _api(client, "fp", diaObjectId=OBJ)
    for route, expected in (("sources", sources), ("fp", fp)):
        csv = next(u for u in links if u.startswith(f"/lsst/api/v1/{route}?") and "output-format=csv" in u)
        assert len(pd.read_csv(io.BytesIO(client.get(csv).data))) == len(expected)
        parquet = next(u for u in links if u.startswith(f"/lsst/api/v1/{route}?") and "output-format=parquet" in u)
        assert len(pd.read_parquet(io.BytesIO(client.get(parquet).data))) == len(expected)
    assert "http://127.0.0.1:24000/lsst/api/v1/sources" in page  # the Python snippet: Fink's script, our base URL


@pytest.mark.parametrize("path, words", [("/lsst/1", "No Rubin object 1 is stored here"),
                                         ("/lsst/abc", "is not a diaObjectId"),
                                         ("/lsst/99999999999999999999999", "is not a diaObjectId")])
def test_unknown_or_invalid_ids_get_a_not_found_page(client, path, words):
    page = render_page(client, path)
    assert "not-found" in page and words in page


def test_a_server_without_rubin_tables_says_how_to_make_them(tmp_path):
    cfg = make_config("embedded", tmp_path)
    open_store(cfg, create=True).close()  # ZTF's tables only
    page = render_page(create_app(cfg).test_client(), f"/lsst/{OBJ}")
    assert "not-found" in page and "python -m hbase_schema create --survey rubin" in page


def test_the_photometry_is_sent_once_in_the_figure_not_again_in_a_store(client):
    page = render_page(client, f"/lsst/{OBJ}")
    assert "rubin-phot" not in page
    assert _component(page, "rubin-object-id")["data"] == OBJ


def test_units_flux_and_toggles_redraw_the_light_curve(client):
    inputs = [{"id": "rubin-lc-unit", "property": "value", "value": "mag"},
              {"id": "rubin-lc-flux", "property": "value", "value": "scienceFlux"},
              {"id": "rubin-lc-show", "property": "value", "value": ["det"]},
              {"id": "rubin-source", "property": "data", "value": ""}]
    fig = call(client, {"id": "rubin-lc-graph", "property": "figure"}, inputs,
               [{"id": "rubin-object-id", "property": "data", "value": OBJ}])["response"]["rubin-lc-graph"]["figure"]
    assert fig["layout"]["yaxis"]["title"]["text"] == "AB magnitude (from scienceFlux)"
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"
    kinds = {row[1] for t in fig["data"] for row in t.get("customdata") or []}
    assert kinds == {"det"}
    ys = [y for t in fig["data"] if t.get("customdata") for y in _values(t["y"])]
    assert ys and all(14 < y < 30 for y in ys)  # AB magnitudes from nJy


def test_clicking_an_alert_picks_its_cutouts_and_other_points_do_not(client):
    def click(custom):
        return call(client, {"id": "rubin-source", "property": "data"},
                    [{"id": "rubin-lc-graph", "property": "clickData", "value": {"points": [{"customdata": custom}]}}])
    assert click(["170112044634734610", "det", True])["response"]["rubin-source"]["data"] == "170112044634734610"
    assert not click(["170112044634734611", "det", False]).get("response")  # no cutout: no update
    assert not click(["990000000000000001", "fp", False]).get("response")
    out = json.dumps(_call_many(client, [("rubin-cutouts", "children"), ("rubin-cutout-source", "children")],
                                [{"id": "rubin-source", "property": "data", "value": "170112044634734610"},
                                 {"id": "rubin-cutout-stretch", "property": "value", "value": "log"},
                                 {"id": "rubin-cutout-colormap", "property": "value", "value": "viridis"}],
                                [{"id": "rubin-object-id", "property": "data", "value": OBJ}]))
    assert "diaSourceId=170112044634734610" in out and "stretch=log" in out and "colormap=viridis" in out


def test_a_diaobjectid_in_the_search_bar_finds_the_rubin_object(client):
    out = json.dumps(call(client, {"id": "search-results", "property": "children"},
                          [{"id": "search-query", "property": "data", "value": OBJ}]))
    assert "1 Rubin object" in out and f"(/lsst/{OBJ})" in out
    obj = _api(client, "objects", diaObjectId=OBJ).iloc[0]
    # with the survey switch on Rubin: a cone around it finds it too
    out = json.dumps(call(client, {"id": "rubin-search-results", "property": "children"},
                          [{"id": "rubin-search-query", "property": "data",
                            "value": f"{obj['r:ra']:.6f} {obj['r:dec']:.6f} 10"}]))
    assert f"(/lsst/{OBJ})" in out and "Rubin cone of 10" in out
    out = json.dumps(call(client, {"id": "rubin-search-results", "property": "children"},
                          [{"id": "rubin-search-query", "property": "data", "value": "class: SN candidate"}]))
    assert "alert-error" in out and "diaObjectId" in out


def test_the_search_url_keeps_the_survey(client):
    out = call(client, {"id": "search-location", "property": "href"},
               [{"id": "search-go", "property": "n_clicks", "value": 1},
                {"id": "search-input", "property": "n_submit", "value": 0},
                {"id": "class-picker", "property": "value", "value": None}],
               [{"id": "search-input", "property": "value", "value": "4712"},
                {"id": "search-survey", "property": "data", "value": "rubin"}])
    assert out["response"]["search-location"]["href"] == "/?q=4712&survey=rubin"
    page = render_page(client, "/", "?q=4712&survey=rubin")
    assert _component(page, "rubin-search-query")["data"] == "4712"  # the Rubin results run it
    assert _component(page, "search-query")["data"] == ""  # the ZTF ones do not
    assert _component(page, "search-survey")["data"] == "rubin"


@pytest.mark.parametrize("pathname, search, survey", [("/", "", "ztf"), ("/", "?survey=rubin", "rubin"),
                                                      (f"/lsst/{OBJ}", "", "rubin"), ("/ZTF23abjexnw", "", "ztf"),
                                                      ("/", "?q=x&survey=ztf", "ztf")])
def test_the_survey_switch_follows_the_url(client, pathname, search, survey):
    out = _call_many(client, [("survey-ztf", "className"), ("survey-rubin", "className")],
                     [{"id": "survey-url", "property": "pathname", "value": pathname},
                      {"id": "survey-url", "property": "search", "value": search}])
    on = [key for key in ("ztf", "rubin") if "survey-on" in out[f"survey-{key}"]["className"]]
    assert on == [survey]


@pytest.mark.parametrize("text, kind, value", [
    ("313853517735395444", "diaObjectId", 313853517735395444),  # 18 digits: Rubin's
    ("lsst: 12", "diaObjectId", 12), ("diaObjectId:170028500562477066", "diaObjectId", 170028500562477066),
    ("RUBIN: 18446744073709551615", "diaObjectId", 2**64 - 1),
    ("4712", "sso", None), ("12345678901234", "sso", None),  # short integers stay solar-system numbers
    ("ZTF23abjexnw", "objectId", None), ("5.38 54.69 30", "cone", None)])
def test_the_search_bar_reads_rubin_ids_and_leaves_ztf_searches_alone(text, kind, value):
    from apps import search as S
    found = S.parse(text)
    assert found.kind == kind
    if value is not None:
        assert found.params["diaObjectId"] == value and isinstance(found.params["diaObjectId"], int)


@pytest.mark.parametrize("text", ["lsst: abc", "diaObjectId: 18446744073709551616", "lsst:", "rubin: -3"])
def test_a_bad_rubin_id_is_refused_with_a_message(text):
    from apps import search as S
    with pytest.raises(S.SearchError, match="is not a diaObjectId"):
        S.parse(text)


def test_on_the_rubin_switch_any_integer_is_a_diaobjectid():
    from apps import search as S
    assert S.rubin_search("4712", "rubin").params == {"diaObjectId": 4712}
    assert S.rubin_search("4712") is None and S.rubin_search("5.38 54.69 30", "rubin") is None


def test_the_supernova_tab_opens_over_http_with_the_alert_score_and_no_fink_placeholder(client):
    """The tab callback as the browser calls it, on the real object: Fink's Rubin SuperNNova score
    of its one alert is drawn, its -1 (early SN Ia not computed) is not, and the fit is drawn."""
    from apps.pages.rubin_object import SCIENCE_TABS
    outputs = [(f"rubin-tab-{key}", "children") for key in SCIENCE_TABS] + [("rubin-tabs-drawn", "data")]
    response = _call_many(client, outputs, [{"id": "rubin-object-tabs", "property": "value", "value": "supernova"}],
                          [{"id": "rubin-object-id", "property": "data", "value": OBJ},
                           {"id": "rubin-tabs-drawn", "property": "data", "value": []}])
    assert response["rubin-tabs-drawn"]["data"] == ["supernova"]
    tab = json.dumps(response["rubin-tab-supernova"]["children"])
    scores = _component(tab, "sn-scores")["figure"]
    values = [v for trace in scores["data"] for v in _values(trace["y"]) if v == v]
    assert [t["name"] for t in scores["data"]] == ["SuperNNova SN vs others"] and values and min(values) >= 0
    assert "MJD (TAI)" in scores["layout"]["xaxis"]["title"]["text"]
    fit = _component(tab, "sn-fit")["figure"]
    assert "MJD TAI" in fit["layout"]["xaxis2"]["title"]["text"] and "psfFlux" in fit["layout"]["yaxis"]["title"]["text"]
    assert {t.get("legendgroup") for t in fit["data"]} >= {"g", "r", "i"}
