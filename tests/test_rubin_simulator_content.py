"""The Rubin simulator's alerts as science: truth, ids, fluxes, summaries, forced photometry,
periodic and solar-system sources, Fink values, determinism and options."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from ingest.simulator.cli import main
from rubin_sim import alerts, rows, run, same, simulate, truth  # noqa: F401  (fixtures)

REAL = "rubin-fink-2026-03-10"
#: differences from the real files' schema that are documented (none: names, nesting and types match)
DOCUMENTED_DIFFERENCES: set[str] = set()
WINDOW = 365.0


def test_truth_lists_every_object(run, alerts):
    tr = truth(run)
    objects = tr[tr.type != "asteroid"].set_index("diaObjectId")
    asteroids = tr[tr.type == "asteroid"].set_index("ssObjectId")
    counts: dict = {}
    for a in alerts:
        s = a["diaSource"]
        key = ("ss", s["ssObjectId"]) if s["ssObjectId"] else ("dia", s["diaObjectId"])
        counts[key] = counts.get(key, 0) + 1
        if s["ssObjectId"]:
            assert s["diaObjectId"] == 0 and s["ssObjectId"] in asteroids.index
            assert asteroids.loc[s["ssObjectId"], "designation"] == a["ssSource"]["designation"]
        else:
            assert s["diaObjectId"] in objects.index
    for (what, oid), n in counts.items():
        assert (asteroids if what == "ss" else objects).loc[oid, "n_alerts"] == n
    assert tr.n_alerts.sum() == len(alerts)
    assert {"sn_ia", "sn_ii", "rrlyrae", "periodic", "agn", "microlensing", "asteroid", "bogus"} <= \
        set(tr[tr.n_alerts > 0].type)
    need = {"sn_ia": ["z", "t0", "t_peak", "tau_rise", "mag_r"], "rrlyrae": ["period", "amp_g", "t0"],
            "microlensing": ["u0", "tE", "fs"], "agn": ["drw_tau", "drw_sf"], "asteroid": ["ss_rate"]}
    for kind, cols in need.items():
        assert tr.loc[tr.type == kind, cols].notna().all().all(), kind
    sn = tr[(tr.type == "sn_ia") & (tr.n_alerts > 0)]
    assert ((sn.t_peak > 61000) & (sn.t_peak < 61200)).all()                 # MJD, like the alerts


def test_ids_are_unique_64_bit_and_objects_named_by_their_first_source(alerts):
    seen = {}
    named = 0
    for a in alerts:
        srcs = [a["diaSource"]] + (a["prvDiaSources"] or [])
        for s in srcs:
            assert 0 < s["diaSourceId"] < 2 ** 63
            assert seen.setdefault(s["diaSourceId"], s["midpointMjdTai"]) == s["midpointMjdTai"]
        if a["diaSource"]["ssObjectId"]:
            continue
        first = min(srcs, key=lambda s: s["midpointMjdTai"])
        oid = a["diaSource"]["diaObjectId"]
        assert oid <= first["diaSourceId"]              # named by a source at or before the window's first
        if a["diaObject"]["nDiaSources"] == len(srcs):  # the whole history is in the window
            assert oid == first["diaSourceId"]
            named += 1
    assert named > 50
    ids = sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))
    assert [i for i, _ in ids] == sorted(seen), "ids grow with time"


# --------------------------------------------------------------------------- photometry
def test_fluxes_are_njy_at_the_truth_magnitudes(run, alerts):
    """m = 31.4 - 2.5 log10(f / nJy): a star's template flux is its reference magnitude."""
    tr = truth(run).set_index("diaObjectId")
    factor = {"u": 0.55, "g": 1.0, "r": 1.0, "i": 1.0, "z": 1.08, "y": 1.12}
    model = {"u": "g", "g": "g", "r": "r", "i": "i", "z": "i", "y": "i"}
    checked = 0
    for a in alerts:
        s = a["diaSource"]
        if s["ssObjectId"] or tr.loc[s["diaObjectId"], "type"] not in ("rrlyrae", "periodic", "microlensing"):
            continue
        b = s["band"]
        expected = tr.loc[s["diaObjectId"], f"magnr_{model[b]}"] - 2.5 * np.log10(factor[b])
        assert abs(31.4 - 2.5 * np.log10(s["templateFlux"]) - expected) < 0.02
        # science = template + difference (the template measured with 5 % of the visit's noise)
        assert abs(s["scienceFlux"] - s["templateFlux"] - s["psfFlux"]) < 0.3 * s["psfFluxErr"]
        checked += 1
    assert checked > 20


