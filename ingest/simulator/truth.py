"""The ground-truth table: one row per simulated object, its kind and model parameters.

Columns (NaN or empty where a parameter does not apply to the kind):

- identity: ``objectId``, ``type`` (sn_ia, sn_ii, rrlyrae, periodic, agn,
  microlensing, asteroid, bogus), ``subtype`` (Ia, IIP, IIL, RRab, RRc, EW,
  ROT, QSO, Seyfert, PSPL, MBA, NEO, dipole, cosmic_ray, ghost,
  bad_subtraction), ``ra``, ``dec`` (deg), ``field``, ``rcid``;
- alerts: ``n_alerts`` written, ``first_alert_jd``, ``last_alert_jd``, ``jdstarthist``;
- brightness: ``mag_g/r/i`` (peak for SNe, mean for variables and AGN,
  baseline for microlensing), ``magnr_g/r/i`` and ``distnr`` (arcsec) of the
  reference source (the star itself, the host galaxy or a neighbour);
- supernovae (Bazin per band, flux = A exp(-(t - t0 - dt0_b)/tau_fall_b) /
  (1 + exp(-(t - t0 - dt0_b)/tau_rise)), A set by the peak magnitude):
  ``z``, ``t0``, ``t_peak`` (r-band maximum), ``tau_rise``, ``tau_fall_g/r/i``,
  ``dt0_g/r/i``, ``host_mag_r``, ``host_offset`` (arcsec);
- periodic (mag_b(t) = mag_b + amp_b (S(phase + phase_offset_b) - <S>) / ptp(S),
  phase = (t - t0)/period, S = sum_k a_k cos(2 pi k phase + phi_k)):
  ``period`` (days), ``t0``, ``t_max_light``, ``amp_g/r/i`` (peak to peak, mag),
  ``fourier_a1..a4``, ``fourier_phi1..phi4``, ``phase_offset_r/i`` (cycles);
- microlensing (PSPL, flux = F_base (fs A(u) + 1 - fs)): ``t0``, ``u0``, ``tE``
  (days), ``fs`` (source flux fraction; the blending fraction is 1 - fs);
- AGN (damped random walk in magnitude, amplitude scaled 1.3/1/0.85 in g/r/i):
  ``z``, ``drw_tau`` (days), ``drw_sf`` (structure function at infinity, mag, r);
- asteroids: ``ssnamenr``, ``ss_rate`` (deg/day), ``ss_pa`` (deg);
- bogus: the artefact in ``subtype``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .populations import KINDS

FLOAT_COLUMNS = (
    "ra dec first_alert_jd last_alert_jd jdstarthist mag_g mag_r mag_i magnr_g magnr_r magnr_i "
    "distnr z t0 t_peak tau_rise tau_fall_g tau_fall_r tau_fall_i dt0_g dt0_r dt0_i host_mag_r "
    "host_offset period t_max_light amp_g amp_r amp_i fourier_a1 fourier_a2 fourier_a3 fourier_a4 "
    "fourier_phi1 fourier_phi2 fourier_phi3 fourier_phi4 phase_offset_r phase_offset_i u0 tE fs "
    "drw_tau drw_sf ss_rate ss_pa"
).split()
SCHEMA = pa.schema(
    [("objectId", pa.string()), ("type", pa.string()), ("subtype", pa.string()),
     ("field", pa.int32()), ("rcid", pa.int32()), ("n_alerts", pa.int32())]
    + [(c, pa.float64()) for c in FLOAT_COLUMNS] + [("ssnamenr", pa.string())]
)

# parameter name in populations -> (truth columns, how to read it)
_BANDED = {"mag": "mag", "magnr": "magnr", "tau_fall": "tau_fall", "dt0": "dt0", "amp": "amp"}


def parameters(unit) -> tuple[dict, np.ndarray, np.ndarray]:
    """Model parameters of a unit's objects, survey-neutral: (float columns, subtype, ssnamenr).

    ``unit`` needs ``n_objects``, ``kind``, ``local`` and ``params`` (both simulators' units have them).
    """
    n = unit.n_objects
    cols = {c: np.full(n, np.nan) for c in FLOAT_COLUMNS}
    subtype = np.empty(n, dtype=object)
    ssname = np.full(n, None, dtype=object)
    for kind, p in unit.params.items():
        m = np.flatnonzero(unit.kind == KINDS.index(kind))
        li = unit.local[m]
        subtype[m] = p["subtype"][li]
        for key, col in _BANDED.items():
            if key in p:
                for b, bn in enumerate("gri"):
                    cols[f"{col}_{bn}"][m] = p[key][li, b]
        for key in ("z", "t0", "t_peak", "tau_rise", "host_offset", "period", "t_max_light",
                    "u0", "tE", "fs", "drw_tau", "drw_sf", "distnr"):
            if key in p:
                cols[key][m] = p[key][li]
        if "host_mag" in p:
            cols["host_mag_r"][m] = p["host_mag"][li, 1]
        if "fourier_amps" in p:
            for k in range(4):
                cols[f"fourier_a{k + 1}"][m] = p["fourier_amps"][li, k]
                cols[f"fourier_phi{k + 1}"][m] = p["fourier_phis"][li, k]
            cols["phase_offset_r"][m] = p["phase_offset"][li, 1]
            cols["phase_offset_i"][m] = p["phase_offset"][li, 2]
        if kind == "asteroid":
            ssname[m] = p["ssnamenr"][li]
            cols["ss_rate"][m] = p["rate"][li]
            cols["ss_pa"][m] = p["motion_pa"][li]
    return cols, subtype, ssname


def table(unit, alerts) -> pa.Table:
    cols, subtype, ssname = parameters(unit)
    cols["ra"], cols["dec"] = unit.ra, unit.dec
    cols["first_alert_jd"] = alerts.first_alert_jd
    cols["last_alert_jd"] = alerts.last_alert_jd
    cols["jdstarthist"] = alerts.jdstarthist_obj
    data = {
        "objectId": alerts.obj_objectId.astype(str), "type": np.array(KINDS, dtype=object)[unit.kind],
        "subtype": subtype, "field": unit.field.astype(np.int32), "rcid": unit.rcid.astype(np.int32),
        "n_alerts": alerts.truth_n_alerts.astype(np.int32), **cols, "ssnamenr": ssname,
    }
    return pa.table({f.name: pa.array(data[f.name], type=f.type) for f in SCHEMA}, schema=SCHEMA)
