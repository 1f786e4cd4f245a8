"""The science tabs of the Rubin object page (/lsst/<diaObjectId>), in-process.

A small seeded Rubin simulation (RR Lyrae and microlensing, with ground truth) is ingested
into a fresh embedded store, with one diaObject written beside it with the store API that
has too few points to fit. The tabs are the ZTF page's, run through the Rubin survey seam
(:mod:`apps.science_tabs.survey`): the page lists them, opening one renders it, the variable
star tab finds the true period, the microlensing tab fits, the supernova tab shows Fink's
Rubin scores and says what ZTF has that Rubin has not, and a short curve gets a message.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dash import html

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from conftest import make_config  # noqa: E402
from portal_helpers import layout_nodes, render_page  # noqa: E402
from test_science_tabs import _figures, _messages  # noqa: E402

SHORT = 169999999999990001   # three r-band diaSources: too few for any fit


def _put_short_object(store) -> None:
    sources, objects = store.table("sources"), store.table("objects")
    for i in range(3):
        row = {"r:diaObjectId": SHORT, "r:diaSourceId": 900 + i, "r:midpointMjdTai": 61100.0 + i,
               "r:band": "r", "r:psfFlux": 5000.0, "r:psfFluxErr": 100.0, "r:scienceFlux": 9000.0,
               "r:scienceFluxErr": 100.0, "r:ra": 150.0, "r:dec": 2.0}
        sources.put(sources.keys.build(SHORT, 61100.0 + i, 900 + i), row)
    objects.put(objects.keys.build(SHORT), {"r:diaObjectId": SHORT, "r:ra": 150.0, "r:dec": 2.0,
                                            "r:diaSourceId": 902})


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """(Flask app, truth table) over a one-night Rubin simulation of RR Lyrae and microlensing."""
    from index import create_app
    from ingest.night import ingest
    from ingest.simulator.cli import main as simulate
    tmp = tmp_path_factory.mktemp("rubin-tabs")
    assert simulate([str(tmp / "sim"), "--quiet", "--survey", "rubin", "--nights", "1", "--alerts-per-night", "30",
                     "--seed", "3", "--no-avro", "--no-cutouts", "--mix", "rrlyrae=0.5,microlensing=0.5"]) == 0
    cfg = make_config("embedded", tmp)
    ingest(tmp / "sim" / "parquet", cfg, show_progress=False)
    app = create_app(cfg.replace(api_rate_limit=0))
    with app.app_context():
        from api.access import rubin_store
        _put_short_object(rubin_store())
    truth = pd.read_csv(tmp / "sim" / "truth.csv")
    return app, truth[truth.n_alerts > 0]


def _best(truth, kind: str) -> str:
    return str(truth[truth.type == kind].sort_values("n_alerts", ascending=False).diaObjectId.iloc[0])


def _find(component, id_: str):
    """The component ``id_`` under ``component``."""
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            found = _find(child, id_)
            if found is not None:
                return found
    return None


def _open(app, object_id: str, tab: str):
    """The tab as the page's tab callback renders it the first time it is opened."""
    from apps.pages import rubin_object
    with app.test_request_context("/"):
        out = rubin_object.science_tab(tab, object_id, [])
    keys = list(rubin_object.SCIENCE_TABS)
    assert out[-1] == [tab]
    return out[keys.index(tab)]


def test_the_rubin_page_has_the_science_tabs(portal):
    app, truth = portal
    page = render_page(app.test_client(), f"/lsst/{_best(truth, 'rrlyrae')}")
    tabs = [n["props"]["label"] for n in layout_nodes(json.loads(page)) if n.get("type") == "Tab"]
    assert tabs == ["Summary", "Supernova", "Variable star", "Microlensing"]


