"""How many objects of each kind, and the work units they are cut into.

The requested number of alerts (nights x alerts per night) is shared between
kinds by the mix; a pilot run of a few hundred objects per kind, on the same
cadence, measures how many alerts an object of that kind yields, which turns
alert shares into object counts.  Objects are spread over the footprint's cells
in proportion to area, then cut into work units of about ``UNIT_ALERTS`` alerts.
"""

from __future__ import annotations

import numpy as np

from .observe import pilot_alerts
from .plan import Config, Piece, Plan, frame, seed_rng
from .populations import KINDS

PILOT_OBJECTS = 300
UNIT_ALERTS = 2000                   # expected alerts per work unit
UNIT_MAX_ROWS = 1_500_000            # objects x exposures per work unit


def make_plan(cfg: Config) -> Plan:
    """The whole plan of a run: its frame, then object counts and work units."""
    plan = frame(cfg)
    _calibrate(plan)
    _count(plan)
    _cut_units(plan)
    return plan


def _calibrate(plan: Plan) -> None:
    """Measure the mean number of alerts per object of each kind with a pilot run."""
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
