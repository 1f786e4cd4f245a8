"""The plan of a Rubin run, and the observation of its work units.

As for ZTF (``..allocate``, ``..observe``), everything is decided up front from
the seed: the fields and visits, how many objects of each kind (alert shares
turned into object counts by a pilot run), and work units of a few hundred
alerts, each with its own random stream, so a unit can be simulated anywhere
in any order and the output stays the same.

An object is observed at every visit of its field (history included), except
an asteroid (one visit of the run) and an artefact (its one epoch, plus the
earlier visits of the window, where it shows nothing).  The science is the
survey-neutral populations of ``..populations``, read through the Rubin bands
(``survey.MODEL_BAND``, ``survey.COLOUR_FACTOR``), and the noise model of
``..photometry`` with each visit's depth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from .. import photometry, populations, sky
from ..plan import DEFAULT_DENSITY, seed_rng
from ..populations import DEFAULT_MIX, KINDS, Context, Rows
from . import survey, visits

DEFAULT_CENTER = (150.1, 2.2)        # COSMOS, a Rubin deep field
RUBIN_DEC_MAX = 35.0
UNIT_ALERTS = 200                     # expected alerts per work unit (each carries months of history)
UNIT_MAX_ROWS = 400_000               # objects x visits per work unit
PILOT_OBJECTS = 200
MAX_OBJECTS = 1 << 28                 # object index bits of a diaSourceId


@dataclass
class Config:
    nights: int = 3
    alerts_per_night: int = 1000
    seed: int = 0
    start: dt.date = dt.date(2026, 3, 10)
    footprint: sky.Footprint | None = None
    center: tuple[float, float] = DEFAULT_CENTER
    density: float = DEFAULT_DENSITY
    mix: dict = field(default_factory=lambda: dict(DEFAULT_MIX))
    cadence: float = 1.0
    window: float = 365.0             # days of prvDiaSources / prvDiaForcedSources
    cutouts: bool = True
    fink: bool = True

    def resolved_footprint(self) -> sky.Footprint:
        if self.footprint is not None:
            return self.footprint
        area = max(self.nights * self.alerts_per_night / self.density, 0.01)
        return around(*self.center, area)


def around(ra: float, dec: float, area: float) -> sky.Footprint:
    """A box of ``area`` deg^2 centred on (ra, dec) on Rubin's sky (dec < +35)."""
    return sky.Footprint.around(ra, dec, area, dec_min=-90.0, dec_max=RUBIN_DEC_MAX)


@dataclass
class Piece:
    field: int
    kind: str
    n: int
    gid_start: int


@dataclass
class Plan:
    config: Config
    fields: visits.Fields
    visits: visits.Visits
    ctx: Context
    alerts_per_object: dict = field(default_factory=dict)
    counts: np.ndarray | None = None          # (n_fields, n_kinds)
    units: list = field(default_factory=list)

    @property
    def n_objects(self) -> int:
        return int(self.counts.sum())

    @property
    def expected_alerts(self) -> float:
        per = np.array([self.alerts_per_object[k] for k in KINDS])
        return float((self.counts * per[None, :]).sum())

    @property
    def night_labels(self) -> list[str]:
        return [(self.config.start + dt.timedelta(days=k)).strftime("%Y%m%d")
                for k in range(self.config.nights)]


def make_plan(cfg: Config) -> Plan:
    fp = cfg.resolved_footprint()
    flds = visits.Fields.tile(fp)
    vis = visits.schedule(flds, cfg.start, cfg.nights, cfg.window, cfg.cadence, seed_rng(cfg.seed, 13))
    run = vis.night >= 0
    if not run.any():
        raise ValueError("no visit during the simulated nights: try more nights or a smaller --cadence")
    plan = Plan(cfg, flds, vis, Context(t_first=float(vis.jd[run][0]), t_last=float(vis.jd[run][-1])))
    for k, kind in enumerate(KINDS):
        if cfg.mix.get(kind, 0) <= 0:
            plan.alerts_per_object[kind] = 1.0
            continue
        unit = simulate(plan, _pilot_pieces(plan, kind), seed_rng(cfg.seed, 12, k))
        alerts = (unit.det & (vis.night[unit.visit] >= 0)).sum()
        plan.alerts_per_object[kind] = max(alerts / PILOT_OBJECTS, 0.01)
    _count(plan)
    _cut(plan)
    return plan


