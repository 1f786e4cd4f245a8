"""Running a Rubin simulation: plan, build the units in order (in workers if asked), write.

Units are independent and consumed in order with a bounded number in flight,
so memory stays flat and the bytes do not depend on the number of workers.
A unit is built, cut by night and Avro-encoded where it is simulated (in a
worker when there are workers); the main process only writes.
Besides the alerts, ``OUT/truth.csv`` (or ``.parquet``) lists every object and
``OUT/simulation.json`` records the options and what was written.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..populations import KINDS
from . import schema, truth
from .assemble import build
from .observe import Config, Plan, make_plan
from .writer import Sinks, night_parts, split_parts

GENERATOR = "nocturne-simulator 1 (rubin)"


@dataclass
class Output:
    root: Path
    parquet: bool = True
    avro: bool = True
    wire: bool = False
    codec: str = "null"
    truth_format: str = "csv"


_STATE: dict = {}


def _init(plan: Plan, output: Output) -> None:
    _STATE["plan"], _STATE["output"] = plan, output


def _build(index: int):
    """(the unit's alerts, each night's offsets and Avro datums, the unit's truth)."""
    plan, output = _STATE["plan"], _STATE["output"]
    res = build(plan, index)
    return res.table, night_parts(res.table, res.nights, plan.night_labels, output.avro, output.wire), res.truth


def _results(plan: Plan, output: Output, workers: int):
    n = len(plan.units)
    if workers <= 1 or n <= 1:
        _init(plan, output)
        for i in range(n):
            yield _build(i)
        return
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    with ctx.Pool(workers, initializer=_init, initargs=(plan, output)) as pool:
        pending: deque = deque()
        nxt = 0
        while nxt < n or pending:
            while nxt < n and len(pending) < 2 * workers:
                pending.append(pool.apply_async(_build, (nxt,)))
                nxt += 1
            yield pending.popleft().get()


def run(cfg: Config, output: Output, workers: int = 1, progress: bool = True) -> dict:
    from tqdm import tqdm

    plan = make_plan(cfg)
    root = output.root
    root.mkdir(parents=True, exist_ok=True)
    sinks = Sinks(root, cfg.fink, output.parquet, output.avro, output.wire, output.codec, cfg.seed)
    if output.truth_format == "csv":
        truth_w = pacsv.CSVWriter(str(root / "truth.csv"), truth.SCHEMA)
    else:
        truth_w = pq.ParquetWriter(str(root / "truth.parquet"), truth.SCHEMA, compression="zstd")
    per_night: Counter = Counter()
    per_kind: Counter = Counter()
    bar = tqdm(total=int(round(plan.expected_alerts)), unit="alert", file=sys.stderr, disable=not progress,
               desc="simulate rubin")
    total = 0
    try:
        for table, parts, unit_truth in _results(plan, output, workers):
            for part in split_parts(table, parts):
                sinks.add(part)
                per_night[part.night] += part.table.num_rows
                total += part.table.num_rows
                bar.update(part.table.num_rows)
            truth_w.write_table(unit_truth)
            t = unit_truth.column("type").to_pylist()
            for kind, n in zip(t, unit_truth.column("n_alerts").to_pylist()):
                per_kind[kind] += n
    finally:
        sinks.close()
        truth_w.close()
        bar.close()
    summary = _summary(plan, output, total, per_night, per_kind)
    (root / "simulation.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return summary


def _summary(plan: Plan, output: Output, total: int, per_night: Counter, per_kind: Counter) -> dict:
    cfg, fp = plan.config, plan.fields.footprint
    return {
        "generator": GENERATOR, "survey": "rubin",
        "schema": "LSST alert schema 10.0" + (" + Fink added values" if cfg.fink else ""),
        "schema_id": schema.SCHEMA_ID, "seed": cfg.seed, "nights": plan.night_labels,
        "start": cfg.start.isoformat(), "alerts_per_night_requested": cfg.alerts_per_night, "alerts": total,
        "alerts_per_night": dict(sorted(per_night.items())),
        "alerts_per_type": {k: per_kind[k] for k in KINDS if per_kind[k]},
        "objects": plan.n_objects,
        "objects_per_type": {k: int(plan.counts[:, i].sum()) for i, k in enumerate(KINDS)},
        "footprint": {"ra0": fp.ra0, "ra1": fp.ra1, "dec0": fp.dec0, "dec1": fp.dec1,
                      "area_deg2": round(float(fp.area), 4)},
        "fields": len(plan.fields), "visits": len(plan.visits),
        "visits_in_run": int((plan.visits.night >= 0).sum()), "window_days": cfg.window,
        "cadence_days": cfg.cadence, "mix": cfg.mix, "cutouts": cfg.cutouts, "fink_values": cfg.fink,
        "output": {"parquet": output.parquet, "avro": output.avro, "wire": output.wire,
                   "codec": output.codec, "truth": f"truth.{output.truth_format}"},
    }
