"""The microlensing fit of a ~1000-point Rubin light curve against the fit's time budget.

    python bench/bench_mulens_budget.py [--repeat 3] [--no-write-doc]

The real Rubin object of tests/test_rubin_api.py (diaObjectId 313875416793743402: its
sources and forced sources, ~1100 points in six bands over 80 days) is ingested from
../shared/data into a temporary store, and its microlensing fit is run as the API runs it
(``api.queries.fits.fit_curve``: a forked child under the query time budget), each run
with an empty fit cache: as the code does it (points binned per band and night above
``science.mulens.MAX_POINTS``), and without binning (under a budget long enough to finish).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine, publish, today  # noqa: E402

OBJECT = 313875416793743402
BUDGET_S = 10.0   # config.yml's query_time_budget_s


def _time(lc, repeat: int, budget: float) -> tuple[list[float], dict | str]:
    from api.queries import fits
    from api.queries.budget import QueryTooLarge, time_budget
    times, result = [], None
    for _ in range(repeat):
        fits._cache.clear()
        t = time.perf_counter()
        try:
            with time_budget(budget):
                result = fits.fit_curve(lc, "mulens", ("bench", OBJECT, True))
        except QueryTooLarge as exc:
            result = f"stopped: {exc}"
        except ValueError as exc:
            result = f"no fit: {exc}"
        times.append(time.perf_counter() - t)
    return times, result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-write-doc", action="store_true")
    args = p.parse_args(argv)
    import science.mulens as mulens
    from api.queries.rubin.fits import lightcurve
    from hbase_schema import get_schema
    from ingest.night import ingest
    from settings import Config
    from store import open_store
    from tests.conftest import RUBIN_NIGHT, shared_data
    cfg = Config().replace(data_dir=Path(tempfile.mkdtemp(prefix="nocturne-mulens-")))
    ingest(shared_data() / RUBIN_NIGHT, cfg, show_progress=False)
    with open_store(cfg, schema=get_schema("rubin")) as store:
        lc = lightcurve(store, OBJECT, "mulens", forced=True)
    n = len(lc["jd"])
    binned, res = _time(lc, args.repeat, BUDGET_S)
    rows = [("binned per band and night (the code)", binned, res)]
    cap = mulens.MAX_POINTS
    mulens.MAX_POINTS = 10 ** 9
    try:
        raw, res_raw = _time(lc, 1, 600.0)
    finally:
        mulens.MAX_POINTS = cap
    rows.append(("every point (before)", raw, res_raw))
    lines = ["## Microlensing fit of a ~1000-point Rubin light curve (`bench/bench_mulens_budget.py`)", "",
             f"Run {today()} on {machine()} (shared with other jobs). diaObjectId {OBJECT}, sources and forced "
             f"sources: {n} points in {len(set(lc['band'].tolist()))} bands over "
             f"{lc['jd'].max() - lc['jd'].min():.0f} days; the fit as the API runs it (a forked child, empty "
             f"cache); budget {BUDGET_S:g} s.", "",
             "| points fitted | runs | wall median [s] | min / max [s] | within the budget | fit |",
             "|---|---|---|---|---|---|"]
    for label, times, result in rows:
        shown = result if isinstance(result, str) else (
            f"{result['n_points']} points, tE = {result['tE']:.3g} d, "
            f"warnings: {', '.join(sorted({w['code'] for w in result['warnings']})) or 'none'}")
        lines.append(f"| {label} | {len(times)} | {statistics.median(times):.2f} | {min(times):.2f} / "
                     f"{max(times):.2f} | {'yes' if max(times) < BUDGET_S else 'no'} | {shown} |")
    publish("mulens-budget", "\n".join(lines), write=not args.no_write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
