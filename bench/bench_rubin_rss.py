"""Peak memory of a Rubin (or ZTF) ingest, summed over its processes (the writer and its workers).

    python -m bench.bench_rubin_rss PATH [--survey ztf] [--workers 2] [--interval 0.2] [--data DIR] [--json OUT]

Runs ``python -m ingest night PATH --survey rubin`` (or ``ztf``) into a fresh temporary data
folder (or into ``--data``, kept: run a second night into the same store) and samples the resident
memory of the whole process tree every ``--interval`` seconds (psutil): the peak of the sum
is the figure (``/usr/bin/time -v`` and ``ru_maxrss`` see one process). Pages the forked
workers share with the writer are counted once per process in the RSS sum (an upper bound);
the PSS sum divides them among the processes sharing them. Both sums add the units waiting
for the writer as files in tmpfs (``ingest.unit_files``), memory no process's RSS shows.
Prints the alerts, the wall time,
alerts/s, the CPU time of the tree (each process's last sample: user + system), the peak sum
and each process's own peak (the writer first), and the load average at the start and the end.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import psutil

from ingest.unit_files import SHM, held_bytes

ROOT = Path(__file__).resolve().parents[1]


def sample(proc: subprocess.Popen, interval: float) -> tuple[int, dict, int, dict, int]:
    """The peak of the tree's summed RSS (bytes), each process's peak RSS, the peak of the
    summed PSS (shared pages divided among the processes sharing them) and each process's
    last CPU time (s), until ``proc`` ends; and the peak of the bytes of its units waiting in
    tmpfs (``ingest.unit_files``: memory no process's RSS shows), which both peaks include."""
    peak, each, peak_pss, cpu, peak_files = 0, {}, 0, {}, 0
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        total = pss = 0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in tree:
            try:
                full = p.memory_full_info()
                times = p.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss = full.rss
            total += rss
            pss += getattr(full, "pss", rss)
            each[p.pid] = max(each.get(p.pid, 0), rss)
            cpu[p.pid] = times.user + times.system
        files = held_bytes(SHM, proc.pid)
        peak, peak_pss, peak_files = max(peak, total + files), max(peak_pss, pss + files), max(peak_files, files)
        time.sleep(interval)
    return peak, each, peak_pss, cpu, peak_files


def run(path: Path, workers: int, interval: float, root: Path = ROOT, data_dir: Path | None = None,
        survey: str = "rubin") -> dict:
    load = os.getloadavg()[0]
    with (tempfile.TemporaryDirectory() if data_dir is None else nullcontext(str(data_dir))) as data:
        env = dict(os.environ, NOCTURNE_DATA_DIR=data, PYTHONPATH=str(root))
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "ingest", "night", str(path), "--survey", survey,
                                 "--workers", str(workers), "--no-progress"], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        peak, each, pss, cpu, files = sample(proc, interval)
        out = proc.stdout.read()
        seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"the ingest failed ({proc.returncode}):\n{out[-3000:]}")
    found = re.findall(r"([\d,]+) distinct alerts", out)
    alerts = int(found[-1].replace(",", "")) if found else 0
    writer = each.pop(proc.pid, 0)
    return {"alerts": alerts, "seconds": seconds, "peak_mb": peak / 2**20, "peak_pss_mb": pss / 2**20,
            "peak_unit_files_mb": files / 2**20,
            "cpu_s": sum(cpu.values()), "writer_cpu_s": cpu.get(proc.pid, 0.0),
            "process_peaks_mb": [writer / 2**20, *sorted((v / 2**20 for v in each.values()), reverse=True)],
            "load_start": load, "load_end": os.getloadavg()[0], "workers": workers, "output": out[-600:]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", type=Path)
    p.add_argument("--survey", choices=["rubin", "ztf"], default="rubin")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--root", type=Path, default=ROOT, help="the Nocturne checkout to run (e.g. an older commit's)")
    p.add_argument("--data", type=Path, help="the data folder to ingest into, kept (default: a fresh temporary one)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    r = run(args.path, args.workers, args.interval, args.root, args.data, args.survey)
    print(f"{r['alerts']:,} alerts in {r['seconds']:.1f} s = {r['alerts'] / r['seconds']:.1f} alerts/s; "
          f"CPU {r['cpu_s']:.1f} s (writer {r['writer_cpu_s']:.1f} s); "
          f"peak RSS (sum over processes and unit files) {r['peak_mb']:.0f} MB, PSS {r['peak_pss_mb']:.0f} MB "
          f"(unit files at most {r['peak_unit_files_mb']:.0f} MB); per process (writer, workers) "
          f"{', '.join(f'{m:.0f}' for m in r['process_peaks_mb'])} MB; load {r['load_start']:.1f} -> {r['load_end']:.1f}")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
