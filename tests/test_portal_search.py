"""The search bar's language: each kind of query, sexagesimal input, helpful refusals; on a
simulated store and on the real night: the examples, names, classes, the cut at MAX_ROWS and
the API call that answers the rows shown."""
import json
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

from apps import search as S


def test_an_object_id_is_an_object_search():
    assert S.parse(" ZTF23abjexnw ") == S.Search("objectId", {"objectId": "ZTF23abjexnw"})


def test_a_cone_in_degrees_and_in_sexagesimal():
    deg = S.parse("5.38 54.69 30")
    assert deg.kind == "cone" and deg.params == {"ra": 5.38, "dec": 54.69, "radius": 30.0}
    sexa = S.parse("00:21:31.2 +54:41:24 30")
    assert sexa.params["ra"] == pytest.approx(5.38) and sexa.params["dec"] == pytest.approx(54.69)
    spaced = S.parse("00 21 31.2 +54 41 24 30")
    assert spaced.params["ra"] == pytest.approx(5.38) and spaced.params["radius"] == 30


def test_class_date_and_solar_system_searches():
    assert S.parse("class: SN candidate") == S.Search("class", {"class": "SN candidate", "n": 100})
    day = S.parse("date: 2023-10-18")
    assert day.kind == "date" and day.params["stop"] - day.params["start"] == pytest.approx(1)
    window = S.parse("2023-10-18 2023-10-20")
    assert window.params["stop"] - window.params["start"] == pytest.approx(2)
    assert S.parse("sso: 4712") == S.parse("4712") == S.Search("sso", {"name": "4712"})


@pytest.mark.parametrize("text, words", [
    ("", "objectId"), ("ZTF23abj", "not a complete ZTF objectId"), ("5.38 54.69 30 40", r"ra dec \[radius\]"),
    ("5.38", r"ra dec \[radius\]"), ("150 30 10x", "radius '10x': give a number of arcseconds"),
    ("500 54 30", "ra must be"), ("class:", "give a class"), ("date: 2023-10-20 2023-10-18", "after its start"),
    ("date: tomorrow", "a date such as"),
])
def test_what_is_not_understood_is_explained(text, words):
    with pytest.raises(S.SearchError, match=words):
        S.parse(text)


def test_curl_and_python_snippets():
    curl = S.curl_snippet("http://h", *S.api_call(S.parse("5.38 54.69 30")))
    assert curl == "curl 'http://h/api/v1/conesearch?ra=5.38&dec=54.69&radius=30.0&n=1000&output-format=csv'"
    assert "requests.post(" in S.python_snippet("http://h", "objects", {"objectId": "ZTF23abjexnw"})


def test_an_object_id_in_any_case_is_an_object_search():
    assert S.parse("ztf22achbqvn") == S.parse("ZTF22ACHBQVN") == S.Search("objectId", {"objectId": "ZTF22achbqvn"})


@pytest.mark.parametrize("radius, arcsec", [("10m", 600), ("5s", 5), ("0.1d", 360), ('10"', 10), ("1'", 60),
                                            ("30", 30), ("1.5arcmin", 90), ("2 arcmin", 120), ("10″", 10)])
def test_a_cone_radius_takes_a_unit(radius, arcsec):
    cone = S.parse(f"150 30 {radius}")
    assert cone.kind == "cone" and cone.params == {"ra": 150.0, "dec": 30.0, "radius": pytest.approx(arcsec)}
    assert S.parse(f"10:00:00 +30:00:00 {radius}").params["radius"] == pytest.approx(arcsec)


def test_a_cone_without_radius_takes_the_default_and_says_so():
    for text in ("5.38 54.69", "00:21:31.2 +54:41:24", "00 21 31.2 +54 41 24"):
        cone = S.parse(text)
        assert cone.kind == "cone" and cone.params["radius"] == S.DEFAULT_RADIUS_ARCSEC
        assert cone.params["ra"] == pytest.approx(5.38) and cone.params["dec"] == pytest.approx(54.69)
        assert f"default radius {S.DEFAULT_RADIUS_ARCSEC:g}″" in cone.describe()
    assert "default" not in S.parse("5.38 54.69 30").describe()


@pytest.mark.parametrize("text", ["Vega", "SN 2023abc", "2023abc", "2010 JO69", "10P", "name: M 31"])
def test_other_text_is_a_name(text):
    found = S.parse(text)
    assert found.kind == "name" and found.params["name"] == text.removeprefix("name: ")


