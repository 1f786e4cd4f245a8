"""DC magnitudes and fluxes against values computed by hand, and band normalisation."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from science.bands import normalise_band, normalise_bands
from science.photometry import (
    apparent_or_difference,
    dc_flux_jy,
    dc_mag,
    has_source_behind,
    is_positive_difference,
)

K = math.log(10) / 2.5


def by_hand(magpsf, sigmapsf, magnr, sigmagnr, positive):
    ref, diff = 10 ** (-0.4 * magnr), 10 ** (-0.4 * magpsf)
    flux = ref + diff if positive else ref - diff
    sigma = math.hypot(ref * sigmagnr * K, diff * sigmapsf * K)
    return -2.5 * math.log10(flux), sigma / flux / K


def test_positive_difference_matches_hand_and_literal_values():
    mag, err = dc_mag(18.0, 0.05, 17.0, 0.02, "t", 0.5)
    assert isinstance(mag, float) and isinstance(err, float)
    assert mag == pytest.approx(16.6361488, abs=1e-6)
    assert err == pytest.approx(0.0201826, abs=1e-6)
    assert (mag, err) == pytest.approx(by_hand(18.0, 0.05, 17.0, 0.02, True), rel=1e-12)


def test_negative_difference_subtracts_the_flux():
    mag, err = dc_mag(18.0, 0.05, 17.0, 0.02, "f", 1.2)
    assert mag == pytest.approx(17.5512021, abs=1e-6)
    assert (mag, err) == pytest.approx(by_hand(18.0, 0.05, 17.0, 0.02, False), rel=1e-12)


def test_no_source_behind_passes_difference_magnitudes_through():
    mags, errs = dc_mag([18.0, 18.0, 18.0, 18.0], [0.05] * 4, [17.0, 17.0, np.nan, 17.0], [0.02] * 4,
                        ["t", "f", "t", "t"], [1.6, 3.0, 0.5, -999.0])
    assert mags.tolist() == [18.0] * 4 and errs.tolist() == [0.05] * 4


def test_non_positive_flux_gives_nan():
    mags, errs = dc_mag([17.0, 17.5], [0.05, 0.05], [17.5, 17.5], [0.02, 0.02], ["f", "f"], [0.3, 0.3])
    assert np.isnan(mags).all() and np.isnan(errs).all()


def test_isdiffpos_spellings():
    assert is_positive_difference(["t", "T", "1", True, 1, 1.0, "f", "0", False, 0, None]).tolist() == \
        [True] * 6 + [False] * 5
    a = dc_mag(18.0, 0.05, 17.0, 0.02, np.array([True, False]), 0.5)
    b = dc_mag(18.0, 0.05, 17.0, 0.02, ["1", "0"], 0.5)
    np.testing.assert_array_equal(a[0], b[0])
    behind = has_source_behind([0.0, 1.5, 1.51, np.nan], [17, 17, 17, 17])
    assert behind.tolist() == [True, True, False, False]


def test_flux_in_jansky_is_3631_times_the_dc_flux():
    flux, err = dc_flux_jy(18.0, 0.05, 17.0, 0.02, "t", 0.5)
    expected = 3631 * (10 ** (-6.8) + 10 ** (-7.2))
    assert flux == pytest.approx(expected, rel=1e-12)
    assert err == pytest.approx(expected * by_hand(18.0, 0.05, 17.0, 0.02, True)[1] * K, rel=1e-12)
    nan_flux, _ = dc_flux_jy(17.0, 0.05, 17.5, 0.02, "f", 0.5)
    assert math.isnan(nan_flux)


def test_apparent_or_difference_is_json_ready():
    out = apparent_or_difference([18.0, 17.0, 18.0], [0.05] * 3, [17.0, 17.5, 17.0], [0.02] * 3,
                                 ["t", "f", "t"], [0.5, 0.5, 2.0])
    json.dumps(out, allow_nan=False)
    assert out["is_dc"] == [True, True, False]
    assert out["mag"][1] is None and out["mag"][2] == 18.0
    assert out["mag"][0] == pytest.approx(16.6361488, abs=1e-6)


def test_band_labels():
    assert normalise_bands([1, 2, 3, "g", " r ", "I", np.int64(2), 1.0, "2", None, np.nan]).tolist() == \
        ["g", "r", "i", "g", "r", "I", "r", "g", "r", "", ""]
    for bad in (4, 1.5, True):
        with pytest.raises(ValueError):
            normalise_band(bad)


def test_njy_to_mag_is_the_ab_magnitude_of_rubin_fluxes():
    from science.photometry import njy_to_mag
    mag, err = njy_to_mag([36307.805, 1.0, -50.0, 0.0], [3630.7805, 0.1, 5.0, 1.0])
    assert mag[0] == pytest.approx(20.0, abs=1e-3)        # 3631 Jy * 10**-8 = 36.31 uJy
    assert mag[1] == pytest.approx(31.4)                    # 1 nJy
    assert err[0] == pytest.approx(2.5 / np.log(10) * 0.1)  # 10 % in flux
    assert np.isnan(mag[2]) and np.isnan(mag[3]) and np.isnan(err[2])  # no magnitude for f <= 0
