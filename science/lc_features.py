"""Fink's light-curve features (``lc_features_g`` / ``lc_features_r``): their order, and
the text form Fink's API serves them in.

Fink 4 writes the features of a band as a record (a dict here); its API answers them as
the text of a JSON array of the values in Fink's order (Fink's schema: "stored as string of
array"), and ``"[]"`` where an alert has none. Clients ``json.loads`` that text.
"""
from __future__ import annotations

import json
import math

import numpy as np

#: Fink's features per band, in the order of its packets (and of the array form).
LC_FEATURES: list[str] = """
    mean weighted_mean standard_deviation median amplitude beyond_1_std cusum
    inter_percentile_range_10 kurtosis linear_trend linear_trend_sigma linear_trend_noise
    linear_fit_slope linear_fit_slope_sigma linear_fit_reduced_chi2
    magnitude_percentage_ratio_40_5 magnitude_percentage_ratio_20_10 maximum_slope
    median_absolute_deviation median_buffer_range_percentage_10 percent_amplitude
    mean_variance anderson_darling_normal chi2 skew stetson_K
    """.split()


def _number(value):
    """A JSON-safe number: None for NaN, infinities and what is not a number."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def as_fink_text(value) -> str:
    """The features of one alert as Fink's API gives them: ``"[v1, v2, ...]"`` in
    :data:`LC_FEATURES` order (null for a missing or non-finite value) from a dict, a list
    kept as is (numbers made JSON-safe), text returned unchanged, ``"[]"`` for none."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        values = [_number(value.get(name)) for name in LC_FEATURES]
    elif isinstance(value, (list, tuple)):
        values = [_number(v) for v in value]
    else:
        return "[]"
    return json.dumps(values, allow_nan=False)


def as_fink_texts(values: list) -> list[str]:
    """:func:`as_fink_text` of many alerts at once: the dicts (the stored form) go through one
    numpy array, the rest one by one; the same texts."""
    out = [None] * len(values)
    at = [i for i, v in enumerate(values) if isinstance(v, dict)]
    if at:
        try:
            table = np.array([[values[i].get(name) for name in LC_FEATURES] for i in at], dtype=float)
        except (TypeError, ValueError):  # a value that is not a number: one by one
            at = []
        else:
            table[~np.isfinite(table)] = np.nan
            for i, row in zip(at, table.tolist()):
                out[i] = json.dumps(row).replace("NaN", "null")  # only numbers: no text to touch
    done = set(at)
    return [out[i] if i in done else as_fink_text(v) for i, v in enumerate(values)]
