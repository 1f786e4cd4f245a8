"""Rubin's survey in numbers: bands, depths, flux units, times and identifiers.

Light-curve models (``..populations``) are survey-neutral but give fluxes in
three model bands (g, r, i; magnitude 25 is flux 1).  A Rubin band reads the
nearest model band times a fixed colour factor (u is fainter than g for the
typical source, z and y a little brighter than i), which keeps every model's
shape (a periodic star folds the same in every band) while giving six bands.

Fluxes are written in nJy (AB: m = 31.4 - 2.5 log10(f / nJy)); times as MJD in
TAI, which runs 37 s ahead of UTC since 2017.  Identifiers are 64-bit integers:
``visit = dayObs * 100000 + sequence`` (dayObs the local date of the night's
start, as Rubin counts), ``diaSourceId`` packs the visit's ordinal, the
detector and the source's index on that detector, so ids grow with time and
never collide; a ``diaObjectId`` is the ``diaSourceId`` of its first source,
and an ``ssObjectId`` the bytes of the packed MPC designation read as a
big-endian integer (as in Rubin's alerts).
"""

from __future__ import annotations

import numpy as np

BANDS = "ugrizy"
#: model band (0 g, 1 r, 2 i of ..populations) read for each Rubin band
MODEL_BAND = np.array([0, 0, 1, 2, 2, 2])
#: flux in the Rubin band / flux in its model band
COLOUR_FACTOR = np.array([0.55, 1.0, 1.0, 1.0, 1.08, 1.12])
#: median single-visit 5-sigma depth (AB mag, 30 s visit, dark sky, 0.7" seeing)
M5 = np.array([23.7, 24.9, 24.4, 23.9, 23.3, 22.4])
MOON_PENALTY = np.array([1.0, 0.6, 0.4, 0.25, 0.15, 0.1])
SEEING_MEDIAN = 0.75                       # arcsec, FWHM
#: share of visits per band in the wide survey
BAND_SHARE = np.array([0.07, 0.09, 0.22, 0.22, 0.20, 0.20])

AB_NJY = 31.4                              # AB magnitude of 1 nJy
MODEL_TO_NJY = 10 ** (0.4 * (AB_NJY - 25.0))
TAI_UTC = 37.0 / 86400                     # days
MJD_JD = 2400000.5
PIXSCALE = 0.2                             # arcsec / pixel
N_DETECTORS = 189
DETECTOR_NX, DETECTOR_NY = 4072, 4000
DETECTOR_SIDE = 0.226                      # deg (13.7 x 13.7 detectors on a 3.1 deg square)
FIELD_SIDE = 3.1                           # deg


def njy(mag):
    """nJy of an AB magnitude."""
    return 10 ** (-0.4 * (np.asarray(mag) - AB_NJY))


def ab_mag(f_njy):
    return AB_NJY - 2.5 * np.log10(f_njy)


def mjd_tai(jd_utc):
    return np.asarray(jd_utc) - MJD_JD + TAI_UTC


# ------------------------------------------------------------------ identifiers
ID_BASE = 169_000_000_000_000_000          # keeps ids in the range of Rubin's 2026 alerts


def dia_source_ids(visit_ordinal, detector, index):
    """64-bit ids: visit ordinal (2^20 visits), detector (2^8), object index (2^28)."""
    return (ID_BASE + (np.asarray(visit_ordinal, np.int64) << 36)
            + (np.asarray(detector, np.int64) << 28) + np.asarray(index, np.int64))


def forced_source_ids(visit_ordinal, detector, index):
    """Forced sources: the same packing in another id range (bit 62 set)."""
    return dia_source_ids(visit_ordinal, detector, index) + (np.int64(1) << 62) - ID_BASE


_CYCLE = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def designation(ztf_style: str, rng_value: float) -> tuple[str, str]:
    """(unpacked, packed) MPC provisional designation of an asteroid name.

    ``ztf_style`` is what ``..populations`` draws: a provisional designation
    without its space (``2004AB12``) or a number; a numbered asteroid gets a
    provisional designation of its discovery year drawn from ``rng_value``.
    """
    if ztf_style.isdigit():
        n = int(ztf_style)
        year = 1995 + n % 29
        half = "ABCDEFGHJKLMNOPQRSTUVWXY"[n % 24]
        second = "ABCDEFGHJKLMNOPQRSTUVWXYZ"[(n // 24) % 25]
        cycle = int(rng_value * 150)
    else:
        year, half, second = int(ztf_style[:4]), ztf_style[4], ztf_style[5]
        cycle = int(ztf_style[6:] or 0)
    unpacked = f"{year} {half}{second}{cycle if cycle else ''}"
    century = "IJK"[year // 100 - 18]
    packed = f"{century}{year % 100:02d}{half}{_CYCLE[cycle // 10]}{cycle % 10}{second}"
    return unpacked, packed


def ss_object_id(packed: str) -> int:
    return int.from_bytes(packed.encode("ascii"), "big")
