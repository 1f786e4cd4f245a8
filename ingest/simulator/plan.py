"""The plan of a run: options, nights, exposures, cells, object counts and work units.

Everything in a plan is decided up front from the seed, before any object is
simulated, so that the work can then be cut into independent units (each with
its own random stream) and done in any process, in order, with flat memory.

This module holds the plan's data and its frame (footprint, cells, nights,
exposures, quadrant offsets); ``allocate.py`` fills in how many objects of each
kind and the work units, which needs a pilot simulation (``observe.py``), so
the arrows run allocate → observe → plan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from . import cadence, sky
from .populations import DEFAULT_MIX, KINDS, Context

DEFAULT_DENSITY = 10_000.0           # alerts per square degree (Fink's archive)
DEFAULT_CENTER = (150.0, 30.0)


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
    fp_hists: bool = False   # forced photometry in the packets (raw ZTF 4.02; Fink's archive has none)

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


def frame(cfg: Config) -> Plan:
    """A plan with its sky, nights and exposures, before any object is counted."""
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
    return Plan(cfg, fp, nights, exp, cells, qlim, qzp, ctx, {}, np.zeros((len(cells), len(KINDS)), int))
