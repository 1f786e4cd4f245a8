"""The object page's science tabs, and the fit endpoints, on good and bad light curves.

A small seeded simulation (supernovae, RR Lyrae, microlensing) is ingested into a fresh
embedded store; bad light curves are written beside it with the store API: one point,
only upper limits, NaN magnitudes, a single band of three points, a flat line. Each tab's
layout is rendered for a real object of its kind (its figures must carry data), the tab
callbacks are called directly on the bad objects (a message, never an exception), and
the API answers 4xx for them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import make_config

JD0 = 2460700.5
BAD = {
    "ZTF25badonep": [(JD0, 18.0, 0.05, 2)],                                     # one point
    "ZTF25badnanm": [(JD0 + i, float("nan"), 0.05, 1 + i % 2) for i in range(20)],  # NaN magnitudes
    "ZTF25badoneb": [(JD0 + i, 18.0 + 0.1 * i, 0.05, 2) for i in range(3)],       # a single band, 3 points
    "ZTF25badflat": [(JD0 + i * 0.7, 18.0, 0.05, 1 + i % 2) for i in range(40)],  # a flat line
}
UPPER_ONLY = "ZTF25badupper"                                                    # only upper limits
KINDS = {"supernova": "sn_ia", "varstar": "rrlyrae", "microlensing": "microlensing"}


def _put_bad_objects(store) -> None:
    main, upper = store.table("main"), store.table("upper")
    candid = 3000000000000000000
    for oid, points in BAD.items():
        for jd, mag, err, fid in points:
            candid += 1
            main.put(main.keys.build(oid, jd, candid), {
                "i:objectId": oid, "i:jd": jd, "i:magpsf": mag, "i:sigmapsf": err, "i:fid": fid,
                "i:candid": candid, "i:isdiffpos": "t", "i:ra": 150.0, "i:dec": 30.0,
                "i:magnr": None, "i:distnr": 20.0})
    for i in range(5):
        upper.put(upper.keys.build(UPPER_ONLY, JD0 + i), {"i:jd": JD0 + i, "i:fid": 1, "i:diffmaglim": 20.5})


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """(Flask app, store, truth table) over a small simulation plus the bad light curves."""
    from index import create_app
    from ingest.night import ingest
    from ingest.simulator.cli import main as simulate
    tmp = tmp_path_factory.mktemp("tabs")
    sim = tmp / "sim"
    assert simulate(["--nights", "20", "--alerts-per-night", "120", "--seed", "5", "--no-cutouts", "--quiet",
                     "--mix", "sn_ia=0.35,rrlyrae=0.35,microlensing=0.3", str(sim)]) == 0
    cfg = make_config("embedded", tmp)
    ingest(sim, cfg, show_progress=False)
    app = create_app(cfg)
    with app.app_context():
        from api.access import current_store
        store = current_store()
        _put_bad_objects(store)
        yield app, store, pd.read_csv(sim / "truth.csv")


def _figures(component) -> list:
    """Every dcc.Graph figure under ``component``."""
    out = []

    def walk(c):
        if hasattr(c, "figure") and getattr(c, "figure", None) is not None:
            out.append(c.figure)
        children = getattr(c, "children", None)
        for child in children if isinstance(children, (list, tuple)) else [children]:
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)
    walk(component)
    return out


def _messages(component) -> list[str]:
    found = []

    def walk(c):
        if "science-message" in (getattr(c, "className", "") or ""):
            found.append(c.children)
        children = getattr(c, "children", None)
        for child in children if isinstance(children, (list, tuple)) else [children]:
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)
    walk(component)
    return found


def _best(truth, kind: str) -> str:
    rows = truth[truth.type == KINDS[kind]].sort_values("n_alerts", ascending=False)
    return rows.objectId.iloc[0]


def _render(app, store, kind: str, object_id: str):
    """The tab as a user sees it: layout, then the background job's results."""
    from dash import html

    from apps.science_tabs import microlensing, supernova, varstar
    with app.test_request_context("/"):
        if kind == "supernova":
            return supernova.layout(object_id)
        if kind == "varstar":
            return html.Div([varstar.layout(object_id), *varstar.results(store, object_id, dict(varstar.DEFAULTS))])
        return html.Div([microlensing.layout(object_id), *microlensing.results(store, object_id)])