def test_variable_star_tab_finds_the_true_period_of_a_simulated_rr_lyrae(portal):
    app, truth = portal
    from apps.science_tabs import varstar
    oid = _best(truth, "rrlyrae")
    tab = _open(app, oid, "varstar")
    key = _find(tab, "vs-key").data
    assert key["survey"] == "rubin" and key["objectId"] == oid and key["n"] > 50
    photometry = _find(tab, "vs-history")
    assert photometry.value == "forced" and {o["value"] for o in photometry.options} == {"none", "forced"}
    fit = getattr(varstar.fit_varstar, "__wrapped__", varstar.fit_varstar)  # the background job's body
    with app.test_request_context("/"):
        out = html.Div(fit(1, key, *[varstar.DEFAULTS[k] for k in ("period_min", "period_max", "nterms_base",
                                                                    "nterms_band")], None, photometry.value))
    period = float(truth.set_index("diaObjectId").loc[int(oid), "period"])
    found = float(str(out).split("Td('")[1].split("'")[0])
    assert found == pytest.approx(period, rel=2e-3)
    figures = {f.layout.title.text: f for f in _figures(out)}
    folded = next(f for t, f in figures.items() if t.startswith("Folded"))
    groups = list(dict.fromkeys(t.legendgroup for t in folded.data))
    assert groups == [b for b in "ugrizy" if b in groups] and len(groups) >= 3  # Rubin's bands by name, in order
    assert "scienceFlux" in folded.layout.yaxis.title.text
    unfolded = next(f for t, f in figures.items() if t.startswith("Model over time"))
    assert unfolded.layout.xaxis.title.text == "MJD (TAI)" and 60000 < min(unfolded.data[0].x) < 70000
    assert not _messages(out)


def test_microlensing_tab_fits_a_simulated_rubin_event(portal):
    app, truth = portal
    from apps.science_tabs import microlensing
    oid = _best(truth, "microlensing")
    tab = _open(app, oid, "microlensing")
    key = _find(tab, "ml-key").data
    fit = getattr(microlensing.fit_microlensing, "__wrapped__", microlensing.fit_microlensing)
    with app.test_request_context("/"):
        out = html.Div(fit(key, _find(tab, "ml-history").value))
    assert not _messages(out)
    (fig,) = _figures(out)
    assert fig.layout.title.text == "PSPL fit (all bands)"
    assert sum(len(t.y) for t in fig.data if t.mode == "markers") > 20
    assert "MJD TAI" in fig.layout.xaxis2.title.text and 60000 < min(fig.data[0].x) < 70000
    t0 = float(str(out).split("Th('t0 [MJD TAI]'), Td('")[1].split(" ")[0])
    assert t0 == pytest.approx(float(truth.set_index("diaObjectId").loc[int(oid), "t0"]), abs=5)


def test_supernova_tab_shows_rubin_scores_and_says_what_has_no_rubin_meaning(portal):
    app, truth = portal
    tab = _open(app, _best(truth, "rrlyrae"), "supernova")
    text = str(tab)
    assert "no Rubin counterpart" in text and "Fink tag" in text
    # faint forced difference fluxes (<= 0: no magnitude) would bias a transient's fit: not by default
    assert _find(tab, "sn-history").value == "none"
    for fig in _figures(tab):
        assert sum(len([v for v in (t.y if t.y is not None else []) if v is not None]) for t in fig.data) > 0


@pytest.mark.parametrize("tab", ["supernova", "varstar", "microlensing"])
@pytest.mark.parametrize("object_id", [str(SHORT), "169999999999990002", "not-a-diaObjectId", str(2**64)])
def test_an_object_too_short_or_missing_gives_a_message_not_an_exception(portal, tab, object_id):
    app, _ = portal
    from apps.science_tabs import microlensing, supernova, varstar
    from apps.science_tabs.survey import RUBIN
    with app.test_request_context("/"):
        store = RUBIN.store()
        if tab == "supernova":
            out = html.Div(supernova.content(store, object_id, None, RUBIN))
        elif tab == "varstar":
            out = html.Div(varstar.results(store, object_id, dict(varstar.DEFAULTS), None, RUBIN))
        else:
            out = html.Div(microlensing.results(store, object_id, None, RUBIN))
    messages = _messages(out)
    assert messages and all(isinstance(m, str) and len(m) > 10 for m in messages), messages
    expected = "Cannot fit this light curve" if object_id == str(SHORT) else object_id
    assert any(expected in m for m in messages), messages
    assert not any(fig.data for fig in _figures(out) if tab != "supernova")


def test_a_tab_already_open_is_not_drawn_again(portal):
    from dash import no_update

    from apps.pages import rubin_object
    app, truth = portal
    with app.test_request_context("/"):
        out = rubin_object.science_tab("varstar", _best(truth, "rrlyrae"), ["varstar"])
    assert all(o is no_update for o in out)
    assert np.all([o is no_update for o in rubin_object.science_tab("summary", "1", [])])
    assert np.all([o is no_update for o in rubin_object.science_tab("varstar", "1 OR 1", [])])
