"""pyarrow set up for the ingest's processes (issue 19: the ingest's memory): Arrow's jemalloc
pool, and pandas kept out.

*jemalloc.* Arrow's default pool here is mimalloc, which keeps the pages a worker's unit freed
(the decoded Parquet batches, ~100-170 MB a unit) for its next unit; Arrow's jemalloc returns
them to the system as they are freed. Measured on a whole later night (docs/benchmarks.md, "Rubin
ingest memory: the ingest without pandas and astropy"): the workers' peaks ~25 MB lower each, the
tree's ~65 MB, for the same CPU. Set through ``ARROW_DEFAULT_MEMORY_POOL`` before pyarrow is
imported (an operator's own choice there is kept; a pyarrow built without jemalloc warns and
keeps its default).

*pandas.* pyarrow imports pandas, when it is installed, the first time it converts Python
objects or turns an array into numpy (``pa.array(list)``, ``Array.to_numpy``), to recognise
pandas' own values (``pd.NA``, ``NaT``, a Series). The ingest hands it none of those, yet each of
its worker processes would import pandas on its first unit: ~48 MB resident a worker, its own
copy (the import comes after the fork). :func:`keep_pandas_out` lets pyarrow look for pandas
while pandas cannot be imported; pyarrow then remembers it as absent, and ``import pandas`` works
again for any code that asks for it itself (``Table.to_pandas`` imports it then). A process that
has imported pandas already (a test run, the portal) is left as it is.

``python -m ingest night`` calls :func:`set_up` first, before the workers are forked. A Dask
worker of the distributed ingest (``--cluster``) has imported pyarrow before it runs a unit, so
its first unit switches the pool at run time (:func:`use_jemalloc`, from
``ingest.unit_task``); pandas is left there (Dask's own workers import it).
"""
from __future__ import annotations

import os
import sys


def set_up() -> None:
    """Before pyarrow is imported (its import makes the default pool)."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    keep_pandas_out()


def use_jemalloc() -> bool:
    """Arrow's jemalloc pool from now on in this process (pyarrow imported already), unless the
    operator chose a pool (``ARROW_DEFAULT_MEMORY_POOL``); True when it was switched."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return False
    import pyarrow as pa

    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without jemalloc: its default stays
        return False
    return True


class _NoPandas:
    """A finder refusing ``pandas`` (and only while installed)."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is left out of this ingest process")
        return None


def keep_pandas_out() -> bool:
    """Make pyarrow take pandas as absent in this process; True when it did."""
    if "pandas" in sys.modules:
        return False
    import pyarrow as pa

    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0]).to_numpy(zero_copy_only=False)  # pyarrow's look for pandas: its shim and its C++ part
    finally:
        sys.meta_path.remove(finder)
    return "pandas" not in sys.modules