def test_dia_object_summarises_the_sources(alerts):
    for a in alerts:
        if not a["prvDiaSources"]:
            continue
        srcs = [a["diaSource"]] + a["prvDiaSources"]
        o = a["diaObject"]
        assert o["nDiaSources"] >= len(srcs) and o["diaObjectId"] == a["diaSource"]["diaObjectId"]
        if o["nDiaSources"] != len(srcs):
            continue                                  # history older than the window
        for b in "ugrizy":
            f = np.array([s["psfFlux"] for s in srcs if s["band"] == b])
            assert o[f"{b}_psfFluxNdata"] == len(f)
            if len(f):
                tol = 1e-6 * np.abs(f).max()             # fluxes are float32 in the alert
                assert o[f"{b}_psfFluxMean"] == pytest.approx(f.mean(), rel=1e-5, abs=tol)
                assert o[f"{b}_psfFluxMax"] == pytest.approx(f.max(), rel=1e-6)
                assert dict(a["lc_features"])[b]["mean"] == pytest.approx(f.mean(), rel=1e-5, abs=tol)
            else:
                assert o[f"{b}_psfFluxMean"] is None


def test_forced_photometry_covers_the_months_before_each_alert(run, alerts):
    tr = truth(run).set_index("diaObjectId")
    reach = []
    for a in alerts:
        s = a["diaSource"]
        if s["ssObjectId"]:
            assert a["prvDiaForcedSources"] is None and a["prvDiaSources"] is None
            continue
        fs = a["prvDiaForcedSources"]
        t = s["midpointMjdTai"]
        times = np.array([f["midpointMjdTai"] for f in fs])
        assert (times < t).all() and (times >= t - WINDOW).all() and (np.diff(times) > 0).all()
        assert {f["diaObjectId"] for f in fs} == {s["diaObjectId"]}
        visits = {f["visit"] for f in fs}
        assert {p["visit"] for p in a["prvDiaSources"] or []} <= visits      # every detection was measured
        reach.append(t - times.min())
        if tr.loc[s["diaObjectId"], "type"] == "sn_ia":
            # before the explosion, forced photometry is consistent with no flux
            t0 = tr.loc[s["diaObjectId"], "t0"]
            early = [f for f in fs if f["midpointMjdTai"] < t0 - 30]
            if early:
                pulls = np.array([f["psfFlux"] / f["psfFluxErr"] for f in early])
                assert np.mean(np.abs(pulls) < 4) > 0.95
    assert np.median(reach) > 300         # about a year of visits (minus the season's gap)
    assert len(reach) > 100


def test_later_alerts_repeat_earlier_forced_photometry(alerts):
    by_obj: dict = {}
    for a in alerts:
        if a["prvDiaForcedSources"]:
            by_obj.setdefault(a["diaSource"]["diaObjectId"], []).append(a)
    pairs = 0
    for lst in by_obj.values():
        lst.sort(key=lambda a: a["diaSource"]["midpointMjdTai"])
        for early, late in zip(lst, lst[1:]):
            start = late["diaSource"]["midpointMjdTai"] - WINDOW      # the window slides
            e = {f["diaForcedSourceId"]: f for f in early["prvDiaForcedSources"] if f["midpointMjdTai"] >= start}
            lt = {f["diaForcedSourceId"]: f for f in late["prvDiaForcedSources"]}
            assert set(e) <= set(lt) and all(same(e[k], lt[k]) for k in e)
            assert len(lt) > len(e)                                    # and adds the visits in between
            pairs += 1
    assert pairs > 20


def _roughness(t, m, period):
    order = np.argsort(np.mod(t / period, 1.0))
    return np.mean(np.abs(np.diff(m[order])))


def test_rrlyrae_folds_at_the_true_period(tmp_path):
    out = simulate(tmp_path / "rr", "--nights", "2", "--alerts-per-night", "120", "--seed", "11",
                   "--no-cutouts", "--no-avro", "--mix", "rrlyrae=1")
    tr = truth(out).set_index("diaObjectId")
    best = max((a for a in rows(out) if a["prvDiaForcedSources"]), key=lambda a: len(a["prvDiaForcedSources"]))
    fs = best["prvDiaForcedSources"]
    band = max("ugrizy", key=lambda b: sum(f["band"] == b for f in fs))
    pts = np.array([(f["midpointMjdTai"], 31.4 - 2.5 * np.log10(f["scienceFlux"])) for f in fs if f["band"] == band])
    assert len(pts) >= 15
    row = tr.loc[best["diaSource"]["diaObjectId"]]
    assert row.type == "rrlyrae"
    t, m = pts.T
    good = _roughness(t, m, row.period)
    wrong = [_roughness(t, m, row.period * f) for f in (0.83, 0.91, 1.07, 1.19, 1.31)]
    assert good < 0.5 * min(wrong), (good, wrong)


