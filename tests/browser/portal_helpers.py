"""Shared by the portal tests: a server on the real night, and Dash's router called over HTTP."""
from __future__ import annotations

import json

from conftest import make_config, shared_data

OBJECT = "ZTF18adljlvp"   # 4 alerts, upper limits and a bad-quality point in the real night
OTHER = "ZTF23abjexnw"
RUBIN_OBJECT = 313853517735395444  # real Rubin sample: 1173 diaSources in ugrizy, 1032 forced sources, one alert
RUBIN_NIGHT = "rubin-fink-2026-03-10"


def ingest_real(tmp_path):
    from ingest.night import ingest

    data = shared_data()
    cfg = make_config("embedded", tmp_path)
    ingest(data / "ztf-night-2023-10-18", cfg, show_progress=False)
    ingest(data / "fink-enriched", cfg, show_progress=False)
    return cfg


def ingest_rubin(cfg):
    """The real Rubin alerts (Fink's LSST Parquet) into the store of ``cfg``, beside its ZTF tables."""
    from ingest.night import ingest

    ingest(shared_data() / RUBIN_NIGHT, cfg, show_progress=False)
    return cfg


def render_page(client, path: str, search: str = "") -> str:
    """The page content for ``path`` as the browser gets it: Dash's pages router callback."""
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.data[:500]
    return json.dumps(r.get_json())


def layout_nodes(node):
    """Every component (a dict with ``type`` and ``props``) of a rendered layout's JSON, parents first."""
    if isinstance(node, dict):
        if "props" in node:
            yield node
        for v in node.values():
            yield from layout_nodes(v)
    elif isinstance(node, list):
        for v in node:
            yield from layout_nodes(v)


def call(client, output: dict, inputs: list[dict], state: list[dict] | None = None) -> dict:
    """One callback, as the browser calls it: ``output`` = {"id", "property"}."""
    body = {"output": f"{output['id']}.{output['property']}", "outputs": output, "inputs": inputs,
            "state": state or [], "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code in (200, 204), r.data[:500]
    return r.get_json() if r.status_code == 200 else {}