@pytest.mark.parametrize("kind", ["supernova", "varstar", "microlensing"])
def test_tab_draws_a_real_object_of_its_kind(portal, kind):
    app, store, truth = portal
    tab = _render(app, store, kind, _best(truth, kind))
    figures = _figures(tab)
    assert not _messages(tab) or kind == "supernova", _messages(tab)
    assert len(figures) >= {"supernova": 4, "varstar": 2, "microlensing": 1}[kind]
    for fig in figures:
        points = sum(len([v for v in (trace.y if trace.y is not None else []) if v is not None]) for trace in fig.data)
        assert points > 0, f"an empty figure in the {kind} tab: {fig.layout.title.text}"


@pytest.mark.parametrize("object_id", [*BAD, UPPER_ONLY, "ZTF25nosuchob"])
@pytest.mark.parametrize("kind", ["supernova", "varstar", "microlensing"])
def test_bad_light_curve_gives_a_message_not_an_exception(portal, kind, object_id):
    app, store, _ = portal
    from apps.science_tabs import microlensing, supernova, varstar
    with app.test_request_context("/"):
        if kind == "supernova":
            tab = supernova.layout(object_id)
        elif kind == "varstar":
            tab = varstar.results(store, object_id, dict(varstar.DEFAULTS))
        else:
            tab = microlensing.results(store, object_id)
    messages = _messages(tab if not isinstance(tab, list) else __import__("dash").html.Div(tab))
    assert messages and all(isinstance(m, str) and len(m) > 10 for m in messages), messages
    assert not any(fig.data and kind != "supernova" for fig in _figures(tab if not isinstance(tab, list) else
                                                                        __import__("dash").html.Div(tab)))


@pytest.mark.parametrize("object_id", [*BAD, UPPER_ONLY])
@pytest.mark.parametrize("endpoint", ["varstar", "mulens", "supernova"])
def test_api_answers_4xx_for_bad_light_curves(portal, endpoint, object_id):
    app, _, _ = portal
    r = app.test_client().get(f"/api/v1/fit/{endpoint}", query_string={"objectId": object_id})
    assert 400 <= r.status_code < 500, (r.status_code, r.get_data(as_text=True)[:300])
    body = r.get_json()
    assert body["status"] == "error" and body["message"]


def test_varstar_inputs_are_checked(portal):
    from apps.science_tabs.varstar import params_from
    assert params_from(0.1, 1.2, 3, 1, None)[0] == {"period_min": 0.1, "period_max": 1.2, "nterms_base": 3,
                                                    "nterms_band": 1}
    assert params_from(0.1, 1.2, 3, 1, 0.5)[0]["period"] == 0.5
    # empty terms (the tab's default): chosen for the number of points by the fit, as the API's default
    auto = params_from(0.1, 1.2, None, "", None)[0]
    assert auto["nterms_base"] is None and auto["nterms_band"] is None
    assert params_from(0.1, 1.2, 2, None, None)[0]["nterms_base"] == 2
    assert params_from(0.1, 1.2, 1.5, 1, None)[0] is None
    for bad in [(None, 1.2, 1, 1, None), (1.2, 0.1, 1, 1, None), (0.1, 1.2, 0, 0, None), (0.1, 1.2, 9, 1, None),
                (0.1, 1.2, 1, 1, -2.0)]:
        params, why = params_from(*bad)
        assert params is None and why, bad


def test_varstar_background_callback_runs_in_process(portal):
    """The background job's body (what the forked process runs) gives the same results."""
    app, store, truth = portal
    from apps.science_tabs import varstar
    from apps.science_tabs._common import data_version
    oid = _best(truth, "varstar")
    fn = getattr(varstar.fit_varstar, "__wrapped__", varstar.fit_varstar)
    with app.test_request_context("/"):
        out = fn(1, data_version(store, oid), 0.1, 1.2, 3, 1, None)
        bad = fn(1, data_version(store, oid), 1.2, 0.1, 3, 1, None)
    assert _figures(__import__("dash").html.Div(out))
    assert _messages(__import__("dash").html.Div(bad))


