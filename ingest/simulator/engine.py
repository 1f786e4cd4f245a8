"""Running a simulation: plan, then simulate and write the work units in order.

Units are independent (each has its own random stream keyed by the seed and
its index), so they can run in worker processes; results are consumed in
unit order with a bounded number in flight, which keeps memory flat and the
output byte-identical whatever the number of workers.  Workers hand encoded
packets back to the main process, the only writer of files, tarballs,
containers and Parquet; without workers, single-alert files are written as
soon as they are made.

Besides the alerts, ``OUT/truth.csv`` (or .parquet) lists every simulated
object with its parameters and ``OUT/simulation.json`` records the options
and what was written.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import assemble, cutouts, fink, forced, parquet, truth
from .allocate import make_plan
from .encoding import split
from .observe import simulate_unit
from .packets import build_alerts
from .plan import Config, Plan, seed_rng
from .populations import KINDS
from .schema import alert_schema
from .writer import NIGHT_PREFIX, ContainerLayout, DirTarget, FileLayout, TarTarget

GENERATOR = "nocturne-simulator 1"


@dataclass
class Output:
    """Where and how to write (see ``cli.py``)."""

    root: Path
    avro: bool = True
    layout: str = "files"          # files | containers
    tar: bool = False
    codec: str = "null"
    container_size: int = 10000
    parquet: bool = False
    truth_format: str = "csv"      # csv | parquet

    @property
    def direct(self) -> bool:
        """Files can be written where packets are made (one alert per file, plain folders).

        Only done without worker processes: concurrent file creation in the
        same folders contends in the filesystem and is slower than one writer.
        """
        return self.avro and self.layout == "files" and not self.tar


@dataclass
class UnitResult:
    index: int
    n_alerts: int
    nights: list          # night label per alert
    kinds: np.ndarray     # kind index per alert
    packets: list | None  # (night, candid, datum) when the main process writes
    truth: pa.Table
    parquet: pa.Table | None


_STATE: dict = {}


def _init(plan: Plan, output: Output, direct: bool) -> None:
    _STATE["plan"], _STATE["output"], _STATE["direct"] = plan, output, direct
    _STATE["layout"] = None


def _avro_layout(plan: Plan, output: Output, target):
    schema = alert_schema(plan.config.fink, plan.config.fp_hists)
    if output.layout == "containers":
        return ContainerLayout(target, schema, plan.config.seed, output.codec, output.container_size)
    return FileLayout(target, schema, plan.config.seed, output.codec)


def process_unit(index: int) -> UnitResult:
    plan, output = _STATE["plan"], _STATE["output"]
    cfg = plan.config
    unit = simulate_unit(plan, index)
    alerts = build_alerts(plan, unit)
    stamps = None
    if cfg.cutouts and alerts.n:
        stamps = cutouts.render(alerts, unit, alerts.static, plan, seed_rng(cfg.seed, 6, index))
    fink_cols = fink.fink_columns(plan, unit, alerts) if (cfg.fink or output.parquet) and alerts.n else None
    labels = plan.nights.labels
    nights = [labels[k] for k in alerts.night.tolist()]
    packets = None
    if output.avro and alerts.n:
        tail = split(*fink.encode_fink(fink_cols, alerts.n)) if cfg.fink else None
        fp = forced.fp_parts(plan, unit, alerts) if cfg.fp_hists else None
        data = assemble.datums(unit, alerts, stamps, tail, fp)
        candids = alerts.cand["candid"].tolist()
        if _STATE["direct"]:
            if _STATE["layout"] is None:
                _STATE["layout"] = _avro_layout(plan, output, DirTarget(output.root))
            lay = _STATE["layout"]
            for night, candid, datum in zip(nights, candids, data):
                lay.add(night, candid, datum)
        else:
            packets = list(zip(nights, candids, data))
    ptable = parquet.table(alerts, fink_cols, stamps) if output.parquet and alerts.n else None
    return UnitResult(index, alerts.n, nights, alerts.kind, packets, truth.table(unit, alerts), ptable)


class _Sinks:
    """Main-process writers: packets (unless written as made), Parquet, truth."""

    def __init__(self, plan: Plan, output: Output, direct: bool):
        self.plan, self.output = plan, output
        root = output.root
        root.mkdir(parents=True, exist_ok=True)
        self.layout = None
        if output.avro and not direct:
            target = TarTarget(root) if output.tar else DirTarget(root)
            self.layout = _avro_layout(plan, output, target)
        self.pq_writers: dict[str, pq.ParquetWriter] = {}
        if output.truth_format == "csv":
            self.truth = pacsv.CSVWriter(str(root / "truth.csv"), truth.SCHEMA)
        else:
            self.truth = pq.ParquetWriter(str(root / "truth.parquet"), truth.SCHEMA, compression="zstd")
        self.per_night: Counter = Counter()
        self.per_kind: Counter = Counter()

    def add(self, res: UnitResult) -> None:
        if res.packets and self.layout is not None:
            for night, candid, datum in res.packets:
                self.layout.add(night, candid, datum)
        if res.parquet is not None:
            labels = np.array(res.nights)
            for night in sorted(set(res.nights)):
                w = self.pq_writers.get(night)
                if w is None:
                    d = self.output.root / "parquet"
                    d.mkdir(parents=True, exist_ok=True)
                    w = pq.ParquetWriter(str(d / f"{NIGHT_PREFIX}{night}.parquet"), parquet.SCHEMA,
                                         compression="snappy")
                    self.pq_writers[night] = w
                w.write_table(res.parquet.take(np.flatnonzero(labels == night)))
        self.truth.write_table(res.truth)
        self.per_night.update(res.nights)
        self.per_kind.update(KINDS[k] for k in res.kinds.tolist())

    def close(self) -> None:
        if self.layout is not None:
            self.layout.close()
        for w in self.pq_writers.values():
            w.close()
        self.truth.close()


def _results(plan: Plan, output: Output, workers: int):
    n = len(plan.units)
    if workers <= 1 or n <= 1:
        _init(plan, output, output.direct)
        for i in range(n):
            yield process_unit(i)
        return
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    with ctx.Pool(workers, initializer=_init, initargs=(plan, output, False)) as pool:
        pending: deque = deque()
        nxt = 0
        while nxt < n or pending:
            while nxt < n and len(pending) < 2 * workers:
                pending.append(pool.apply_async(process_unit, (nxt,)))
                nxt += 1
            yield pending.popleft().get()


def run(cfg: Config, output: Output, workers: int = 1, progress: bool = True) -> dict:
    """Simulate and write everything; return the summary also saved as simulation.json."""
    from tqdm import tqdm

    plan = make_plan(cfg)
    direct = output.direct and (workers <= 1 or len(plan.units) <= 1)
    sinks = _Sinks(plan, output, direct)
    bar = tqdm(total=int(round(plan.expected_alerts)), unit="alert", file=sys.stderr,
               disable=not progress, desc="simulate")
    total = 0
    try:
        for res in _results(plan, output, workers):
            sinks.add(res)
            total += res.n_alerts
            bar.update(res.n_alerts)
    finally:
        sinks.close()
        bar.close()
        if _STATE.get("layout") is not None:
            _STATE["layout"].close()
            _STATE["layout"] = None
    summary = _summary(plan, output, total, sinks)
    (output.root / "simulation.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return summary


def _summary(plan: Plan, output: Output, total: int, sinks: _Sinks) -> dict:
    cfg, fp = plan.config, plan.footprint
    return {
        "generator": GENERATOR, "schema": "ZTF 4.02" + (" + Fink 4.1 added values" if cfg.fink else ""),
        "seed": cfg.seed, "nights": plan.nights.labels, "start": cfg.start.isoformat(),
        "alerts_per_night_requested": cfg.alerts_per_night, "alerts": total,
        "alerts_per_night": dict(sorted(sinks.per_night.items())),
        "alerts_per_type": dict(sorted(sinks.per_kind.items())),
        "objects": plan.n_objects,
        "objects_per_type": {k: int(plan.counts[:, i].sum()) for i, k in enumerate(KINDS)},
        "footprint": {"ra0": fp.ra0, "ra1": fp.ra1, "dec0": fp.dec0, "dec1": fp.dec1,
                      "area_deg2": round(float(fp.area), 4)},
        "fields": sorted({c.field for c in plan.cells}), "exposures": len(plan.exposures),
        "cadence_days": cfg.cadence, "mix": cfg.mix, "cutouts": cfg.cutouts, "fink_values": cfg.fink,
        "fp_hists": cfg.fp_hists,
        "output": {"avro": output.avro, "layout": output.layout, "tar": output.tar,
                   "codec": output.codec, "parquet": output.parquet,
                   "truth": f"truth.{output.truth_format}"},
    }
