"""The Rubin ground truth: one row per simulated object, its ids, kind and model parameters.

Columns: ``diaObjectId`` (0 for an asteroid, which has no diaObject),
``ssObjectId`` and ``designation`` (asteroids), ``type``, ``subtype``, ``ra``,
``dec`` (deg), ``field`` (the footprint tile), ``n_alerts`` written,
``first_alert_mjd``/``last_alert_mjd`` (MJD TAI), then the model parameters of
``..truth`` (same names and meaning; magnitudes in the model bands g, r, i —
a Rubin band reads them through ``survey.MODEL_BAND`` and
``survey.COLOUR_FACTOR``), with the model's times (``t0``, ``t_peak``,
``t_max_light``) given as MJD TAI like the alerts' ``midpointMjdTai``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import truth as ztf_truth
from ..populations import KINDS
from . import survey

TIME_PARAMETERS = ("t0", "t_peak", "t_max_light")
_DROP = {"first_alert_jd", "last_alert_jd", "jdstarthist"}
PARAMETERS = [c for c in ztf_truth.FLOAT_COLUMNS if c not in _DROP and c not in ("ra", "dec")]

SCHEMA = pa.schema(
    [("diaObjectId", pa.int64()), ("ssObjectId", pa.int64()), ("designation", pa.string()),
     ("type", pa.string()), ("subtype", pa.string()), ("ra", pa.float64()), ("dec", pa.float64()),
     ("field", pa.int32()), ("n_alerts", pa.int32()), ("first_alert_mjd", pa.float64()),
     ("last_alert_mjd", pa.float64())]
    + [(c, pa.float64()) for c in PARAMETERS]
)


def table(plan, unit, fr, a_rows, orb) -> pa.Table:
    n = unit.n_objects
    cols, subtype, _ = ztf_truth.parameters(unit)
    for c in TIME_PARAMETERS:
        cols[c] = survey.mjd_tai(cols[c])
    a_obj = unit.obj[a_rows]
    n_alerts = np.bincount(a_obj, minlength=n)
    first = np.full(n, np.nan)
    last = np.full(n, np.nan)
    mjd = fr.mjd[a_rows]
    order = np.argsort(mjd, kind="stable")
    first[a_obj[order[::-1]]] = mjd[order[::-1]]
    last[a_obj[order]] = mjd[order]
    ss_id = np.zeros(n, dtype=np.int64)
    designation = np.full(n, None, dtype=object)
    if len(orb["objects"]):
        ss_id[orb["objects"]] = orb["ss_object_id"]
        designation[orb["objects"]] = orb["unpacked"]
    data = {
        "diaObjectId": fr.dia_object_id, "ssObjectId": ss_id, "designation": designation,
        "type": np.array(KINDS, dtype=object)[unit.kind], "subtype": subtype, "ra": unit.ra,
        "dec": unit.dec, "field": unit.field.astype(np.int32), "n_alerts": n_alerts.astype(np.int32),
        "first_alert_mjd": first, "last_alert_mjd": last, **{c: cols[c] for c in PARAMETERS},
    }
    return pa.table({f.name: pa.array(data[f.name], type=f.type) for f in SCHEMA}, schema=SCHEMA)
