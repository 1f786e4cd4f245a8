"""The portal uses Dash's public API only: pages registered by ``dash.register_page`` with
their layout, callbacks attached to each app with ``app.callback``, so several servers can
be built in one process (each answering from its own store), and no module of apps/
reaches into Dash's private modules or the API's route and auth internals."""
import ast
import importlib
import sys
from pathlib import Path

import dash
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from conftest import make_config  # noqa: E402
from index import create_app  # noqa: E402
from portal_helpers import call  # noqa: E402
from store import open_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = {  # module: (path or template, title for an example path)
    "apps.pages.home": ("/", "Nocturne — search alerts"),
    "apps.pages.statistics": ("/statistics", "Statistics · Nocturne"),
    "apps.pages.api_docs": ("/api-docs", "API · Nocturne"),
    "apps.pages.not_found_404": ("/404", "Not found · Nocturne"),
    "apps.pages.object": ("/<object_id>", "ZTF23abjexnw · Nocturne"),
}


def _store_with(tmp_path, object_ids):
    cfg = make_config("embedded", tmp_path)
    with open_store(cfg, create=True) as store:
        main = store.table("main")
        for i, oid in enumerate(object_ids):
            main.put(main.keys.build(oid, 2460235.5 + i, 2481198801415010000 + i), {"i:objectId": oid})
    return cfg


def test_every_page_is_in_dash_page_registry_with_its_own_layout(tmp_path):
    create_app(make_config("embedded", tmp_path))
    registry = dash.page_registry
    assert set(PAGES) <= set(registry)
    for module, (path, title) in PAGES.items():
        page = registry[module]
        assert (page["path_template"] or page["path"]) == path
        # the layout was given to register_page (not filled into the registry by hand)
        assert page["supplied_layout"] is importlib.import_module(module).layout is page["layout"]
        shown = page["title"]("ZTF23abjexnw") if callable(page["title"]) else page["title"]
        assert shown == title
    # the object page's catch-all template comes after every exact path
    assert list(registry)[-1] == "apps.pages.object"


def test_two_servers_in_one_process_each_have_every_callback_and_their_own_store(tmp_path):
    a = create_app(_store_with(tmp_path / "a", ["ZTF23aaaaaaa", "ZTF23aaaaaab"])).test_client()
    b = create_app(_store_with(tmp_path / "b", ["ZTF23aaaaaac"])).test_client()

    def suggestions(client):
        out = call(client, {"id": "search-suggestions", "property": "children"},
                   [{"id": "search-input", "property": "value", "value": "ZTF23aaa"}])
        return [o["props"]["value"] for o in out["response"]["search-suggestions"]["children"]]

    assert suggestions(a) == ["ZTF23aaaaaaa", "ZTF23aaaaaab"]
    assert suggestions(b) == ["ZTF23aaaaaac"]
    deps_a, deps_b = (c.get("/_dash-dependencies").get_json() for c in (a, b))
    outputs = sorted(d["output"] for d in deps_a)
    assert outputs == sorted(d["output"] for d in deps_b)
    for component in ("ann-list", "vs-results", "ml-results", "lc-graph", "stats-body", "search-results"):
        assert any(component in o for o in outputs), component


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "apps").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_portal_imports_only_public_dash_and_its_one_api_layer(path):
    names = _imports(path)
    private_dash = sorted(n for n in names if n.startswith("dash.") and any(p.startswith("_") for p in n.split(".")[1:]))
    assert not private_dash, f"{path.name} imports Dash's private {private_dash}"
    api = sorted(n for n in names if (n == "api" or n.startswith("api.")) and not n.startswith(
        ("api.queries", "api.portal_gateway")) and n not in ("api",))
    assert not api, f"{path.name} reaches past api.queries and api.portal_gateway: {api}"
    below = sorted(n for n in names if n.split(".")[0] in ("store", "ingest", "hbase_schema", "index", "settings"))
    assert not below, f"{path.name} imports {below}; pages go through api.queries / api.portal_gateway"


def test_a_background_fit_runs_in_a_forked_job_on_the_configured_disk_cache(tmp_path):
    """The microlensing tab's callback runs as a Dash background job (a forked process that
    opens its own store) through the app's manager, on the cache in ``dash_jobs_dir``."""
    import time
    jobs = tmp_path / "jobs"
    client = create_app(_store_with(tmp_path, ["ZTF23aaaaaaa"]).replace(dash_jobs_dir=jobs)).test_client()
    body = {"output": "ml-results.children", "outputs": {"id": "ml-results", "property": "children"},
            "inputs": [{"id": "ml-key", "property": "data", "value": {"objectId": "ZTF23zzzzzzz", "n": 0}},
                       {"id": "ml-history", "property": "value", "value": "good"}],
            "state": [], "changedPropIds": ["ml-key.data"]}
    started = client.post("/_dash-update-component", json=body).get_json()
    assert set(started) >= {"cacheKey", "job"}  # a job, not an answer computed in the request
    for _ in range(240):
        r = client.post(f"/_dash-update-component?cacheKey={started['cacheKey']}&job={started['job']}", json=body)
        if r.status_code == 200 and "response" in r.get_json():
            break
        time.sleep(0.25)
    text = str(r.get_json()["response"]["ml-results"])
    assert "ZTF23zzzzzzz has no detection stored here" in text
    assert (jobs / "cache.db").exists()
