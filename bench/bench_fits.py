"""Fit times of the science tabs for a 300-point light curve: variable star, microlensing, supernova.

Each light curve is drawn from its model with the noise of ZTF photometry (g and r,
alternating, 0.02-0.1 mag errors): an RR Lyrae-like star (P = 0.57 d, a sawtooth of four
harmonics) over 180 nights, a PSPL event (tE = 25 d, u0 = 0.1, 60 % source flux) over 120
nights, a Bazin supernova over 80 nights. Each fit is timed ``--repeat`` times (the fit
cache of api.queries is not involved: the science functions are called directly) and the
median is printed as a markdown table, with the targets (variable star and microlensing
2 s, supernova 0.5 s). The default variable-star fit is also timed as the API runs it, in a
forked child under a time budget (api.queries.isolated), and the difference is the
isolation's overhead.

    python -m bench.bench_fits [--n 300] [--repeat 5]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from science.mulens import fit_pspl  # noqa: E402
from science.mulens_pylima import magnification  # noqa: E402
from science.supernova import bazin, fit_lightcurve  # noqa: E402
from science.varstar import fit_period  # noqa: E402

TARGETS = {"variable star (nterms 1/1)": 2.0, "variable star (nterms 1/1), in a fit child": 2.0,
           "variable star (nterms 3/1, tab default)": 2.0, "microlensing": 2.0, "supernova": 0.5}


def _times(rng, n: int, days: float) -> tuple[np.ndarray, np.ndarray]:
    jd = np.sort(2460000.5 + rng.uniform(0, days, n) + rng.uniform(0.1, 0.5, n))
    return jd, np.where(np.arange(n) % 2 == 0, 1, 2)


def varstar_lc(rng, n: int):
    jd, band = _times(rng, n, 180)
    phase = (jd - 2460000.0) / 0.57
    shape = sum(a * np.cos(2 * np.pi * k * phase + p) for k, a, p in ((1, 1, 0), (2, 0.5, 1), (3, 0.3, 2), (4, 0.15, 3)))
    err = rng.uniform(0.02, 0.1, n)
    mag = np.where(band == 1, 17.0, 16.8) + np.where(band == 1, 0.5, 0.4) * shape / np.ptp(shape) + err * rng.normal(size=n)
    return jd, mag, err, band


def mulens_lc(rng, n: int):
    jd, band = _times(rng, n, 120)
    base = np.where(band == 1, 18.2, 17.6)
    flux = 10 ** (-0.4 * base) * (0.6 * magnification(jd, 2460060.0, 0.1, 25.0) + 0.4)
    err = rng.uniform(0.02, 0.1, n)
    return jd, -2.5 * np.log10(flux) + err * rng.normal(size=n), err, band


def supernova_lc(rng, n: int):
    jd, band = _times(rng, n, 80)
    flux = bazin(jd, 400.0, 0.0, 2460020.0, 3.0, np.where(band == 1, 15.0, 25.0))
    mag = 23.9 - 2.5 * np.log10(np.maximum(flux, 1.0))
    err = rng.uniform(0.02, 0.1, n)
    return jd, mag + err * rng.normal(size=n), err, band


def _in_child(*lc, **kw):
    from api.queries.isolated import run_isolated
    return run_isolated(lambda: fit_period(*lc, **kw), (), 60.0, "")


def run(n: int, repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(42)
    star = varstar_lc(rng, n)
    cases = {
        "variable star (nterms 1/1)": (fit_period, star, {"period_range": (0.1, 1.2)}),
        "variable star (nterms 1/1), in a fit child": (_in_child, star, {"period_range": (0.1, 1.2)}),
        "variable star (nterms 3/1, tab default)": (fit_period, varstar_lc(rng, n),
                                                    {"period_range": (0.1, 1.2), "nterms_base": 3, "nterms_band": 1}),
        "microlensing": (fit_pspl, mulens_lc(rng, n), {}),
        "supernova": (fit_lightcurve, supernova_lc(rng, n), {}),
    }
    out = {}
    for name, (fn, lc, kw) in cases.items():
        fn(*lc, **kw)  # warm up imports
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn(*lc, **kw)
            times.append(time.perf_counter() - t)
        out[name] = statistics.median(times)
    return out


def markdown(results: dict[str, float], n: int, repeat: int) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [f"Fit times, {n}-point light curves, median of {repeat} runs "
             f"({dt.date.today().isoformat()}, {machine}):", "",
             "| date | machine | fit | N | median s | target s | ok |", "|---|---|---|---|---|---|---|"]
    for name, s in results.items():
        target = TARGETS[name]
        lines.append(f"| {dt.date.today().isoformat()} | {machine} | {name} | {n} | {s:.3f} | {target} | "
                     f"{'yes' if s <= target else 'NO'} |")
    child, inline = results.get("variable star (nterms 1/1), in a fit child"), results.get("variable star (nterms 1/1)")
    if child is not None and inline is not None:
        lines += ["", f"Isolation overhead (fork, pickle, wait) of the default fit: {1000 * (child - inline):.1f} ms."]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="points per light curve (default 300)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per fit (default 5)")
    args = ap.parse_args(argv)
    results = run(args.n, args.repeat)
    print(markdown(results, args.n, args.repeat))
    return 0 if all(results[k] <= TARGETS[k] for k in results) else 1


if __name__ == "__main__":
    sys.exit(main())
