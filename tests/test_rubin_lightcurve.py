"""The Rubin light curve (apps/components/rubin_lightcurve.py) on made-up photometry whose every
value is known: six bands, detections and forced photometry, flux and AB magnitude."""
import math

import pandas as pd
import pytest

from apps.components import rubin_lightcurve as RL

BANDS = list("ugrizy")


def _frames():
    """Per band two detections (psfFlux 1000 and -50 nJy) and one forced source (100 nJy)."""
    src, fp = [], []
    for k, band in enumerate(BANDS):
        src.append({"r:diaSourceId": 170000000000000000 + 2 * k, "r:midpointMjdTai": 61000.0 + k, "r:band": band,
                    "r:psfFlux": 1000.0, "r:psfFluxErr": 10.0, "r:scienceFlux": 2000.0, "r:scienceFluxErr": 20.0})
        src.append({"r:diaSourceId": 170000000000000001 + 2 * k, "r:midpointMjdTai": 61000.5 + k, "r:band": band,
                    "r:psfFlux": -50.0, "r:psfFluxErr": 10.0, "r:scienceFlux": 900.0, "r:scienceFluxErr": 20.0})
        fp.append({"r:diaForcedSourceId": 990000000000000000 + k, "r:midpointMjdTai": 60990.0 + k, "r:band": band,
                   "r:psfFlux": 100.0, "r:psfFluxErr": 5.0, "r:scienceFlux": 1100.0, "r:scienceFluxErr": 8.0})
    return pd.DataFrame(src), pd.DataFrame(fp)


@pytest.fixture
def phot():
    src, fp = _frames()
    return RL.photometry(src, fp, alerts=[170000000000000000])


def _traces(fig, kind=None):
    out = {}
    for t in fig.data:
        if t.customdata is None:
            continue
        kinds = {row[1] for row in t.customdata}
        assert len(kinds) == 1, "a trace holds one kind of point"
        if kind is None or kind in kinds:
            out[t.name] = t
    return out


def test_every_band_has_detections_and_forced_points_in_flux(phot):
    fig = RL.figure(phot, unit="flux")
    det, fp = _traces(fig, "det"), _traces(fig, "fp")
    assert set(det) == set(BANDS)
    assert set(fp) == {f"{b} forced" for b in BANDS}
    for band in BANDS:
        assert sorted(det[band].y) == [-50.0, 1000.0]  # a negative flux is drawn in flux
        assert list(fp[f"{band} forced"].y) == [100.0]
        # forced photometry is drawn differently from detections
        assert det[band].marker.symbol == "circle" and fp[f"{band} forced"].marker.symbol == "diamond-open"
        assert det[band].marker.color == fp[f"{band} forced"].marker.color == RL.BAND_COLOURS[band]
    assert fig.layout.yaxis.title.text == "psfFlux [nJy]"


def test_magnitudes_are_ab_from_njy_and_leave_out_non_positive_fluxes(phot):
    fig = RL.figure(phot, unit="mag")
    det, fp = _traces(fig, "det"), _traces(fig, "fp")
    assert set(det) == set(BANDS) and len(fp) == 6
    for band in BANDS:
        assert list(det[band].y) == pytest.approx([31.4 - 2.5 * math.log10(1000.0)])  # -50 nJy has no magnitude
        assert list(det[band].error_y.array) == pytest.approx([2.5 / math.log(10) * 10.0 / 1000.0])
        assert list(fp[f"{band} forced"].y) == pytest.approx([31.4 - 2.5 * math.log10(100.0)])  # 26.4
    assert fig.layout.yaxis.autorange == "reversed"  # brighter is up
    science = _traces(RL.figure(phot, unit="mag", flux="scienceFlux"), "det")
    assert sorted(science["r"].y) == pytest.approx(sorted([31.4 - 2.5 * math.log10(v) for v in (2000.0, 900.0)]))


def test_toggles_hide_forced_points_or_detections(phot):
    only_det = RL.figure(phot, show=("det",))
    assert _traces(only_det, "fp") == {} and len(_traces(only_det, "det")) == 6
    only_fp = RL.figure(phot, show=("fp",))
    assert _traces(only_fp, "det") == {} and len(_traces(only_fp, "fp")) == 6


def test_alerts_are_marked_and_clickable_and_the_selected_one_ringed(phot):
    fig = RL.figure(phot, selected="170000000000000000")
    u = _traces(fig, "det")["u"]
    rows = {row[0]: row for row in u.customdata}
    # ids are strings (JS numbers cannot hold 64-bit ids); only the alert with cutouts is flagged
    assert bool(rows["170000000000000000"][2])
    assert not rows["170000000000000001"][2]
    ring = [t for t in fig.data if t.name == "selected source"]
    assert len(ring) == 1 and list(ring[0].y) == [1000.0]


def test_no_measurement_gives_an_empty_figure_with_a_note():
    fig = RL.figure(RL.photometry(pd.DataFrame(), pd.DataFrame()))
    assert not fig.data and "No measurement" in fig.layout.annotations[0].text