def test_no_raw_python_error_reaches_the_user():
    for text in ("150 30 10m", "150 30 10q", "150 30 -5", "1e400 30 10", "150 30 0", "150 30 1e9"):
        try:
            S.parse(text)
        except S.SearchError as exc:
            assert "could not convert" not in str(exc) and "float" not in str(exc), str(exc)


def test_the_sky_plot_gives_each_class_its_colour_and_opens_a_clicked_object():
    from apps.components import results as R

    rows = pd.DataFrame({"class": [f"class {i}" for i in range(14)], "ra": range(14), "dec": range(14),
                         "objectId": [f"ZTF23aaaaa{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(14)]})
    fig = R.sky_plot(rows).figure
    colours = [t.marker.color for t in fig.data]
    assert len(colours) == 14 and len(set(colours)) == 14
    assert R.clicked_object({"points": [{"customdata": "ZTF23aaaaaab", "x": 1}]}) == "/ZTF23aaaaaab"
    assert R.clicked_object(None) is None and R.clicked_object({"points": []}) is None
    assert list(fig.data[1].customdata) == ["ZTF23aaaaaab"]


# -- on stores: the simulator's, and the real night -------------------------------------------------
@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A small simulated store (2 nights of about 150 alerts), and an app serving it."""
    from conftest import make_config
    from index import create_app
    from ingest.night import ingest
    from ingest.simulator.cli import main

    root = tmp_path_factory.mktemp("search-sim")
    assert main([str(root / "alerts"), "--quiet", "--nights", "2", "--alerts-per-night", "150", "--seed", "5",
                 "--no-cutouts", "--with-fink-values"]) == 0
    cfg = make_config("embedded", root)
    ingest(root / "alerts", cfg, show_progress=False)
    return create_app(cfg)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The real night of 2023-10-18 (558 alerts once ingested) and Fink's enriched sample, and an app serving them."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
    from index import create_app
    from portal_helpers import ingest_real

    return create_app(ingest_real(tmp_path_factory.mktemp("search-real")))


def _in(app):
    from api.access import current_store

    ctx = app.test_request_context(base_url="http://portal.example:8123")
    ctx.push()
    return current_store(), ctx


@pytest.mark.parametrize("which", ["simulated", "real"])
def test_every_example_finds_results_in_the_store_served(request, which):
    store, ctx = _in(request.getfixturevalue(which))
    try:
        S._examples.clear()
        examples = S.examples(store)
        assert set(examples) == {"An object", "A cone (deg, arcsec)", "A cone (sexagesimal, 1′)", "A class",
                                 "A night", "An asteroid"}
        for label, text in examples.items():
            found = S.find(store, S.parse(text))
            assert len(found.alerts) > 0, f"{label}: {text} finds nothing"
        oid = examples["An object"]
        assert oid in set(S.find(store, S.parse(examples["A cone (deg, arcsec)"])).alerts["i:objectId"])
        assert oid in set(S.find(store, S.parse(examples["A cone (sexagesimal, 1′)"])).alerts["i:objectId"])
        assert S.examples(store) is examples  # cached
    finally:
        ctx.pop()


def test_the_home_page_shows_the_stores_examples(simulated):
    sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
    from portal_helpers import render_page

    store, ctx = _in(simulated)
    try:
        examples = S.examples(store)
    finally:
        ctx.pop()
    page = render_page(simulated.test_client(), "/")
    for text in examples.values():
        assert json.dumps(quote(text))[1:-1] in page, text
    assert "ZTF23abjexnw" not in page and "sso%3A%204712" not in page


def test_a_class_matches_in_any_case_and_near_misses_get_a_suggestion(simulated):
    store, ctx = _in(simulated)
    try:
        label = S.examples(store)["A class"].removeprefix("class: ")
        found = S.find(store, S.parse(f"class: {label.lower()}"))
        assert found.search.params["class"] == label and len(found.alerts) > 0
        assert f"you typed {label.lower()!r}" in found.search.describe()
        typo = label[:-1].lower() + ("x" if label[-1] != "x" else "y")
        missed = S.find(store, S.parse(f"class: {typo}"))
        assert missed.alerts.empty and f"class: {label}" in missed.suggestions
        assert S.find(store, S.parse("class: zzzzqqq")).suggestions == []
    finally:
        ctx.pop()


def test_names_are_resolved_from_the_store_then_online_with_a_time_limit(simulated, monkeypatch):
    from api.annotations import annotate
    from api.queries import resolver

    store, ctx = _in(simulated)
    try:
        oid = S.examples(store)["An object"]
        annotate(store, "vera", oid, "spectrum taken", ["followup"], "SN 2025xyz")
        for text in ("SN 2025xyz", "sn 2025XYZ", "2025xyz", "AT 2025xyz", "name: SN 2025xyz"):
            found = S.find(store, S.parse(text))
            assert found.search == S.Search("objectId", {"objectId": oid}, found.search.note), text
            assert set(found.alerts["i:objectId"]) == {oid} and oid in found.search.note
        sso = S.examples(store)["An asteroid"].removeprefix("sso: ")
        assert S.find(store, S.parse(f"name: {sso}")).search.kind == "sso"

        def offline(name):
            raise OSError("[Errno -2] Name or service not known")
        monkeypatch.setattr(resolver, "_sesame", offline)
        with pytest.raises(S.SearchError, match="not reachable from this server.*give its coordinates"):
            S.find(store, S.parse("Vega"))

        def slow(name):
            time.sleep(1)
            return 0.0, 0.0
        monkeypatch.setattr(resolver, "_sesame", slow)
        monkeypatch.setattr(resolver, "ONLINE_TIMEOUT_S", 0.1)
        with pytest.raises(S.SearchError, match="did not answer within 0.1 s"):
            S.find(store, S.parse("Vega"))

        alert = S.find(store, S.parse(oid)).alerts.iloc[0]
        monkeypatch.setattr(resolver, "_sesame", lambda name: (float(alert["i:ra"]), float(alert["i:dec"])))
        found = S.find(store, S.parse("Vega"))
        assert found.search.kind == "cone" and "resolved by CDS Sesame" in found.search.describe()
        assert oid in set(found.alerts["i:objectId"])
    finally:
        ctx.pop()


def _candids(frame) -> list:
    return sorted(map(int, frame["i:candid"]))


def test_a_date_search_cut_at_max_rows_says_so_and_its_api_calls_answer_its_rows(real, monkeypatch):
    from api import queries as q
    from apps.components import results as R

    monkeypatch.setattr(S, "MAX_ROWS", 100)
    store, ctx = _in(real)
    try:
        found = S.find(store, S.parse("date: 2023-10-18"))
        html = json.dumps(R.results(found, "http://portal.example:8123").to_plotly_json(), default=str)
        night = int(q.statistics(store, "20231018")["basic:sci"].iloc[0])  # the night's alerts, as ingested
    finally:
        ctx.pop()
    assert night > 500 and len(found.alerts) == 100 and found.total == night and found.capped
    assert f"first 100 of {night} alerts" in html and "Download the 100 shown" in html
    client = real.test_client()
    endpoint, params = S.api_call(found.search)
    shown = client.post(f"/api/v1/{endpoint}", json={**params, "output-format": "json"}).get_json()
    assert _candids(pd.DataFrame(shown)) == _candids(found.alerts)
    full = S.api_url("http://portal.example:8123", *S.api_call(found.search, found.total), "json")
    assert full in html.replace("\\u0026", "&")
    every = client.get(full.removeprefix("http://portal.example:8123")).get_json()
    assert len(every) == night and set(_candids(found.alerts)) <= set(_candids(pd.DataFrame(every)))


@pytest.mark.parametrize("text", ["5.38 54.69 30", "date: 2023-10-18", "class: SN candidate", "ZTF23abjexnw",
                                  "sso: 4712", "ztf18adljlvp"])
def test_the_api_call_of_a_search_answers_the_rows_shown(real, text):
    store, ctx = _in(real)
    try:
        found = S.find(store, S.parse(text))
    finally:
        ctx.pop()
    assert not found.capped and len(found.alerts) > 0
    endpoint, params = S.api_call(found.search)
    answer = real.test_client().post(f"/api/v1/{endpoint}", json={**params, "output-format": "json"})
    assert answer.status_code == 200, answer.data[:300]
    assert _candids(pd.DataFrame(answer.get_json())) == _candids(found.alerts)
