"""The portal in-process: Flask test client and Dash's own callbacks, on the real night."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from index import create_app  # noqa: E402
from portal_helpers import OBJECT, OTHER, call, ingest_real, render_page  # noqa: E402


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(ingest_real(tmp_path_factory.mktemp("portal")))
    return app.test_client()


@pytest.mark.parametrize("path", ["/", "/?q=ZTF23abjexnw", f"/{OBJECT}", "/statistics", "/api-docs", "/ZTF00aaaaaaa"])
def test_every_page_is_served_by_dash(client, path):
    r = client.get(path)
    assert r.status_code == 200 and b"react-entry-point" in r.data


def test_the_api_and_static_assets_are_not_captured_by_the_object_page(client):
    assert client.get("/api/v1/health").get_json()["status"] == "ok"
    assert b"Nocturne API" in client.get("/api").data
    missing = client.get("/api/v1/no-such-endpoint")
    assert missing.status_code == 404 and missing.get_json()["status"] == "error"
    assert client.get("/assets/nocturne.css").status_code == 200
    assert client.get("/_dash-layout").status_code == 200


def test_the_object_page_shows_badges_light_curve_cutouts_and_downloads(client):
    page = render_page(client, f"/{OBJECT}")
    for part in ("object-badges", "lc-graph", "Difference magnitude", "cutout-img", "/api/v1/cutouts?objectId=" + OBJECT,
                 "output-format=csv", "Supernova", "Variable star", "Microlensing", "wis-tns.org", "simbad"):
        assert part in page, part


@pytest.mark.parametrize("path, words", [("/ZTF00aaaaaaa", "No alert of ZTF00aaaaaaa"),
                                         ("/no-such-page", "There is no page at"),
                                         ("/a/b/c", "There is no page at")])
def test_unknown_objects_and_paths_get_a_not_found_page(client, path, words):
    page = render_page(client, path)
    assert "not-found" in page and words in page and "Traceback" not in page


def test_the_cutouts_follow_the_chosen_epoch(client):
    out = call(client, {"id": "cutouts", "property": "children"},
               [{"id": "object-candid", "property": "data", "value": "2481198801415010033"},
                {"id": "cutout-stretch", "property": "value", "value": "log"},
                {"id": "cutout-colormap", "property": "value", "value": "viridis"}],
               [{"id": "object-id", "property": "data", "value": OBJECT}])
    text = json.dumps(out)
    assert "candid=2481198801415010033" in text and "stretch=log" in text and "colormap=viridis" in text


def test_light_curve_units_change_the_axis(client):
    from api import queries as q
    from api.access import current_store
    from apps.components import lightcurve as LC

    with client.application.test_request_context():
        alerts = q.objects(current_store(), [OBJECT])
        phot = LC.photometry(alerts, q.objects(current_store(), [OBJECT], withupperlim=True))
    assert {"valid", "upperlim"} <= set(phot["tag"])
    assert sorted(map(str, alerts["i:candid"])) == sorted(c for c, t in zip(phot["candid"], phot["tag"]) if t == "valid")
    for unit, title in LC.UNITS.items():
        fig = LC.figure(phot, unit, ("upperlim",), color_panel=True)
        assert fig.layout.yaxis.title.text == title
        assert any(t.name == "g − r" for t in fig.data)


def test_a_search_renders_the_results_table(client):
    out = call(client, {"id": "search-results", "property": "children"},
               [{"id": "search-query", "property": "data", "value": OTHER}])
    text = json.dumps(out)
    assert "results-grid" in text and f"[{OTHER}](/{OTHER})" in text and "1 object" in text
    bad = json.dumps(call(client, {"id": "search-results", "property": "children"},
                          [{"id": "search-query", "property": "data", "value": "5.38 54.69 30 40"}]))
    assert "alert-error" in bad and "ra dec [radius]" in bad


@pytest.mark.parametrize("query, expect", [("5.38 54.69 30", OBJECT), ("class: SN candidate", "SN candidate"),
                                           ("date: 2023-10-18", "ZTF"), ("sso: 4712", "ZTF23abliyju")])
def test_each_kind_of_search_finds_alerts(client, query, expect):
    out = json.dumps(call(client, {"id": "search-results", "property": "children"},
                          [{"id": "search-query", "property": "data", "value": query}]))
    assert expect in out and "Nothing found" not in out


def test_object_ids_are_completed_from_a_prefix(client):
    out = json.dumps(call(client, {"id": "search-suggestions", "property": "children"},
                          [{"id": "search-input", "property": "value", "value": "ZTF18adl"}]))
    assert OBJECT in out


def test_statistics_page_has_the_last_night_and_charts(client):
    out = json.dumps(call(client, {"id": "stats-body", "property": "children"},
                          [{"id": "stats-trigger", "property": "data", "value": 0}]))
    assert "Last ingested night" in out and "Alerts per filter" in out and "Alerts per class" in out


def test_the_summary_shows_the_classification_history(client):
    from api import queries as q
    from api.access import current_store
    from apps.components import classification as K

    page = render_page(client, f"/{OBJECT}")
    assert "Classification history" in page and "class-history-graph" in page
    with client.application.test_request_context():
        alerts = q.objects(current_store(), [OBJECT])
    hist = K.history(alerts)
    assert len(hist) == len(alerts) and list(hist["jd"]) == sorted(alerts["i:jd"])
    assert list(hist["class"]) == [c or "Unknown" for c in alerts.sort_values("i:jd")["d:classification"]]
    fig = K.figure(hist)
    assert list(fig.data[0].y) == list(hist["class"]) and len(fig.data[0].x) == len(alerts)


def test_a_click_on_an_upper_limit_gets_a_note_and_keeps_the_pick(client):
    from apps.pages.object import pick_epoch
    from dash import no_update

    upper = {"points": [{"x": "2023-10-01", "customdata": ["-1", "upperlim", 2460218.75]}]}
    candid, note = pick_epoch(upper)
    assert candid is no_update and note.startswith("Upper limit at JD 2460218.75000") and "no cutouts" in note
    candid, note = pick_epoch({"points": [{"customdata": ["-1", "badquality", 2460219.5]}]})
    assert candid is no_update and note.startswith("Bad-quality detection at JD 2460219.50000")
    assert pick_epoch({"points": [{"customdata": ["2481198801415010033", "valid", 2460236.7]}]}) == \
        ("2481198801415010033", "")


def test_a_science_tab_is_drawn_once(client):
    """Returning to a tab must not redraw it (which reset its settings and reran the fit)."""
    from apps.pages.object import SCIENCE_TABS, science_tab
    from dash import no_update

    with client.application.test_request_context():
        first = science_tab("supernova", OBJECT, [])
        again = science_tab("supernova", OBJECT, first[-1])
        summary = science_tab("summary", OBJECT, first[-1])
    assert first[-1] == ["supernova"] and first[list(SCIENCE_TABS).index("supernova")] is not no_update
    assert all(x is no_update for x in again) and all(x is no_update for x in summary)


def test_a_pick_patches_the_ring_only(client):
    from api import queries as q
    from api.access import current_store
    from apps.components import lightcurve as LC

    with client.application.test_request_context():
        alerts = q.objects(current_store(), [OBJECT])
        phot = LC.photometry(alerts, q.objects(current_store(), [OBJECT], withupperlim=True))
    candid = int(alerts["i:candid"].iloc[0])
    fig = LC.figure(phot, "diff", ("upperlim",), False, candid)
    ops = LC.pick_patch(phot, "diff", ("upperlim",), candid).to_plotly_json()["operations"]
    assert {tuple(op["location"]) for op in ops} == {("data", len(fig.data) - 1, "x"), ("data", len(fig.data) - 1, "y")}
    assert fig.data[-1].name == "selected alert" and list(fig.data[-1].x) == [op["params"]["value"] for op in ops
                                                                              if op["location"][-1] == "x"][0]
    assert "layout" not in json.dumps(ops)
