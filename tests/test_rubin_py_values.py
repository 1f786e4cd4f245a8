"""``ingest.rubin.py_values``: an Arrow array's values as ``to_pylist`` gives them (the same
values, the same Python types, None where null), for every leaf of the real Rubin alerts and
for the edge cases of each type it converts itself."""
from __future__ import annotations

import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import need, shared_data
from ingest.rubin.py_values import py_values
from rubin_inputs import parquet_files


def _same(got: list, want: list) -> bool:
    return len(got) == len(want) and all(  # (floats by repr: NaN equal, -0.0 not 0.0)
        type(a) is type(b) and (repr(a) == repr(b) if isinstance(a, float) else a == b) for a, b in zip(got, want))


CASES = [
    pa.array([1, None, -3], pa.int64()), pa.array([2**64 - 1, 0, None], pa.uint64()),
    pa.array([1, 2], pa.int8()), pa.array([1.5, None, float("nan"), -0.0], pa.float64()),
    pa.array([0.1, None], pa.float32()), pa.array([True, None, False], pa.bool_()),
    pa.array([None, None], pa.int32()), pa.array([], pa.float64()), pa.array([], pa.string()),
    pa.array(["g", None, "r", "g", "é"], pa.string()), pa.array(["a", None], pa.large_string()),
    pa.array([None, None], pa.string()), pa.array([b"x", None], pa.binary()),
    pa.array([datetime.datetime(2026, 3, 10), None], pa.timestamp("us")),
    pa.array([1, None, 3], pa.int64()).slice(1), pa.array(["u", "g", None, "y"]).slice(1, 2),
]


@pytest.mark.parametrize("array", CASES, ids=[f"{a.type}-{i}" for i, a in enumerate(CASES)])
def test_the_values_are_those_of_to_pylist(array):
    assert _same(py_values(array), array.to_pylist())


def _leaves(array: pa.Array, name: str):
    if pa.types.is_struct(array.type):
        for i, f in enumerate(array.type):
            yield from _leaves(array.field(i), f"{name}.{f.name}")
    elif pa.types.is_list(array.type):
        yield from _leaves(array.values, f"{name}[]")
    elif pa.types.is_map(array.type):
        yield from _leaves(array.keys, f"{name}.key")
        yield from _leaves(array.items, f"{name}.item")
    else:
        yield name, array


def test_every_leaf_of_the_real_alerts_converts_as_to_pylist():
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    table = pa.concat_tables([pq.read_table(f) for f in parquet_files()], promote_options="default").combine_chunks()
    checked = 0
    for column, name in zip(table.columns, table.schema.names):
        for leaf, array in _leaves(column.chunk(0), name):
            assert _same(py_values(array), array.to_pylist()), leaf
            checked += 1
    assert checked > 300  # (diaSource, diaObject, the lists, Fink's added values)
