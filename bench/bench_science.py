"""Science-tab fits benchmark: median wall time of each fit on typical light curves.

    python bench/bench_science.py [--points 100 500] [--repeats 5]

Builds synthetic ZTF-like g/r light curves (an RR Lyrae, a blended microlensing event, a
supernova) of N points, runs each fit ``--repeats`` times after one untimed warm-up call
(which pays the imports of gatspy, pyLIMA and scipy), and prints a markdown table with the
date, the number of processors, N and the median seconds per fit.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import today  # noqa: E402
from science.mulens import fit_pspl  # noqa: E402
from science.supernova import bazin, fit_lightcurve  # noqa: E402
from science.varstar import fit_period  # noqa: E402


def _cadence(n, rng, start, days):
    """Night-time visits on random nights, g (1) and r (2) at random, errors 0.02-0.1."""
    jd = start + np.sort(rng.integers(0, days, n)) + 0.7 + rng.uniform(-0.1, 0.1, n)
    return jd, np.where(rng.random(n) < 0.5, 1, 2), rng.uniform(0.02, 0.1, n)


def rr_lyrae(n, rng):
    jd, fid, err = _cadence(n, rng, 2459000.5, 250)
    phase = 2 * np.pi * np.mod(jd / 0.5617, 1.0)
    shape = 0.3 * np.sin(phase) + 0.15 * np.sin(2 * phase + 0.6) + 0.08 * np.sin(3 * phase + 1.1)
    return jd, 17.0 + np.where(fid == 1, 1.0, 0.75) * shape + rng.normal(0, err), err, fid


def microlensing(n, rng):
    jd, fid, err = _cadence(n, rng, 2459050.5, 200)
    u = np.hypot(0.1, (jd - 2459150.0) / 30.0)
    amp = (u ** 2 + 2) / (u * np.sqrt(u ** 2 + 4))
    total = 10 ** (-0.4 * np.where(fid == 1, 18.5, 18.0))
    return jd, -2.5 * np.log10(total * (0.75 * amp + 0.25)) + rng.normal(0, err), err, fid


def supernova(n, rng):
    jd, fid, err = _cadence(n, rng, 2459075.5, 120)
    flux = bazin(jd, 250.0, 0.0, 2459095.0, np.where(fid == 1, 3.0, 4.0), np.where(fid == 1, 20.0, 30.0))
    return jd, 23.9 - 2.5 * np.log10(flux) + rng.normal(0, err), err, fid


FITS = {"fit_period (gatspy)": (fit_period, rr_lyrae),
        "fit_pspl (pyLIMA)": (fit_pspl, microlensing),
        "fit_lightcurve (Bazin)": (fit_lightcurve, supernova)}


def run(points, repeats: int) -> list[tuple[str, int, float, float]]:
    rows = []
    for name, (fit, make) in FITS.items():
        for n in points:
            data = make(n, np.random.default_rng(n))
            fit(*data)
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                fit(*data)
                times.append(time.perf_counter() - t)
            rows.append((name, n, statistics.median(times), min(times)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = run(args.points, args.repeats)
    date, nproc = today(), os.cpu_count()
    print(f"| date | nproc | fit | N points | median s ({args.repeats} runs) | min s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, n, med, best in rows:
        print(f"| {date} | {nproc} | {name} | {n} | {med:.3f} | {best:.3f} |")


if __name__ == "__main__":
    main()