def _pilot_pieces(plan: Plan, kind: str) -> list[Piece]:
    area = plan.fields.area()
    per = np.floor(PILOT_OBJECTS * area / area.sum()).astype(int)
    per[: PILOT_OBJECTS - per.sum()] += 1
    return [Piece(f, kind, int(n), 0) for f, n in enumerate(per) if n]


def _count(plan: Plan) -> None:
    cfg = plan.config
    total = cfg.nights * cfg.alerts_per_night
    mix = {k: v for k, v in cfg.mix.items() if v > 0}
    norm = sum(mix.values())
    area = plan.fields.area()
    rng = seed_rng(cfg.seed, 15)
    plan.counts = np.zeros((len(area), len(KINDS)), dtype=np.int64)
    for k, kind in enumerate(KINDS):
        if kind in mix:
            n = int(round(total * mix[kind] / norm / plan.alerts_per_object[kind]))
            plan.counts[:, k] = rng.multinomial(n, area / area.sum())
    if plan.counts.sum() >= MAX_OBJECTS:
        raise ValueError("too many objects for 64-bit source ids: simulate fewer alerts per run")


def _cut(plan: Plan) -> None:
    per_alert = np.array([plan.alerts_per_object[k] for k in KINDS])
    units, cur, cur_alerts, cur_rows, gid = [], [], 0.0, 0, 0
    for f in range(len(plan.fields)):
        rows_per = max(len(plan.visits.by_field[f]), 1)
        for k, kind in enumerate(KINDS):
            left = int(plan.counts[f, k])
            while left:
                room = min((UNIT_ALERTS - cur_alerts) / per_alert[k], (UNIT_MAX_ROWS - cur_rows) / rows_per)
                take = int(max(1, min(left, np.floor(room))))
                cur.append(Piece(f, kind, take, gid))
                gid += take
                left -= take
                cur_alerts += take * per_alert[k]
                cur_rows += take * rows_per
                if cur_alerts >= UNIT_ALERTS * 0.999 or cur_rows >= UNIT_MAX_ROWS * 0.999:
                    units.append(cur)
                    cur, cur_alerts, cur_rows = [], 0.0, 0
    if cur:
        units.append(cur)
    plan.units = units


@dataclass
class Unit:
    """Objects (arrays over objects) and their observations (rows, sorted by object then time)."""

    index: int
    kind: np.ndarray
    local: np.ndarray
    params: dict
    field: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    gid: np.ndarray
    obj: np.ndarray          # rows: object
    visit: np.ndarray        # rows: index into plan.visits
    df_true: np.ndarray      # model difference flux (model units)
    static: np.ndarray       # flux under the PSF that is not the difference (template)
    df_obs: np.ndarray
    sigma: np.ndarray
    det: np.ndarray
    rng: np.random.Generator

    @property
    def n_objects(self) -> int:
        return len(self.kind)


