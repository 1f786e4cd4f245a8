"""Instructions an alert of the Rubin ingest's two stages, counted by valgrind's callgrind: a
figure the host's speed does not move, for comparing two versions of the code on a few units
(this machine's speed drifts 20-40 % within an hour, so a change of a few per cent never shows
in alerts a second; docs/benchmarks.md).

    python -m bench.bench_rubin_instructions NIGHT [--units 4] [--root CHECKOUT ...]

For each checkout (``--root``, repeatable; default: this one), two runs of a fresh Python
under callgrind, ``PYTHONHASHSEED`` fixed, on the checkout's own code (this checkout's
``bench_rubin_writer`` helpers), counting only the units after the night's first: imports,
caches and first calls fall on that one, uncounted (callgrind counts inside ``sys.call_tracing``,
which runs the others):

- *prepare*: the night's first ``1 + --units`` units prepared against an empty store, in one
  process, each pickled as a worker hands it back (``bench.bench_rubin_writer.prepare``): a
  worker's instructions an alert (Parquet decoding, the rows, their encoding, the pickle).
- *write*: those units unpickled and taken by ``RubinWriter`` into a fresh embedded store
  (``bench.bench_rubin_writer.write``: the last batches sent and the WAL checkpointed, as a
  night ends): the writer's instructions an alert (the unpickling, the bookkeeping, SQLite).

Instructions, not time: cache misses, system calls' waits and the other processes are not in
them (the kernel's work is not counted: callgrind sees user space only). Arrow is held to its
AVX2 kernels (``ARROW_USER_SIMD_LEVEL``: valgrind runs no AVX-512), as numpy is by valgrind. Slow: each run is
~50x its native time (4 + 1 units of a first night: ~4 minutes a checkout). Needs ``valgrind``
(Debian: ``apt-get install valgrind``).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")

CHILD = """
import importlib.util, json, pickle, sys
from pathlib import Path
stage, night, units, blobs, root, helpers = sys.argv[1:7]
night, units, blobs = Path(night), int(units), Path(blobs)
spec = importlib.util.spec_from_file_location("bench_rubin_writer", helpers)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)  # (this checkout's helpers: they import the project's code when called)
sys.path[:] = [root] + [p for p in sys.path if p != str(Path(helpers).parents[1])]
counted = lambda fn: sys.call_tracing(fn, ())  # callgrind counts inside sys.call_tracing only
if stage == "prepare":
    got = bench.prepare(night, 1 + units, warm=1, through=counted)
    blobs.write_bytes(pickle.dumps(got, protocol=pickle.HIGHEST_PROTOCOL))
    print(json.dumps({"alerts": sum(len(pickle.loads(b).alerts) for b in got[1:])}))
else:
    import tempfile
    from store.sqlite_file import Pragmas
    got = pickle.loads(blobs.read_bytes())
    first = len(pickle.loads(got[0]).alerts)
    with tempfile.TemporaryDirectory() as data:
        stored = bench.write(got, Pragmas.page_bytes, Path(data), warm=1, through=counted)["alerts"]
    print(json.dumps({"alerts": stored - first}))
"""


def counted(root: Path, stage: str, night: Path, units: int, blobs: Path) -> tuple[int, int]:
    """(instructions, alerts) of ``stage`` on the ``units`` units after the night's first, with
    ``root``'s code, under callgrind (counting inside ``sys.call_tracing`` only: the child runs
    the units after the first through it)."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=str(root))
        env.setdefault("ARROW_USER_SIMD_LEVEL", "AVX2")  # (valgrind decodes no AVX-512, which Arrow would pick)
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                               "--toggle-collect=sys_call_tracing*", f"--callgrind-out-file={out}/cg.out",
                               sys.executable, "-c", CHILD, stage, str(night), str(units), str(blobs),
                               str(root), str(ROOT / "bench" / "bench_rubin_writer.py")],
                              cwd=root, env=env, capture_output=True, text=True)
    found = COLLECTED.search(proc.stderr)
    if proc.returncode or found is None:
        raise SystemExit(f"the {stage} run under callgrind failed ({proc.returncode}):\n{proc.stderr[-6000:]}")
    return int(found.group(1)), json.loads(proc.stdout.strip().splitlines()[-1])["alerts"]


def measure(root: Path, night: Path, units: int) -> dict:
    """Instructions an alert of preparing and of writing ``units`` units of ``night`` (after its
    first: imports, caches and first calls fall there, uncounted) with ``root``'s code."""
    with tempfile.TemporaryDirectory() as tmp:
        blobs = Path(tmp) / "units.pickle"
        prepared, alerts = counted(root, "prepare", night, units, blobs)
        written, stored = counted(root, "write", night, units, blobs)
    n = max(1, alerts)
    return {"root": str(root), "units": units, "alerts": alerts, "stored": stored,
            "prepare_per_alert": prepared / n, "write_per_alert": written / n}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("night", type=Path, help="a Rubin night (Fink Parquet, Avro or wire messages)")
    p.add_argument("--units", type=int, default=4, help="units of work taken from the night's start")
    p.add_argument("--root", type=Path, action="append", help="a checkout whose code is measured (repeatable)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON lines")
    args = p.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    for root in args.root or [ROOT]:
        got = measure(root.resolve(), args.night.resolve(), max(1, args.units))
        if args.json:
            print(json.dumps(got), flush=True)
            continue
        print(f"{got['root']}: {got['alerts']:,} alerts ({got['units']} units): a worker "
              f"{got['prepare_per_alert'] / 1e6:.3f} M instructions an alert, the writer "
              f"{got['write_per_alert'] / 1e6:.3f} M ({got['stored']:,} alerts stored)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
