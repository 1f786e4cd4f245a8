"""Server time of the Rubin object page's science tabs on the biggest real Rubin object.

    python bench/bench_rubin_tabs.py [--repeat 3] [--no-write-doc]

The real Rubin alerts of ../shared/data are ingested into a temporary store; each tab's
content (what the tab's callback or background job computes: the fit as the portal runs it,
under the query time budget in a forked child, then the light curve and the figures) is
timed for the object of the Rubin page tests (diaObjectId 313853517735395444: 1173
diaSources, 1032 forced sources), with an empty fit cache ("cold") and right after ("cached").
The tabs run interleaved (supernova, variable star, microlensing, then again). CPU time
counts the forked fit's too.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine, publish, today  # noqa: E402

OBJECT = "313853517735395444"
NOTE = ("The query time budget (10 s) bounds each fit. The Supernova tab is drawn in the callback that opens "
        "it, as on ZTF, where its fit takes well under half a second; on this 1173-point object the Bazin fit "
        "takes ~1.5 s and holds a worker that long: a background job, as for the other two tabs, would free it "
        "(not done).")


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-write-doc", action="store_true")
    args = p.parse_args(argv)
    from api.queries import fits
    from apps.science_tabs import microlensing, supernova, varstar
    from apps.science_tabs.survey import RUBIN
    from index import create_app
    from ingest.night import ingest
    from settings import Config
    from tests.conftest import RUBIN_NIGHT, shared_data
    cfg = Config().replace(data_dir=Path(tempfile.mkdtemp(prefix="nocturne-rubin-tabs-")), api_rate_limit=0)
    ingest(shared_data() / RUBIN_NIGHT, cfg, show_progress=False)
    app = create_app(cfg)
    times: dict[str, dict[str, list]] = {}
    with app.test_request_context("/"):
        store = RUBIN.store()
        tabs = {"Supernova (Bazin, detections)": lambda: supernova.content(store, OBJECT, None, RUBIN),
                "Variable star (+ forced photometry)": lambda: varstar.results(store, OBJECT, dict(varstar.DEFAULTS),
                                                                                None, RUBIN),
                "Microlensing (+ forced photometry)": lambda: microlensing.results(store, OBJECT, None, RUBIN)}
        for tab in tabs.values():
            tab()  # the imports, once per process
        for _ in range(args.repeat):
            for name, tab in tabs.items():
                row = times.setdefault(name, {"cold": [], "cpu": [], "cached": []})
                fits._cache.clear()
                wall, cpu = time.perf_counter(), _cpu()
                tab()
                row["cold"].append(time.perf_counter() - wall)
                row["cpu"].append(_cpu() - cpu)
                wall = time.perf_counter()
                tab()
                row["cached"].append(time.perf_counter() - wall)
    load = os.getloadavg()[0]
    lines = [f"### Rubin object page: science tabs, server time ({today()}, `bench/bench_rubin_tabs.py`)", "",
             f"Run {today()} on {machine()} (shared; load average {load:.1f}), embedded store, the real Rubin "
             f"alerts, diaObjectId {OBJECT}; medians of {args.repeat} interleaved runs.", "",
             "| tab | cold wall s | cold CPU s | cached wall s |", "|---|---|---|---|"]
    lines += [f"| {name} | {statistics.median(r['cold']):.2f} | {statistics.median(r['cpu']):.2f} | "
              f"{statistics.median(r['cached']):.2f} |" for name, r in times.items()]
    lines += ["", NOTE]
    publish("rubin-tabs", "\n".join(lines), write=not args.no_write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