def test_magnitude_rates_skip_same_night_pairs():
    from apps.science_tabs._plots import rates
    r = rates([1.0, 1.05, 2.0, 4.0], [18.0, 18.1, 18.5, 19.5], [2, 2, 2, 2])["r"]
    assert np.allclose(r["rate"], [(18.5 - 18.1) / 0.95, 0.5])


def test_time_axes_are_plain_numbers_labelled_with_their_unit():
    """MJD axes showed "60.6765k": every time axis is plain numbers and says its unit: MJD for
    the per-alert plots, JD for a fit's plot (the unit of its fitted times, t0 or the peak)."""
    from apps.science_tabs import _plots as P
    lc = {"jd": np.array([2460676.5, 2460680.5, 2460690.5]), "band": np.array([1, 2, 1])}
    figs = [(P.colour_figure({"jd": lc["jd"], "colour": [0.1, 0.2, 0.3]}), "MJD", 60000, 2400000),
            (P.rates_figure(P.rates(lc["jd"], [18.0, 18.2, 18.4], [1, 1, 1])), "MJD", 60000, 2400000),
            (P.fit_figure(lc, [18.0, 18.1, 18.2], [0.1] * 3, {}, lambda *_: None, "t", "mag"), "JD", 2400000, 1e7)]
    for fig, unit, low, high in figs:
        axes = [fig.layout[k] for k in fig.layout if k.startswith("xaxis")]
        assert all(a.exponentformat == "none" for a in axes)
        assert any(unit in (a.title.text or "") for a in axes)
        assert low < min(fig.data[0].x) < high  # the numbers are in the unit the label says


def test_periodogram_is_clipped_to_the_searched_range_with_readable_ticks():
    from apps.science_tabs import _plots as P
    periods = np.geomspace(0.1, 1.2, 50)
    fig = P.periodogram_figure(periods, np.linspace(0, 1, 50), 0.5, (0.1, 1.2))
    assert fig.layout.xaxis.type == "log"
    assert np.allclose(fig.layout.xaxis.range, np.log10([0.1, 1.2]))
    assert list(fig.layout.xaxis.tickvals) == [0.1, 0.2, 0.5, 1.0]
    narrow = P.periodogram_figure(np.linspace(0.4, 0.8, 20), np.ones(20), 0.5, (0.4, 0.8))
    assert narrow.layout.xaxis.type == "linear" and list(narrow.layout.xaxis.range) == [0.4, 0.8]
    assert P.period_ticks(0.3, 0.9) == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def test_unfolded_model_follows_the_folded_model_over_time():
    """The variable star's model over time: the folded curve evaluated at each time."""
    from apps.science_tabs import _plots as P
    period, epoch = 0.5, 2460000.2
    phase = np.linspace(0, 1, 100, endpoint=False)
    result = {"period": period, "epoch": epoch, "model": {"g": {"phase": phase, "mag": 18 + np.sin(2 * np.pi * phase)}}}
    jd = np.array([2460000.0, 2460000.3, 2460001.1, 2460100.0, 2460100.4])
    lc = {"jd": jd, "mag": np.full(5, 18.0), "err": np.full(5, 0.05), "band": np.ones(5, int)}
    t = jd + 3 * period
    assert np.allclose(P.model_at_times(result, "g", t), 18 + np.sin(2 * np.pi * np.mod((t - epoch) / period, 1)),
                       atol=2e-3)
    fig = P.unfolded_figure(lc, result)
    model = next(tr for tr in fig.data if tr.name == "g model")
    x = np.asarray(model.x, float)
    assert np.isnan(x).sum() == 1  # two seasons, the line broken between them
    assert np.nanmin(x) <= jd.min() - 2400000.5 and np.nanmax(x) >= jd.max() - 2400000.5 - period / 20
    assert fig.layout.xaxis.exponentformat == "none" and "MJD" in fig.layout.xaxis.title.text


def test_varstar_tab_shows_the_unfolded_model_beside_the_folded_one(portal):
    app, store, truth = portal
    tab = _render(app, store, "varstar", _best(truth, "varstar"))
    titles = [f.layout.title.text for f in _figures(tab)]
    assert any(t.startswith("Folded at") for t in titles) and any(t.startswith("Model over time") for t in titles)


