"""Observing a work unit: draw its objects, list their observations, measure them.

For each object, every exposure of its field is an observation (a row); for
an asteroid or an artefact only the exposure where it shows up and the 30
days before it (which become upper limits in ``prv_candidates``).  Rows are
kept sorted by object then time, which later lets the previous 30 days of any
alert be found by a binary search.  Photometry turns each row into a noisy
difference flux and a detection flag; detections are the alerts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import photometry, populations, sky
from .plan import Piece, Plan, seed_rng
from .populations import KINDS, PERSISTENT, SINGLE_EPOCH, Rows

PRV_WINDOW = 30.0  # days of history in prv_candidates


@dataclass
class Unit:
    """Objects and observations of one work unit (arrays over objects / rows)."""

    index: int
    kind: np.ndarray        # (n_obj,) index into KINDS
    local: np.ndarray       # index within params[kind]
    params: dict            # kind -> parameter dict
    cell: np.ndarray
    field: np.ndarray
    rcid: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    tblid: np.ndarray
    gid: np.ndarray
    # rows
    obj: np.ndarray
    exp: np.ndarray
    jpos: np.ndarray        # index of the exposure among its field's exposures
    maglim: np.ndarray
    df_true: np.ndarray
    df_obs: np.ndarray
    sigma: np.ndarray
    det: np.ndarray
    rng: np.random.Generator

    @property
    def n_objects(self) -> int:
        return len(self.kind)


def _draw_objects(plan: Plan, pieces: list[Piece], rng):
    per_kind: dict[str, list[dict]] = {}
    local_count = {k: 0 for k in KINDS}
    cols = {k: [] for k in ("kind", "local", "cell", "ra", "dec", "tblid", "gid")}
    for pc in pieces:
        cell = plan.cells[pc.cell]
        ra, dec = sky.random_positions(rng, cell, pc.n)
        per_kind.setdefault(pc.kind, []).append(populations.draw(pc.kind, rng, pc.n, plan.ctx))
        k = KINDS.index(pc.kind)
        cols["kind"].append(np.full(pc.n, k))
        cols["local"].append(local_count[pc.kind] + np.arange(pc.n))
        local_count[pc.kind] += pc.n
        cols["cell"].append(np.full(pc.n, pc.cell))
        cols["ra"].append(ra)
        cols["dec"].append(dec)
        cols["tblid"].append(pc.tbl_start + np.arange(pc.n))
        cols["gid"].append(pc.gid_start + np.arange(pc.n))
    params = {}
    for kind, parts in per_kind.items():
        params[kind] = {key: (np.concatenate([p[key] for p in parts]) if key != "kind" else kind)
                        for key in parts[0]}
    out = {k: np.concatenate(v) if v else np.zeros(0, int) for k, v in cols.items()}
    return out, params


def simulate(plan: Plan, pieces: list[Piece], rng: np.random.Generator, index: int = -1) -> Unit:
    o, params = _draw_objects(plan, pieces, rng)
    cells = plan.cells
    field = np.array([cells[c].field for c in o["cell"]], dtype=np.int64)
    rcid = np.array([cells[c].rcid for c in o["cell"]], dtype=np.int64)
    exps = plan.exposures
    # ---- rows: every exposure of the object's field (objects are contiguous per piece)
    obj_parts, exp_parts, pos_parts = [], [], []
    start = 0
    for pc in pieces:
        e = exps.by_field.get(plan.cells[pc.cell].field, np.zeros(0, np.int64))
        ids = start + np.arange(pc.n)
        start += pc.n
        if pc.kind in SINGLE_EPOCH:
            if len(e) == 0:
                continue
            a = rng.integers(0, len(e), pc.n)
            jd_e = exps.jd[e]
            lo = np.searchsorted(jd_e, jd_e[a] - PRV_WINDOW, side="left")
            cnt = a - lo + 1
            rep = np.repeat(ids, cnt)
            pos = np.repeat(lo, cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
            obj_parts.append(rep)
            pos_parts.append(pos)
            exp_parts.append(e[pos])
        else:
            obj_parts.append(np.repeat(ids, len(e)))
            pos_parts.append(np.tile(np.arange(len(e)), pc.n))
            exp_parts.append(np.tile(e, pc.n))
    obj = np.concatenate(obj_parts) if obj_parts else np.zeros(0, np.int64)
    expi = np.concatenate(exp_parts) if exp_parts else np.zeros(0, np.int64)
    jpos = np.concatenate(pos_parts) if pos_parts else np.zeros(0, np.int64)
    t = exps.jd[expi]
    band = exps.fid[expi] - 1
    maglim = exps.maglim[expi] + plan.qoff_lim[rcid[obj]]
    # ---- photometry per kind
    df = np.zeros(len(obj))
    fpsf = np.zeros(len(obj))
    kind_row = o["kind"][obj]
    for k, kind in enumerate(KINDS):
        m = np.flatnonzero(kind_row == k)
        if len(m) == 0:
            continue
        rows = Rows(obj=o["local"][obj[m]], t=t[m], band=band[m], maglim=maglim[m])
        df[m], fpsf[m] = populations.difference_flux(kind, params[kind], rows, rng)
    single = np.isin(kind_row, [KINDS.index(k) for k in SINGLE_EPOCH])
    last_of_obj = np.r_[obj[1:] != obj[:-1], True] if len(obj) else np.zeros(0, bool)
    forced = single & last_of_obj
    df = np.where(single & ~forced, 0.0, df)
    obs, sigma, det = photometry.measure(df, fpsf, maglim, rng, forced=forced)
    det &= ~(single & ~forced)
    return Unit(index, o["kind"], o["local"], params, o["cell"], field, rcid, o["ra"], o["dec"],
                o["tblid"], o["gid"], obj, expi, jpos, maglim, df, obs, sigma, det, rng)


def simulate_unit(plan: Plan, index: int) -> Unit:
    return simulate(plan, plan.units[index], seed_rng(plan.config.seed, 1, index), index)


def pilot_alerts(plan: Plan, kind: str, n: int, rng: np.random.Generator) -> float:
    """Mean number of alerts per object of ``kind`` (pilot run on random cells)."""
    area = np.array([c.area for c in plan.cells])
    cells = np.sort(rng.choice(len(plan.cells), size=min(n, 50), p=area / area.sum()))
    per = np.full(len(cells), n // len(cells))
    per[: n - per.sum()] += 1
    pieces = [Piece(int(c), kind, 0, int(m), 0) for c, m in zip(cells, per) if m]
    unit = simulate(plan, pieces, rng)
    return float(unit.det.sum()) / n


def persistent_history(unit: Unit, t_first: float):
    """Detection history before the run for known variables: (ndet, ncov, jdstart) per object.

    A variable seen during the run was seen since it was first covered after
    the start of ZTF, at the rate it is detected during the run.
    """
    n = unit.n_objects
    rng = unit.rng
    rows_per = np.bincount(unit.obj, minlength=n)
    det_per = np.bincount(unit.obj, weights=unit.det, minlength=n)
    frac = np.divide(det_per, rows_per, out=np.zeros(n), where=rows_per > 0)
    known = np.isin(unit.kind, [KINDS.index(k) for k in PERSISTENT]) & (frac > 0)
    jdstart = rng.uniform(populations.ZTF_START_JD, t_first - PRV_WINDOW - 1, n)
    ncov = rng.poisson(np.maximum(t_first - jdstart, 0) * 0.5)
    ndet = rng.binomial(ncov, np.clip(frac, 0, 1))
    known &= ndet > 0
    return np.where(known, ndet, 0), np.where(known, ncov, 0), np.where(known, jdstart, np.nan)
