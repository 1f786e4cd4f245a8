"""The Rubin example chips of the home page (the survey switch on Rubin) come from the Rubin
store served: on a simulated Rubin store (not the real sample) every chip finds results."""
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from apps import search as S  # noqa: E402
from apps.components import rubin_results as RR  # noqa: E402
from conftest import make_config  # noqa: E402
from index import create_app  # noqa: E402
from ingest.night import ingest  # noqa: E402
from ingest.simulator.cli import main as simulate  # noqa: E402
from portal_helpers import render_page  # noqa: E402
from store import open_store  # noqa: E402
from hbase_schema import get_schema  # noqa: E402


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rubin-examples")
    assert simulate([str(tmp / "sim"), "--quiet", "--survey", "rubin", "--nights", "2", "--alerts-per-night", "60",
                     "--seed", "11", "--no-avro", "--no-cutouts"]) == 0
    cfg = make_config("embedded", tmp)
    ingest(tmp / "sim" / "parquet", cfg, show_progress=False)
    return create_app(cfg.replace(api_rate_limit=0)), cfg


def _chips(page: str) -> dict[str, str]:
    """Chip label -> search text, read from the links of the rendered home page."""
    chips = re.findall(r'"children": "([^"]+)", "href": "(/\?q=[^"]+)"', page)
    chips += [(label, href) for href, label in re.findall(r'"href": "(/\?q=[^"]+)"[^{}]*?"children": "([^"]+)"', page)]
    out = {}
    for label, href in chips:
        query = parse_qs(urlparse(href).query)
        assert query["survey"] == ["rubin"]
        out[label] = unquote(query["q"][0])
    return out


def test_every_rubin_chip_finds_results_on_a_simulated_store(app):
    flask_app, cfg = app
    S._examples.clear()
    page = render_page(flask_app.test_client(), "/", "?survey=rubin")
    chips = _chips(page)
    assert set(chips) == {"A Rubin object", "A Rubin cone"}
    with open_store(cfg, schema=get_schema("rubin")) as store:
        for label, text in chips.items():
            search = S.rubin_search(text, "rubin") or S.parse(text)  # as the Rubin results callback reads it
            rows = RR.run(store, search)
            assert len(rows), f"{label} ({text}) finds nothing"
        oid = chips["A Rubin object"]
        assert oid in set(RR.run(store, S.parse(chips["A Rubin cone"]))["diaObjectId"])


def test_no_rubin_tables_no_rubin_chips():
    assert S.rubin_examples(None) == {}
    assert S.rubin_example_searches({}) == {}
