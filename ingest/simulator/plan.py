"""The plan of a run: options, nights, exposures, cells, object counts and work units.

Everything here is decided up front from the seed, before any object is
simulated, so that the work can then be cut into independent units (each with
its own random stream) and done in any process, in order, with flat memory.

How many objects of each kind: the requested number of alerts
(nights x alerts per night) is shared between kinds by the mix; a pilot run
of a few hundred objects per kind, on the same cadence, measures how many
alerts an object of that kind yields, which turns alert shares into object
counts.  Objects are spread over the footprint's cells in proportion to area.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from . import cadence, sky
from .populations import DEFAULT_MIX, KINDS, Context

DEFAULT_DENSITY = 10_000.0           # alerts per square degree (Fink's archive)
DEFAULT_CENTER = (150.0, 30.0)
PILOT_OBJECTS = 300
UNIT_ALERTS = 2000                   # expected alerts per work unit
UNIT_MAX_ROWS = 1_500_000            # objects x exposures per work unit


@dataclass
class Config:
    """Options of a run (see ``cli.py`` for their meaning)."""

    nights: int = 3
    alerts_per_night: int = 1000
    seed: int = 0
    start: dt.date = dt.date(2025, 1, 1)
    footprint: sky.Footprint | None = None
    center: tuple[float, float] = DEFAULT_CENTER
    density: float = DEFAULT_DENSITY
    mix: dict = field(default_factory=lambda: dict(DEFAULT_MIX))
    cadence: float = 1.0
    cutouts: bool = True
    fink: bool = False

    def resolved_footprint(self) -> sky.Footprint:
        if self.footprint is not None:
            return self.footprint
        area = max(self.nights * self.alerts_per_night / self.density, 0.01)
        return sky.Footprint.around(*self.center, area)


@dataclass
class Piece:
    """A run of objects of one kind in one cell, simulated together."""

    cell: int          # index into Plan.cells
    kind: str
    tbl_start: int     # index of the first object within its cell (-> tblid)
    n: int
    gid_start: int     # global index of the first object (-> objectId)


@dataclass
class Plan:
    config: Config
    footprint: sky.Footprint
    nights: cadence.Nights
    exposures: cadence.Exposures
    cells: list
    qoff_lim: np.ndarray
    qoff_zp: np.ndarray
    ctx: Context
    alerts_per_object: dict
    counts: np.ndarray               # (n_cells, n_kinds) objects
    units: list = field(default_factory=list)

    @property
    def n_objects(self) -> int:
        return int(self.counts.sum())

    @property
    def expected_alerts(self) -> float:
        per = np.array([self.alerts_per_object[k] for k in KINDS])
        return float((self.counts * per[None, :]).sum())


def seed_rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


def make_plan(cfg: Config) -> Plan:
    fp = cfg.resolved_footprint()
    cells = sky.cells(fp)
    if not cells:
        raise ValueError(f"footprint {fp} has no cell on the ZTF sky")
    nights = cadence.Nights.make(cfg.start, cfg.nights)
    exp = cadence.schedule({c.field for c in cells}, nights, seed_rng(cfg.seed, 3), cfg.cadence)
    if len(exp) == 0:
        raise ValueError("no exposure scheduled (bad weather on every night?): try more nights")
    qlim, qzp = cadence.quadrant_offsets(seed_rng(cfg.seed, 4))
    ctx = Context(t_first=float(exp.jd[0]), t_last=float(exp.jd[-1]))
    plan = Plan(cfg, fp, nights, exp, cells, qlim, qzp, ctx, {}, np.zeros((len(cells), len(KINDS)), int))
    _calibrate(plan)
    _count(plan)
    _cut_units(plan)
    return plan


def _calibrate(plan: Plan) -> None:
    """Measure the mean number of alerts per object of each kind with a pilot run."""
    from .observe import pilot_alerts  # late import: observe needs Plan
    for k, kind in enumerate(KINDS):
        if plan.config.mix.get(kind, 0) <= 0:
            plan.alerts_per_object[kind] = 1.0
            continue
        rng = seed_rng(plan.config.seed, 2, k)
        plan.alerts_per_object[kind] = max(pilot_alerts(plan, kind, PILOT_OBJECTS, rng), 0.01)


def _count(plan: Plan) -> None:
    cfg = plan.config
    total = cfg.nights * cfg.alerts_per_night
    mix = {k: v for k, v in cfg.mix.items() if v > 0}
    norm = sum(mix.values())
    area = np.array([c.area for c in plan.cells])
    rng = seed_rng(cfg.seed, 5)
    for k, kind in enumerate(KINDS):
        if kind not in mix:
            continue
        n = int(round(total * mix[kind] / norm / plan.alerts_per_object[kind]))
        plan.counts[:, k] = rng.multinomial(n, area / area.sum())


def _cut_units(plan: Plan) -> None:
    per_alert = np.array([plan.alerts_per_object[k] for k in KINDS])
    n_exp = {f: len(ix) for f, ix in plan.exposures.by_field.items()}
    units, cur, cur_alerts, cur_rows, gid = [], [], 0.0, 0, 0
    for ci, cell in enumerate(plan.cells):
        tbl = 0
        e = max(n_exp.get(cell.field, 0), 1)
        for k, kind in enumerate(KINDS):
            left = int(plan.counts[ci, k])
            while left:
                room_alerts = (UNIT_ALERTS - cur_alerts) / per_alert[k]
                room_rows = (UNIT_MAX_ROWS - cur_rows) / e
                take = int(max(1, min(left, np.floor(min(room_alerts, room_rows)))))
                cur.append(Piece(ci, kind, tbl, take, gid))
                tbl += take
                gid += take
                left -= take
                cur_alerts += take * per_alert[k]
                cur_rows += take * e
                if cur_alerts >= UNIT_ALERTS * 0.999 or cur_rows >= UNIT_MAX_ROWS * 0.999:
                    units.append(cur)
                    cur, cur_alerts, cur_rows = [], 0.0, 0
        if tbl >= 985_000:
            raise ValueError("too many objects in one quadrant: widen the footprint")
    if cur:
        units.append(cur)
    plan.units = units
