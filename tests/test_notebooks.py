"""One-click notebooks and "open in portal", end to end against a live server (tests/live_server.py):
the portal (in-process, reached with the live server's address as its Host) writes the notebook
of a results page and of an object page; nbclient runs it in a python3 kernel, where it loads
the query through nocturne_client over HTTP, to the end, and finds the page's rows.
``Client.portal_url`` goes the other way: the URL it gives, loaded through Dash's router,
shows the rows the client's query answers.

The kernel imports the client from ``client/`` through its PYTHONPATH, set here: the notebook
stays the one a user downloads (no path of this checkout in it), the shared venv is not changed
by a test run, and ``pip install ./client`` has its own test (tests/test_client.py)."""
from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest

from tests.conftest import ROOT
from tests.live_server import live  # noqa: F401  (the fixture)

sys.path.insert(0, str(ROOT / "client"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from nocturne_client import Client  # noqa: E402
from portal_helpers import render_page  # noqa: E402

import ipykernel  # noqa: E402,F401  (pinned in requirements.txt: the kernel nbclient starts)
import nbclient  # noqa: E402  (pinned: a missing one is an error, never a skip)


@pytest.fixture(scope="module")
def portal(live):
    """The portal over the live server's store; requests carry the live server's address as their
    Host, so the pages' ``base_url()`` is the address the notebooks' client will call."""
    from index import create_app
    app = create_app(live.config)
    return app.test_client(), live.url


def dash_call(portal, output: dict, inputs: list[dict], state: list[dict] | None = None) -> dict:
    client, base = portal
    body = {"output": f"{output['id']}.{output['property']}", "outputs": output, "inputs": inputs,
            "state": state or [], "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    r = client.post("/_dash-update-component", json=body, base_url=base)
    assert r.status_code in (200, 204), r.data[:500]
    if r.status_code == 204:  # no_update
        return None
    return r.get_json()["response"].get(output["id"], {}).get(output["property"])  # {}: no_update


def component(tree, cid):
    """The props of the component with id ``cid`` in a Dash layout's JSON, or None."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == cid:
            return tree["props"]
        values = tree.values()
    elif isinstance(tree, list):
        values = tree
    else:
        return None
    for value in values:
        found = component(value, cid)
        if found is not None:
            return found
    return None


def page(portal, url: str) -> dict:
    """The layout of the portal page at ``url`` (path and query), through Dash's router."""
    client, base = portal
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == base
    return json.loads(render_page(client, parts.path, f"?{parts.query}" if parts.query else ""))


def results_rows(portal, text: str) -> list[str]:
    """The objectIds of the results table the search ``text`` shows."""
    out = dash_call(portal, {"id": "search-results", "property": "children"},
                    [{"id": "search-query", "property": "data", "value": text}])
    grid = component(out, "results-grid")
    assert grid is not None, json.dumps(out)[:500]
    return [row["objectId"].split("]")[0].lstrip("[") for row in grid["rowData"]]


def object_candids(layout) -> list[str]:
    phot = component(layout, "object-phot")["data"]
    return sorted(c for c, t in zip(phot["candid"], phot["tag"]) if t == "valid")


def run_notebook(nb, cell: str, tmp_path) -> dict:
    """Runs ``nb`` with ``cell`` appended (the test's own probe, printing JSON) in a python3 kernel;
    the probe's output."""
    nb.cells.append(nbformat.v4.new_code_cell(cell))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "client"), "MPLBACKEND": "agg"}
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute(cwd=str(tmp_path), env=env)
    for c in nb.cells[:-1]:
        assert not [o for o in c.get("outputs", []) if o.output_type == "error"], c
    return json.loads("".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream"))


def downloaded(data: dict) -> nbformat.NotebookNode:
    assert data["filename"].endswith(".ipynb")
    raw = base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode()
    nb = nbformat.reads(raw.decode(), as_version=4)
    nbformat.validate(nb)
    return nb


def cone_of(live, dataset: str) -> str:
    alert = Client(live.url).objects(live.ztf[dataset][0], columns="i:ra,i:dec").iloc[0]
    return f"{alert['i:ra']} {alert['i:dec']} 600"


@pytest.mark.parametrize("dataset", ["real", "sim"])
def test_the_results_notebook_reloads_the_pages_rows(live, portal, tmp_path, dataset):
    text = cone_of(live, dataset)
    shown = results_rows(portal, text)
    assert len(shown) >= 1
    nb = downloaded(dash_call(portal, {"id": "results-notebook-download", "property": "data"},
                              [{"id": "results-notebook", "property": "n_clicks", "value": 1}],
                              [{"id": "search-query", "property": "data", "value": text}]))
    assert f"Client({live.url!r})" in nb.cells[1].source
    probe = run_notebook(nb, "import json\nprint(json.dumps({'ids': list(table['objectId']), "
                             "'figures': len(plt.get_fignums()), 'plotted': sum(len(c.get_offsets()) "
                             "for c in ax.collections)}))", tmp_path)
    assert probe["ids"] == shown
    assert probe["plotted"] == len(shown)  # every row on the sky plot


def test_the_results_notebook_of_a_class_and_of_a_night(live, portal, tmp_path):
    from apps import notebooks as NB
    from apps import search as S
    alerts = Client(live.url).objects(live.ztf["real"][:20], columns="i:objectId,d:classification")
    label = alerts["d:classification"].dropna().iloc[0]  # a class the store holds alerts of
    day = S.parse("date: 2023-10-18")
    texts = {f"class: {label};20": None, f"date: {day.params['start']!r} / {day.params['stop']!r}": None}
    for text in texts:
        texts[text] = results_rows(portal, text)
        assert texts[text], text
    cells = "\n".join(f"alerts = None\n{NB.query_code(S.parse(t))}\nrows.append(alerts)" for t in texts)
    nb = NB.results_notebook(S.parse(next(iter(texts))), live.url)
    # the same table code over each query's alerts
    probe = "import json\nrows = []\n" + cells + "\nout = []\nfor alerts in rows:\n" + "\n".join(
        "    " + line for line in NB.TABLE.splitlines()[:-1]) + "\n    out.append(list(table['objectId']))\n" \
        "print(json.dumps(out))"
    assert run_notebook(nb, probe, tmp_path) == list(texts.values())


@pytest.mark.parametrize("dataset", ["real", "sim"])
def test_the_object_notebook_reloads_the_pages_alerts(live, portal, tmp_path, dataset):
    oid = live.ztf[dataset][0]
    shown = object_candids(page(portal, f"{live.url}/{oid}"))
    nb = downloaded(dash_call(portal, {"id": "object-notebook-download", "property": "data"},
                              [{"id": "object-notebook", "property": "n_clicks", "value": 1}],
                              [{"id": "object-id", "property": "data", "value": oid}]))
    probe = run_notebook(nb, "import json\nprint(json.dumps({'candids': sorted(map(str, detections['i:candid'])), "
                             "'lines': len(ax.lines) + len(ax.collections), 'title': ax.get_title()}))", tmp_path)
    assert probe["candids"] == shown and probe["title"] == oid and probe["lines"] >= 1


def test_the_rubin_object_notebook_reloads_the_pages_sources(live, portal, tmp_path):
    oid = live.rubin["real"][0]  # a real Rubin alert's diaObject
    layout = page(portal, f"{live.url}/lsst/{oid}")
    assert component(layout, "rubin-object-notebook") is not None  # the button is on the page
    figure = component(layout, "rubin-lc-graph")["figure"]  # each point's customdata: [id, kind, alert]
    shown = {kind: sorted(str(c[0]) for trace in figure["data"] for c in (trace.get("customdata") or [])
                          if c[1] == kind) for kind in ("det", "fp")}
    per_band = {kind: sorted((t["name"].split()[0], len(t["customdata"])) for t in figure["data"] if t.get("customdata")
                             and t["customdata"][0][1] == kind) for kind in ("det", "fp")}
    nb = downloaded(dash_call(portal, {"id": "rubin-object-notebook-download", "property": "data"},
                              [{"id": "rubin-object-notebook", "property": "n_clicks", "value": 1}],
                              [{"id": "rubin-object-id", "property": "data", "value": str(oid)}]))
    setup = nb.cells[1].source
    assert f"Client({live.url + '/lsst'!r})" in setup and f"OBJECT = {oid!r}\n" in setup
    probe = run_notebook(nb, "import json\nprint(json.dumps({'det': sorted(map(str, sources['r:diaSourceId'])), "
                             "'fp': sorted(map(str, forced['r:diaForcedSourceId'])), "
                             "'figures': len(plt.get_fignums()), 'drawn': [[c.get_label(), c.lines[0].get_marker(), "
                             "len(c.lines[0].get_xdata())] for c in ax.containers], "
                             "'title': ax.get_title(), "
                             "'xlabel': ax.get_xlabel()}))", tmp_path)
    assert probe["det"] == shown["det"] and len(probe["det"]) >= 1
    assert probe["fp"] == shown["fp"]
    # every source drawn once, in its band: diaSources as circles, forced photometry as diamonds
    for kind, marker, word in (("det", "o", "diaSources"), ("fp", "D", "forced")):
        drawn = [(label.split(":")[0], n) for label, m, n in probe["drawn"] if label.endswith(word) and m == marker]
        assert sorted(drawn) == per_band[kind] and sum(n for _, n in drawn) == len(probe[kind]), probe["drawn"]
    assert probe["figures"] == 1
    assert probe["title"] == str(oid) and probe["xlabel"] == "MJD (TAI)"


@pytest.mark.parametrize("store_id, value", [("rubin-object-id", "ZTF23abjexnw"), ("rubin-object-id", ""),
                                             ("object-id", "12345")])
def test_an_object_notebook_needs_the_pages_kind_of_id(portal, store_id, value):
    prefix = store_id[: -len("-id")]
    out = dash_call(portal, {"id": f"{prefix}-notebook-download", "property": "data"},
                    [{"id": f"{prefix}-notebook", "property": "n_clicks", "value": 1}],
                    [{"id": store_id, "property": "data", "value": value}])
    assert out is None


def test_a_search_without_rows_or_text_gives_no_notebook(portal):
    out = dash_call(portal, {"id": "results-notebook-download", "property": "data"},
                    [{"id": "results-notebook", "property": "n_clicks", "value": 1}],
                    [{"id": "search-query", "property": "data", "value": "date: tomorrow"}])
    assert out is None


# -- "open in portal": Client.portal_url ---------------------------------------------------------
def home_query(layout, store_id: str) -> str:
    return component(layout, store_id)["data"]


def test_portal_url_of_a_ztf_object_shows_its_alerts(live, portal):
    ztf = Client(live.url)
    oid = live.ztf["sim"][0]
    url = ztf.portal_url(oid)
    assert url == f"{live.url}/{oid}"
    assert object_candids(page(portal, url)) == sorted(map(str, ztf.objects(oid)["i:candid"]))


@pytest.mark.parametrize("dataset", ["real", "sim"])
def test_portal_url_of_a_cone_shows_the_clients_rows(live, portal, dataset):
    ztf = Client(live.url)
    alert = ztf.objects(live.ztf[dataset][0], columns="i:ra,i:dec").iloc[0]
    url = ztf.portal_url(ra=alert["i:ra"], dec=alert["i:dec"], radius=600)
    rows = results_rows(portal, home_query(page(portal, url), "search-query"))
    assert sorted(rows) == sorted(ztf.conesearch(alert["i:ra"], alert["i:dec"], 600)["i:objectId"])


def test_portal_url_of_a_date_window_and_of_a_class(live, portal):
    ztf = Client(live.url)
    url = ztf.portal_url(startdate="2025-01-01", stopdate="2025-01-02")  # the simulated night: < 1000 alerts
    rows = results_rows(portal, home_query(page(portal, url), "search-query"))
    window = ztf.table("explorer", startdate="2025-01-01", stopdate="2025-01-02", n=1000)
    assert len(rows) >= 1 and sorted(rows) == sorted(set(window["i:objectId"]))
    assert set(rows) == set(live.ztf["sim"])
    label = ztf.objects(live.ztf["real"][:20], columns="d:classification")["d:classification"].dropna().iloc[0]
    url = ztf.portal_url(class_=label, n=15)
    rows = results_rows(portal, home_query(page(portal, url), "search-query"))
    assert sorted(rows) == sorted(set(ztf.latests(label, n=15)["i:objectId"]))


def test_portal_url_of_a_rubin_object_and_cone(live, portal):
    rubin = Client(live.url + "/lsst")
    oid = live.rubin["real"][0]
    url = rubin.portal_url(oid)
    assert url == f"{live.url}/lsst/{oid}"
    layout = page(portal, url)
    assert component(layout, "rubin-object-id")["data"] == str(oid)
    figure = component(layout, "rubin-lc-graph")["figure"]  # each point's customdata: [id, kind, alert]
    shown = sorted(str(c[0]) for trace in figure["data"] for c in (trace.get("customdata") or []) if c[1] == "det")
    assert shown == sorted(map(str, rubin.sources(oid)["r:diaSourceId"]))
    obj = rubin.objects(oid).iloc[0]
    url = rubin.portal_url(ra=obj["r:ra"], dec=obj["r:dec"], radius=60)
    assert url.endswith("&survey=rubin")
    text = home_query(page(portal, url), "rubin-search-query")
    out = dash_call(portal, {"id": "rubin-search-results", "property": "children"},
                    [{"id": "rubin-search-query", "property": "data", "value": text}])
    rows = [r["diaObjectId"].split("]")[0].lstrip("[") for r in component(out, "rubin-results-grid")["rowData"]]
    near = rubin.conesearch(obj["r:ra"], obj["r:dec"], 60)
    assert str(oid) in rows
    assert sorted(rows) == sorted(str(i) for i in near["r:diaObjectId"] if i != 0)  # the portal lists no SSO alert


@pytest.mark.parametrize("kwargs, words", [
    ({}, "takes one query"), ({"object_id": "ZTF23abjexnw", "ra": 1.0, "dec": 2.0}, "takes one query"),
    ({"ra": 1.0}, "both ra and dec"), ({"object_id": ["ZTF23abjexnw", "ZTF18adljlvp"]}, "one object per page"),
    ({"ra": 1.0, "dec": 2.0, "n": 5}, "n goes with class_"), ({"stopdate": "2023-10-19"}, "needs its startdate"),
])
def test_portal_url_refuses_what_the_portal_cannot_show(kwargs, words):
    with pytest.raises(ValueError, match=words):
        Client("http://h").portal_url(**kwargs)
    with pytest.raises(ValueError, match="ZTF route"):
        Client("http://h/lsst").portal_url(class_="SN candidate")
    assert Client("http://h/lsst").portal_url(1, portal="http://p/") == "http://p/lsst/1"
