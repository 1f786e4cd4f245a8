"""``ingest.rubin.readers.rows_of``: Parquet batches to dicts column by column, the same values
as pyarrow's ``to_pylist`` (nested and null structs, maps, lists, NaN, empty batches)."""
from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq

from conftest import need, shared_data
from ingest.rubin.readers import rows_of


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (math.isnan(x) and math.isnan(y))
    if isinstance(x, dict) and isinstance(y, dict):
        return list(x) == list(y) and all(_same(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return type(x) is type(y) and len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y))
    return type(x) is type(y) and x == y


def test_rows_of_gives_to_pylist_on_nested_and_null_values():
    inner = pa.struct([("a", pa.int64()), ("b", pa.string())])
    outer = pa.struct([("x", pa.float64()), ("inner", inner), ("empty", pa.struct([]))])
    batch = pa.RecordBatch.from_pydict({
        "id": pa.array([1, None, 3], pa.int64()),
        "s": pa.array([{"x": 1.5, "inner": {"a": 1, "b": "u"}, "empty": {}},
                       None,
                       {"x": float("nan"), "inner": None, "empty": {}}], outer),
        "m": pa.array([[("k", 1.0)], None, []], pa.map_(pa.string(), pa.float64())),
        "l": pa.array([[1, 2], [], None], pa.list_(pa.int32())),
    })
    assert _same(rows_of(batch), batch.to_pylist())
    assert rows_of(batch)[1]["s"] is None and rows_of(batch)[2]["s"]["inner"] is None
    assert rows_of(batch.slice(0, 0)) == []


def test_rows_of_gives_to_pylist_on_the_real_alerts():
    folder = shared_data() / "rubin-fink-2026-03-10"
    need(folder.is_dir(), "real Rubin alerts not available")
    for f in sorted(folder.glob("*.parquet"))[:10]:
        batch = pq.read_table(f).combine_chunks().to_batches()[0]
        assert _same(rows_of(batch), batch.to_pylist())
