"""Solar-system science: the H, G phase curve, residuals, the simulated asteroid's geometry,
and the object page's Solar System tab on a store holding the simulated asteroid."""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))

from conftest import make_config  # noqa: E402
from ingest.simulator import sso_track  # noqa: E402
from science import phase_curve as PC  # noqa: E402


def test_hg_model_is_h_at_zero_phase_and_fainter_with_phase():
    assert PC.hg_magnitude(0.0, 15.0, 0.15) == pytest.approx(15.0)
    m = PC.hg_magnitude(np.array([0, 5, 10, 20, 30]), 15.0, 0.15)
    assert np.all(np.diff(m) > 0)
    # a larger G flattens the curve: fainter by less at the same phase angle
    assert PC.hg_magnitude(20, 15.0, 0.5) < PC.hg_magnitude(20, 15.0, 0.0)


def test_fit_recovers_h_and_g_from_noisy_points():
    rng = np.random.default_rng(3)
    alpha = rng.uniform(0.5, 25, 60)
    mag = PC.hg_magnitude(alpha, 14.2, 0.3) + rng.normal(0, 0.02, 60)
    fit = PC.fit_hg(alpha, mag, np.full(60, 0.02))
    assert fit["H"] == pytest.approx(14.2, abs=3 * fit["H_err"] + 0.01)
    assert fit["G"] == pytest.approx(0.3, abs=3 * fit["G_err"] + 0.02)
    assert fit["n_points"] == 60 and fit["dof"] == 58


def test_fit_refuses_too_few_points_or_a_narrow_range():
    with pytest.raises(ValueError, match="at least 3"):
        PC.fit_hg([1, 2], [15, 15.1])
    with pytest.raises(ValueError, match="span"):
        PC.fit_hg([5, 5.2, 5.4, 5.5], [15, 15.1, 15.1, 15.2])


def test_phase_angle_from_distances_matches_the_simulators_vectors():
    packets, eph, truth = sso_track.simulate(seed=1)
    alpha = PC.phase_angle(eph["r_au"], eph["delta_au"], 1.0)  # the simulated Earth is at 1 au
    assert np.allclose(alpha, eph["alpha_deg"], atol=1e-6)
    assert eph["alpha_deg"].min() < 2 and eph["alpha_deg"].max() > 15  # opposition and quadrature both covered
    assert len(packets) == truth["n_alerts"] == len(eph)
    assert {p["candidate"]["ssnamenr"] for p in packets} == {truth["ssnamenr"]}
    assert len({p["objectId"] for p in packets}) == len(packets)  # a new objectId per detection, as ZTF


def test_smooth_residuals_are_zero_on_a_smooth_track_and_show_an_outlier():
    jd = 2460000.5 + np.linspace(0, 3, 12)
    ra = 10 + 0.3 * (jd - jd[0]) + 0.01 * (jd - jd[0]) ** 2
    dec = -5 + 0.1 * (jd - jd[0])
    assert PC.smooth_residuals(jd, ra, dec)["rms"] < 1e-6
    dec[6] += 2 / 3600  # 2 arcsec off
    res = PC.smooth_residuals(jd, ra, dec)
    assert int(np.argmax(np.abs(res["dec"]))) == 6 and res["rms"] > 0.3


@pytest.fixture(scope="module")
def asteroid_app(tmp_path_factory):
    from index import create_app
    from ingest.night import ingest

    out = tmp_path_factory.mktemp("sso")
    truth = sso_track.write(out / "sim", seed=7)
    cfg = make_config("embedded", out)
    ingest(out / "sim" / "alerts", cfg, show_progress=False)
    shutil.copy(out / "sim" / "ephemerides.parquet", cfg.data_dir / "sso_ephemerides.parquet")
    return create_app(cfg), cfg, truth


def _find(component, wanted_id):
    """The component with ``wanted_id`` in a Dash layout tree."""
    if getattr(component, "id", None) == wanted_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children] if children is not None else []:
        found = _find(child, wanted_id)
        if found is not None:
            return found
    return None


def _tab(tree, value):
    """The props of the dcc.Tab whose value is ``value`` in a rendered page's JSON."""
    if isinstance(tree, dict):
        if tree.get("type") == "Tab" and tree.get("props", {}).get("value") == value:
            return tree["props"]
        tree = list(tree.values())
    if isinstance(tree, list):
        return next((found for found in map(lambda t: _tab(t, value), tree) if found), None)
    return None


def test_solar_system_tab_draws_a_phase_curve_whose_fit_recovers_the_simulated_h(asteroid_app):
    from apps.science_tabs import solar_system
    from portal_helpers import render_page

    app, cfg, truth = asteroid_app
    first = "ZTF23zssoaaa"
    page = render_page(app.test_client(), f"/{first}")
    tab = _tab(json.loads(page), "sso")
    assert tab["label"] == "Solar System" and not tab.get("disabled")

    with app.test_request_context("/"):
        content = solar_system.layout(first)
    phase = _find(content, "sso-phase").figure
    names = [t.name for t in phase.data]
    assert {"g", "r", "H, G fit g", "H, G fit r"} <= set(names)
    table = json.dumps(_find(content, "sso-hg").to_plotly_json(), default=str)
    for band in ("g", "r"):
        model = next(t for t in phase.data if t.name == f"H, G fit {band}")
        h_fitted = float(model.y[0])  # the model at phase angle 0 is H
        assert h_fitted == pytest.approx(truth["H"][band], abs=0.1), band
        assert f"band {band}" in table
    assert _find(content, "sso-residuals") is not None


def test_without_ephemerides_the_tab_says_why_there_is_no_phase_curve(asteroid_app):
    from apps.science_tabs import solar_system

    app, cfg, truth = asteroid_app
    moved = cfg.data_dir / "sso_ephemerides.parquet"
    moved.rename(moved.with_suffix(".away"))
    try:
        with app.test_request_context("/"):
            content = solar_system.layout("ZTF23zssoaaa")
        text = json.dumps(content.to_plotly_json(), default=str)
        assert "No phase curve" in text and "no phase angle" in text
        assert _find(content, "sso-phase") is None and _find(content, "sso-residuals") is not None
    finally:
        moved.with_suffix(".away").rename(moved)