def test_varstar_inputs_persist_per_object():
    from dash import dcc

    from apps.science_tabs import varstar
    found = []

    def walk(c):
        if isinstance(c, dcc.Input):
            found.append(c)
        kids = getattr(c, "children", None)
        for k in kids if isinstance(kids, list) else [kids]:
            if k is not None and not isinstance(k, str):
                walk(k)
    import unittest.mock as mock
    with mock.patch.object(varstar, "data_version", lambda *_: {}), mock.patch("api.portal_gateway.store", lambda: None):
        walk(varstar.layout("ZTF21abcdefg"))
    assert found and all(i.persistence == "ZTF21abcdefg" and i.persistence_type == "session" for i in found)


def _warning_boxes(component) -> list:
    found = []

    def walk(c):
        if "science-warnings" in (getattr(c, "className", "") or ""):
            found.append(c)
        children = getattr(c, "children", None)
        for child in children if isinstance(children, (list, tuple)) else [children]:
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)
    walk(component)
    return found


def _items(box) -> list[tuple[str, str]]:
    return [(li.title, li.children) for li in box.children[1].children]


@pytest.mark.parametrize("kind", ["supernova", "varstar", "microlensing"])
def test_fit_warnings_render_in_a_box(portal, monkeypatch, kind):
    """Each tab shows the fit's ``warnings`` (code, message) in a visible box above the fit."""
    from dash import html

    from api import queries as q
    from apps.science_tabs import _common
    app, store, truth = portal
    oid = _best(truth, kind)
    real = q.fit
    said = [{"code": "poor_fit", "message": "chi2/dof = 65.6 for the model, above 5."},
            {"code": "parameter_at_bound", "message": "tE = 500 d is at the upper bound of its range."}]

    def with_warnings(*args, **kwargs):
        return {**real(*args, **kwargs), "warnings": said}
    with app.test_request_context("/"):
        monkeypatch.setattr(_common.q, "fit", with_warnings)
        warned = _render(app, store, kind, oid)
    boxes = _warning_boxes(warned)
    assert len(boxes) == 1 and boxes[0].role == "alert"
    assert _items(boxes[0]) == [(w["code"], w["message"]) for w in said]
    assert _figures(html.Div(warned))  # the fit is still drawn, under its warnings


def test_microlensing_tab_shows_the_fits_own_warnings_and_time_unit(portal):
    """A fit with few points per band (the simulation's events) warns, and the plot's time
    axis is in the unit of the fitted t0."""
    from apps.science_tabs import microlensing
    app, store, truth = portal
    found = None
    for oid in truth[truth.type == "microlensing"].sort_values("n_alerts", ascending=False).objectId[:6]:
        with app.test_request_context("/"):
            tab = __import__("dash").html.Div(microlensing.results(store, oid))
        if _warning_boxes(tab):
            found = tab
            break
    assert found is not None, "no simulated event gave a warning"
    fig = _figures(found)[0]
    assert fig.layout.xaxis2.title.text == "time [JD]"
    t0_line = [s for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1]
    data_x = [x for tr in fig.data for x in (tr.x if tr.x is not None else [])]
    assert t0_line and min(data_x) - 500 < t0_line[0].x0 < max(data_x) + 500  # same unit as the data


def test_fit_plot_marks_each_kind_of_point():
    from apps.science_tabs._plots import KIND_MARKERS, fit_figure
    lc = {"jd": np.array([JD0, JD0 + 1, JD0 + 2]), "band": np.array([1, 1, 1]),
          "kind": np.array(["alert", "history", "forced"])}
    fig = fit_figure(lc, [18.0, 18.1, 18.2], [0.1, 0.1, 0.1], {}, lambda b, jd: None, "t", "mag")
    symbols = {tr.name: tr.marker.symbol for tr in fig.data}
    assert symbols == {f"g {KIND_MARKERS[k][1]}": KIND_MARKERS[k][0] for k in ("alert", "history", "forced")}
    assert len(set(symbols.values())) == 3