def _rows(plan: Plan, pieces: list[Piece], rng):
    vis = plan.visits
    window = plan.config.window
    run_idx = {f: ix[vis.night[ix] >= 0] for f, ix in vis.by_field.items()}
    obj_parts, vis_parts = [], []
    start = 0
    for pc in pieces:
        ids = start + np.arange(pc.n)
        start += pc.n
        allv = vis.by_field[pc.field]
        if pc.kind in populations.SINGLE_EPOCH:
            runv = run_idx[pc.field]
            if len(runv) == 0:
                continue
            epoch = runv[rng.integers(0, len(runv), pc.n)]
            if pc.kind == "asteroid":
                obj_parts.append(ids)
                vis_parts.append(epoch)
                continue
            pos = np.searchsorted(allv, epoch)
            lo = np.searchsorted(vis.jd[allv], vis.jd[epoch] - window, side="left")
            cnt = pos - lo + 1
            rep_start = np.repeat(lo - np.cumsum(cnt) + cnt, cnt)
            obj_parts.append(np.repeat(ids, cnt))
            vis_parts.append(allv[rep_start + np.arange(cnt.sum())])
        else:
            obj_parts.append(np.repeat(ids, len(allv)))
            vis_parts.append(np.tile(allv, pc.n))
    obj = np.concatenate(obj_parts) if obj_parts else np.zeros(0, np.int64)
    vix = np.concatenate(vis_parts) if vis_parts else np.zeros(0, np.int64)
    return obj.astype(np.int64), vix.astype(np.int64)


def simulate(plan: Plan, pieces: list[Piece], rng: np.random.Generator, index: int = -1) -> Unit:
    kinds, local, flds, ras, decs, gids, per_kind = [], [], [], [], [], [], {}
    count = {k: 0 for k in KINDS}
    for pc in pieces:
        f = plan.fields
        box = SimpleNamespace(ra0=f.ra0[pc.field], ra1=f.ra0[pc.field] + f.dra[pc.field],
                              dec0=f.dec0[pc.field], dec1=f.dec0[pc.field] + f.ddec)
        ra, dec = sky.random_positions(rng, box, pc.n)
        per_kind.setdefault(pc.kind, []).append(populations.draw(pc.kind, rng, pc.n, plan.ctx))
        kinds.append(np.full(pc.n, KINDS.index(pc.kind)))
        local.append(count[pc.kind] + np.arange(pc.n))
        count[pc.kind] += pc.n
        flds.append(np.full(pc.n, pc.field))
        ras.append(ra)
        decs.append(dec)
        gids.append(pc.gid_start + np.arange(pc.n))
    params = {kind: {key: (np.concatenate([p[key] for p in parts]) if key != "kind" else kind)
                     for key in parts[0]} for kind, parts in per_kind.items()}
    cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.int64)  # noqa: E731
    kind, loc, fld = cat(kinds), cat(local), cat(flds)
    obj, vix = _rows(plan, pieces, rng)
    vis = plan.visits
    band = vis.band[vix]
    single = np.isin(kind[obj], [KINDS.index(k) for k in populations.SINGLE_EPOCH])
    factor = np.where(single, 1.0, survey.COLOUR_FACTOR[band])
    df = np.zeros(len(obj))
    fpsf = np.zeros(len(obj))
    for k, name in enumerate(KINDS):
        m = np.flatnonzero(kind[obj] == k)
        if len(m):
            rows = Rows(obj=loc[obj[m]], t=vis.jd[vix[m]], band=survey.MODEL_BAND[band[m]], maglim=vis.m5[vix[m]])
            df[m], fpsf[m] = populations.difference_flux(name, params[name], rows, rng)
    df *= factor
    fpsf *= factor
    last = np.r_[obj[1:] != obj[:-1], True] if len(obj) else np.zeros(0, bool)
    forced = single & last
    df = np.where(single & ~forced, 0.0, df)
    obs, sigma, det = photometry.measure(df, fpsf, vis.m5[vix], rng, forced=forced)
    det &= ~(single & ~forced)
    static = np.maximum(fpsf - df, 0.0)
    return Unit(index, kind, loc, params, fld, cat(ras), cat(decs), cat(gids), obj, vix, df, static,
                obs, sigma, det, rng)


def simulate_unit(plan: Plan, index: int) -> Unit:
    return simulate(plan, plan.units[index], seed_rng(plan.config.seed, 11, index), index)
