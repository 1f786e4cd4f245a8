"""The ingest's processes import neither pandas nor astropy (issue 19: each is ~48 / ~26 MB
resident in the writer and in each forked worker). ``store.sky.pixels`` calls cdshealpix's compiled
module without its astropy-based package; pyarrow, which would import pandas on its first
conversion, is told pandas is absent by ``python -m ingest`` (``ingest.arrow_alone``)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import need, shared_data

ROOT = Path(__file__).resolve().parents[1]

_RUN_INGEST = """
import atexit, json, runpy, sys
atexit.register(lambda: print("LOADED", json.dumps([m for m in ("pandas", "astropy") if m in sys.modules])))
sys.argv = ["ingest", "night", sys.argv[1], "--survey", "rubin", "--workers", "1", "--no-progress"]
runpy.run_module("ingest", run_name="__main__", alter_sys=True)
"""


def _python(code: str, *args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})))


def _python_without_a_pool(code: str) -> subprocess.CompletedProcess:
    """``code`` run in a process whose environment chooses no Arrow pool."""
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(env, PYTHONPATH=str(ROOT)))


def test_a_rubin_night_is_ingested_without_pandas_or_astropy(tmp_path):
    files = sorted((shared_data() / "rubin-fink-2026-03-10").glob("*.parquet"))
    need(bool(files), "real Rubin alerts not available")
    # one worker: the units are prepared in this process, so it holds what a worker imports too
    run = _python(_RUN_INGEST, str(files[0]), env={"NOCTURNE_DATA_DIR": str(tmp_path)})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "distinct alerts stored" in run.stdout
    loaded = [line for line in run.stdout.splitlines() if line.startswith("LOADED")]
    assert loaded and json.loads(loaded[-1].split(" ", 1)[1]) == []


def test_the_ingest_modules_import_neither():
    run = _python("import sys, json, ingest.cli, ingest.night, ingest.rubin.prepare, ingest.rubin.write, "
                  "ingest.rubin.statistics, ingest.prepare, ingest.write, store.sky;"
                  "print(json.dumps([m for m in ('pandas', 'astropy') if m in sys.modules]))")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == []


def test_pandas_still_imports_after_pyarrow_was_told_it_is_absent():
    run = _python("import sys, pyarrow as pa\n"
                  "from ingest.arrow_alone import keep_pandas_out\n"
                  "assert keep_pandas_out()\n"
                  "a = pa.array([1, None, 3]); a.to_numpy(zero_copy_only=False)\n"
                  "assert 'pandas' not in sys.modules\n"
                  "df = pa.table({'x': a}).to_pandas()\n"
                  "import pandas as pd\n"
                  "print(df['x'].isna().tolist(), pd.__name__)")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["[False,", "True,", "False]", "pandas"]


def test_a_process_with_pandas_is_left_alone():
    import pandas  # noqa: F401  (this test process: pyarrow may use it)

    from ingest.arrow_alone import keep_pandas_out
    assert keep_pandas_out() is False


def test_the_night_runs_on_arrows_jemalloc_pool_unless_the_operator_chose_one():
    code = ("from ingest.arrow_alone import set_up\n"
            "set_up()\n"
            "import pyarrow as pa\n"
            "print(pa.default_memory_pool().backend_name)")
    run = _python_without_a_pool(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "jemalloc"
    chosen = _python(code, env={"ARROW_DEFAULT_MEMORY_POOL": "system"})
    assert chosen.stdout.strip() == "system"


def test_a_process_that_imported_pyarrow_switches_to_jemalloc_unless_the_operator_chose_a_pool():
    """A Dask worker of the distributed ingest has pyarrow imported before its first unit."""
    code = ("import pyarrow as pa\n"
            "pa.set_memory_pool(pa.system_memory_pool())  # whatever the build's default\n"
            "before = pa.default_memory_pool().backend_name\n"
            "from ingest.arrow_alone import use_jemalloc\n"
            "print(before, use_jemalloc(), pa.default_memory_pool().backend_name)")
    run = _python_without_a_pool(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["system", "True", "jemalloc"]
    chosen = _python(code, env={"ARROW_DEFAULT_MEMORY_POOL": "system"})
    assert chosen.stdout.split() == ["system", "False", "system"], chosen.stderr
