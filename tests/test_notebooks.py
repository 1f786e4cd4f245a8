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

nbclient = pytest.importorskip("nbclient")  # requirements.txt pins it; needed in CI
pytest.importorskip("ipykernel")


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


def test_a_search_without_rows_or_text_gives_no_notebook(portal):
    out = dash_call(portal, {"id": "results-notebook-download", "property": "data"},
                    [{"id": "results-notebook", "property": "n_clicks", "value": 1}],
                    [{"id": "search-query", "property": "data", "value": "date: tomorrow"}])
    assert out is None
