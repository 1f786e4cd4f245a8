"""Keep pyarrow from importing pandas in the ingest's processes (issue 19: the ingest's memory).

pyarrow imports pandas, when it is installed, the first time it converts Python objects or
turns an array into numpy (``pa.array(list)``, ``Array.to_numpy``), to recognise pandas' own
values (``pd.NA``, ``NaT``, a Series). The ingest hands it none of those, yet each of its worker
processes would import pandas on its first unit: ~48 MB resident a worker, its own copy (the
import comes after the fork). :func:`keep_pandas_out`, called once at the start of ``python -m
ingest`` (before the workers are forked), lets pyarrow look for pandas while pandas cannot be
imported; pyarrow then remembers it as absent, and ``import pandas`` works again for any code
that asks for it itself (``Table.to_pandas`` imports it then). A process that has imported
pandas already (a test run, the portal) is left as it is.
"""
from __future__ import annotations

import sys


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
