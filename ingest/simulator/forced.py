"""Forced photometry of the 30 days before each alert: the ``fp_hists`` of ZTF 4.02 packets.

ZTF measures, at the position of each alert, the PSF flux of the difference image of every
earlier exposure covering it in the 30 previous days, detected or not. Here those exposures
are the unit rows of the object before the alert (the same rows as ``prv_candidates``): the
measured flux is the row's noisy difference flux (``Unit.df_obs``, drawn from the
ground-truth light curve with the noise of ``photometry.measure``), plus a small independent
scatter (forced and free PSF fits of one image differ by a fraction of sigma), in DN of the
exposure: ``forcediffimflux = df * 10**(0.4 (magzpsci - 25))`` (this package's fluxes have
zero point 25), so ``magzpsci - 2.5 log10(forcediffimflux)`` is the difference magnitude.
About ``UNUSABLE_RATE`` of the points are ZTF's unusable ``-99999`` with a non-zero
``procstatus`` (55, 56 or 61, as in real packets); the others have ``procstatus`` "0".
Each row is encoded once for the unit (``encoding.encode_records``); a packet's array is
the concatenation of its rows', as for ``prv_candidates``.
"""
from __future__ import annotations

import numpy as np

from . import hashing
from .encoding import encode_records, split
from .packets import Alerts, _reference_images
from .plan import Plan
from .schema import FP_FIELDS, FP_REQUIRED
from .sky import PIXSCALE

UNUSABLE = -99999.0
UNUSABLE_RATE = 0.08
UNUSABLE_CODES = np.array([b"56", b"61", b"55"])
EXTRA_SCATTER = 0.3   # forced minus free PSF fit, in units of the flux error
FLUX_ZERO_POINT = 25.0


def fp_rows(plan: Plan, unit, alerts: Alerts) -> dict:
    """The fp_hists columns of every unit row (one forced measurement per observation)."""
    seed = plan.config.seed
    eq, row_eq = alerts.eq, alerts.eq_of_row
    obj = unit.obj
    key = (unit.gid[obj], unit.exp)
    u = lambda salt: hashing.uniform(seed, *key, 40 + salt)  # noqa: E731
    band = eq["fid"][row_eq] - 1
    zp = eq["magzpsci"][row_eq]
    to_dn = 10 ** (0.4 * (zp - FLUX_ZERO_POINT))
    flux = (unit.df_obs + EXTRA_SCATTER * unit.sigma * hashing.normal(seed, *key, 47)) * to_dn
    err = unit.sigma * to_dn * (1.0 + 0.05 * u(1))
    bad = u(2) < UNUSABLE_RATE
    field, rcid = unit.field[obj], unit.rcid[obj]
    s = alerts.static
    seeing = eq["seeing"][row_eq]
    return {
        "field": field, "rcid": rcid, "fid": band + 1, "pid": eq["pid"][row_eq],
        "rfid": _reference_images(seed, field, rcid, band + 1)["rfid"],
        "sciinpseeing": seeing / PIXSCALE, "scibckgnd": 150.0 + 250.0 * u(3), "scisigpix": 8.0 + 14.0 * u(4),
        "magzpsci": zp, "magzpsciunc": eq["magzpsciunc"][row_eq], "magzpscirms": eq["magzpscirms"][row_eq],
        "clrcoeff": eq["clrcoeff"][row_eq], "clrcounc": eq["clrcounc"][row_eq], "exptime": 30.0,
        "adpctdif1": 0.04 + 0.04 * u(5), "adpctdif2": 0.04 + 0.05 * u(6),
        "diffmaglim": eq["diffmaglim"][row_eq], "programid": 1, "jd": eq["jd"][row_eq],
        "forcediffimflux": np.where(bad, UNUSABLE, flux), "forcediffimfluxunc": np.where(bad, UNUSABLE, err),
        "procstatus": np.where(bad, UNUSABLE_CODES[(u(7) * 3).astype(int) % 3], b"0"),
        "distnr": s["distnr"][obj], "ranr": s["ranr"][obj], "decnr": s["decnr"][obj],
        "magnr": s["magnr"][obj, band], "sigmagnr": s["sigmagnr"][obj, band], "chinr": s["chinr"][obj],
        "sharpnr": s["sharpnr"][obj],
    }


def fp_parts(plan: Plan, unit, alerts: Alerts) -> list[bytes]:
    """Per alert, the encoded ``fp_hists`` field: the union branch, then the array of the
    forced measurements of its object's unit rows before it (30 days, as ``prv_candidates``)."""
    n_rows = len(unit.obj)
    items = split(*encode_records(FP_FIELDS, fp_rows(plan, unit, alerts), n_rows, required=FP_REQUIRED,
                                  prefix=b"\x00"))
    counts = alerts.rows - alerts.lo
    heads = split(*encode_records([("n", "long")], {"n": counts}, alerts.n, nullable=False, prefix=b"\x00"))
    out = []
    for a, (lo, hi) in enumerate(zip(alerts.lo.tolist(), alerts.rows.tolist())):
        out.append(heads[a] + (b"".join(items[lo:hi]) + b"\x00" if hi > lo else b""))
    return out
