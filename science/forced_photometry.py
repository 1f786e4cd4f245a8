"""ZTF forced photometry (the ``fp_hists`` of alert packets 4.x) to fluxes and magnitudes.

Each ``fp_hists`` row measures, at the alert's position, the PSF flux of the difference
image of one earlier exposure, whether or not anything was detected: ``forcediffimflux``
and its 1-sigma ``forcediffimfluxunc`` in DN of that exposure, whose zero point is the
row's own ``magzpsci`` (the packets carry no ``zpdiff``). A row that could not be measured
holds ``-99999`` (with a non-zero ``procstatus``): it is unusable and dropped
(:func:`usable`).

The conversion follows the ZTF forced-photometry service's guide (Masci et al., the
``forcediffimflux`` recipe) with ``magzpsci`` as the zero point, the way Fink and the ZTF
brokers read ``fp_hists``:

- calibrated difference flux in microjansky, on the AB scale (23.9 mag = 1 uJy)::

      flux = forcediffimflux * 10**(-0.4 * (magzpsci - 23.9))
      sigmaflux = forcediffimfluxunc * 10**(-0.4 * (magzpsci - 23.9))

  A difference flux may be negative (fainter than the reference image); it is kept as
  is, so fits and plots in flux see the noise around zero without bias.
- ``snr = forcediffimflux / forcediffimfluxunc``. Where ``snr >= SNT`` (3) the point is a
  detection with a difference magnitude::

      mag = magzpsci - 2.5 log10(forcediffimflux),   sigmamag = 1.0857 / snr

  otherwise ``mag`` and ``sigmamag`` are NaN and the point is an upper limit.
- every point also gets the ``SNU``-sigma (5) upper limit of its exposure::

      maglim = magzpsci - 2.5 log10(5 * forcediffimfluxunc)

A row without a zero point or a positive uncertainty gets NaN for every derived value.
"""
from __future__ import annotations

import numpy as np

UNUSABLE = -99999.0      # ZTF's value of forcediffimflux (and its error) when nothing was measured
UJY_ZERO_POINT = 23.9    # AB magnitude of 1 microjansky: -2.5 log10(1e-6 / 3631)
SNT = 3.0                # signal-to-noise ratio above which a forced point is a detection
SNU = 5.0                # sigma of the upper limit given for every point
MAG_ERR_FACTOR = 2.5 / np.log(10.0)   # 1.0857: sigma_mag = MAG_ERR_FACTOR / snr

DERIVED = ("flux", "sigmaflux", "snr", "mag", "sigmamag", "maglim")


def usable(forcediffimflux) -> np.ndarray:
    """True where a forced flux was measured: finite and not ZTF's ``-99999``.

    Parameters
    ----------
    forcediffimflux : scalar or array-like
        ``forcediffimflux`` values; None counts as missing.
    """
    flux = np.asarray(_floats(forcediffimflux), dtype=float)
    return np.isfinite(flux) & (flux != UNUSABLE)


def convert(forcediffimflux, forcediffimfluxunc, magzpsci) -> dict[str, np.ndarray]:
    """Forced difference fluxes in DN to calibrated fluxes and magnitudes (see the module).

    Parameters
    ----------
    forcediffimflux, forcediffimfluxunc : array-like
        Forced PSF flux of the difference image and its 1-sigma error [DN]; None or
        ``-99999`` give NaN everywhere.
    magzpsci : array-like
        The zero point of each exposure [mag].

    Returns
    -------
    dict
        ``flux``, ``sigmaflux`` [uJy], ``snr``, ``mag``, ``sigmamag`` (NaN when
        ``snr < SNT``) and ``maglim`` (the 5-sigma limit) [mag], float arrays.
    """
    dn = np.asarray(_floats(forcediffimflux), dtype=float).ravel()
    err = np.asarray(_floats(forcediffimfluxunc), dtype=float).ravel()
    zp = np.asarray(_floats(magzpsci), dtype=float).ravel()
    dn, err, zp = np.broadcast_arrays(dn, err, zp)
    ok = usable(dn) & np.isfinite(err) & (err > 0) & (err != UNUSABLE) & np.isfinite(zp)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        scale = np.where(ok, 10.0 ** (-0.4 * (zp - UJY_ZERO_POINT)), np.nan)
        snr = np.where(ok, dn / err, np.nan)
        detected = ok & (snr >= SNT)
        safe = np.where(detected, dn, 1.0)
        return {
            "flux": dn * scale,
            "sigmaflux": err * scale,
            "snr": snr,
            "mag": np.where(detected, zp - 2.5 * np.log10(safe), np.nan),
            "sigmamag": np.where(detected, MAG_ERR_FACTOR / np.where(detected, snr, 1.0), np.nan),
            "maglim": np.where(ok, zp - 2.5 * np.log10(SNU * np.where(ok, err, 1.0)), np.nan),
        }


def _floats(values):
    """None → NaN, so that lists from packets become float arrays."""
    if values is None:
        return np.nan
    if isinstance(values, (list, tuple)):
        return [np.nan if v is None else v for v in values]
    return values
