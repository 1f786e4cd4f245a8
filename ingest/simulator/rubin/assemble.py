"""One work unit's alerts as an Arrow table in Fink's layout (LSST fields, then Fink's).

The unit is observed (``observe``), its rows get ids, pixels and nJy fluxes
(``sources.frame``), every detection a ``diaSource`` record and every row a
forced source; the alerts are the detections of the simulated nights, in time
order.  Each alert's window is the ``window`` days before it: its
``prvDiaSources`` are the object's detections in the window, its
``prvDiaForcedSources`` the object's forced photometry at every visit of the
window, both taken from the unit's records by offsets (empty lists are null,
as in Fink's files).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import fink, objects, schema, solar, sources, stamps, truth
from .observe import Plan, simulate_unit

OBSERVATION_REASON, TARGET_NAME = "wfd", "lowdust"


@dataclass
class UnitAlerts:
    index: int
    table: pa.Table           # the alerts, Fink's layout
    nights: np.ndarray        # night index of each alert
    truth: pa.Table


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[i], hi[i])``."""
    cnt = hi - lo
    total = int(cnt.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt)
    return starts + np.arange(total)


def _lists(values: pa.Array, lo: np.ndarray, hi: np.ndarray) -> pa.ListArray:
    cnt = hi - lo
    offsets = pa.array(np.concatenate([[0], np.cumsum(cnt)]).astype(np.int32))
    typ = pa.list_(pa.field("element", values.type))
    return pa.ListArray.from_arrays(offsets, values.take(pa.array(_ranges(lo, hi))), type=typ,
                                    mask=pa.array(cnt == 0))


def build(plan: Plan, index: int) -> UnitAlerts:
    cfg = plan.config
    unit = simulate_unit(plan, index)
    rng = unit.rng
    fr = sources.frame(plan, unit)
    orb = solar.orbits(unit, cfg.seed)
    det_src = sources.dia_sources(fr, unit, solar.ss_object_ids(unit, orb), rng)
    night = plan.visits.night[unit.visit]
    a_det = np.flatnonzero(night[fr.det_rows] >= 0)
    a_det = a_det[np.lexsort((fr.dia_source_id[fr.det_rows[a_det]], fr.mjd[fr.det_rows[a_det]]))]
    a_rows = fr.det_rows[a_det]
    na = len(a_rows)
    # each alert's window: rows of its object in [t - window, t)
    t0 = fr.mjd.min() if len(fr.mjd) else 0.0
    key = unit.obj * 1e6 + (fr.mjd - t0)
    lo = np.searchsorted(key, key[a_rows] - cfg.window, side="left")
    dlo = np.searchsorted(fr.det_rows, lo)
    dia_source = det_src.take(pa.array(a_det))
    cols = {
        "diaSourceId": fr.dia_source_id[a_rows], "observation_reason": np.full(na, OBSERVATION_REASON, object),
        "target_name": np.full(na, TARGET_NAME, object), "diaSource": dia_source,
        "prvDiaSources": _lists(det_src, dlo, a_det),
        "prvDiaForcedSources": _lists(sources.forced_sources(fr, unit, np.arange(len(unit.obj))), lo, a_rows),
    }
    dia_object = objects.dia_objects(fr, unit, a_rows)
    cols["diaObject"] = dia_object
    cols["ssSource"], cols["mpc_orbits"] = solar.ss_records(fr, unit, a_rows, dia_source, orb, rng)
    if cfg.cutouts and na:
        ra = dia_source.field("ra").to_numpy(zero_copy_only=False)
        dec = dia_source.field("dec").to_numpy(zero_copy_only=False)
        bbox = dia_source.field("bboxSize").to_numpy(zero_copy_only=False)
        st = stamps.render(fr, unit, a_rows, ra, dec, bbox, rng)
        for j, name in enumerate(("cutoutDifference", "cutoutScience", "cutoutTemplate")):
            cols[name] = pa.array([s[j] for s in st], type=pa.binary())
    if cfg.fink:
        cols.update(fink.fink_columns(plan, unit, fr, a_rows, lo, dia_object))
    sch = schema.alert_schema(cfg.fink)
    arrays = []
    for f in sch:
        v = cols.get(f.name)
        if v is None:
            arrays.append(pa.nulls(na, f.type))
        elif isinstance(v, pa.Array):
            arrays.append(v)
        elif np.ndim(v) == 0:
            arrays.append(pa.array([v] * na, type=f.type))
        else:
            arrays.append(pa.array(v, type=f.type))
    table = pa.Table.from_arrays(arrays, schema=sch)
    return UnitAlerts(index, table, night[a_rows], truth.table(plan, unit, fr, a_rows, orb))