# --------------------------------------------------------------------------- solar system
def test_solar_system_sources_are_consistent(alerts):
    n = 0
    for a in alerts:
        s, ss, mpc = a["diaSource"], a["ssSource"], a["mpc_orbits"]
        if not s["ssObjectId"]:
            assert ss["ssObjectId"] is None and mpc["designation"] is None
            continue
        n += 1
        packed = mpc["packed_primary_provisional_designation"]
        assert s["ssObjectId"] == ss["ssObjectId"] == int.from_bytes(packed.encode(), "big")
        assert ss["designation"] == mpc["designation"] == mpc["unpacked_primary_provisional_designation"]
        assert ss["diaSourceId"] == s["diaSourceId"] and a["pred"]["is_sso"]
        assert all(a["diaObject"][k] is None for k in a["diaObject"])
        helio = np.array([ss["helio_x"], ss["helio_y"], ss["helio_z"]])
        topo = np.array([ss["topo_x"], ss["topo_y"], ss["topo_z"]])
        assert np.linalg.norm(helio) == pytest.approx(ss["helioRange"], rel=1e-5)
        assert np.linalg.norm(topo) == pytest.approx(ss["topoRange"], rel=1e-5)
        assert mpc["q"] == pytest.approx(mpc["a"] * (1 - mpc["e"]))
        assert json.loads(mpc["mpc_orb_jsonb"])["designation_data"]["packed_primary_provisional_designation"] == packed
        assert ss["ephOffset"] < 1.0 and 0 <= ss["phaseAngle"] < 90 and ss["elongation"] > 60
    assert n > 10


def test_fink_values_follow_the_truth(run, alerts):
    tr = truth(run).set_index("diaObjectId")
    right = total = 0
    for a in alerts:
        kind = "asteroid" if a["diaSource"]["ssObjectId"] else tr.loc[a["diaSource"]["diaObjectId"], "type"]
        assert a["pred"]["is_sso"] == (kind == "asteroid")
        assert a["pred"]["main_label_classifier"] == a["clf"]["cats_class"]
        assert set(dict(a["lc_features"])) <= set("ugrizy") and a["diaSource"]["band"] in dict(a["lc_features"])
        if kind in ("sn_ia", "sn_ii", "rrlyrae", "periodic", "agn"):
            total += 1
            right += a["clf"]["cats_class"] == {"sn_ia": 11, "sn_ii": 11, "agn": 22}.get(kind, 21)
    assert right > 0.7 * total


# --------------------------------------------------------------------------- determinism, CLI
def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tmp_path):
    args = ["--nights", "2", "--alerts-per-night", "60", "--seed", "5", "--wire"]
    a = _tree(simulate(tmp_path / "a", *args))
    b = _tree(simulate(tmp_path / "b", *args, "--workers", "2"))
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
    c = _tree(simulate(tmp_path / "c", *args[:5], "6"))
    assert a["parquet/lsst_20260310.parquet"] != c["parquet/lsst_20260310.parquet"]


def test_survey_specific_options_are_refused_elsewhere(tmp_path, capsys):
    assert main([str(tmp_path / "x"), "--quiet", "--survey", "rubin", "--tar"]) == 2
    assert "--tar does not apply to --survey rubin" in capsys.readouterr().err
    assert main([str(tmp_path / "y"), "--quiet", "--wire"]) == 2
    assert "--wire does not apply to --survey ztf" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_raw_run_has_no_fink_values(tmp_path):
    out = simulate(tmp_path / "raw", "--nights", "1", "--alerts-per-night", "60", "--raw", "--no-cutouts")
    names = pq.read_schema(out / "parquet" / "lsst_20260310.parquet").names
    assert names[-1] == "cutoutTemplate" and "clf" not in names
    summary = json.loads((out / "simulation.json").read_text())
    assert summary["survey"] == "rubin" and summary["fink_values"] is False


