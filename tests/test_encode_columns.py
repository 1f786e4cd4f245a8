"""Column-wise encoding (``Table.encode_columns``, the ingest workers' bulk path) gives, row by
row, the bytes ``Table.encode`` gives, and refuses the rows ``encode`` refuses, with its reason."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import make_config
from hbase_schema import get_schema
from store import encoder_store

RUBIN = get_schema("rubin")


@pytest.fixture(scope="module", params=["embedded", "hbase-packed", "hbase-cells"])
def tables(request, tmp_path_factory):
    """The encoders of each backend and HBase layout (none of them connects to a store)."""
    backend, _, layout = request.param.partition("-")
    config = make_config(backend, tmp_path_factory.mktemp("enc"))
    store = encoder_store(config.replace(hbase_layout=layout) if layout else config, RUBIN)
    return {name: store.table(name) for name in ("sources", "fp")}


def _rows(columns, n):
    out = []
    for i in range(n):
        row = {}
        for name, (values, ok) in columns.items():
            if ok[i]:
                v = values[i]
                row[name] = v.item() if hasattr(v, "item") else v
        out.append(row)
    return out


def _random_columns(spec, n, rng):
    """Every column of ``spec``'s r family, each present in a random subset of rows, NaNs among floats."""
    columns = {}
    for q, col in spec.families["r"].columns.items():
        ok = rng.random(n) < 0.7
        if col.type in ("float32", "float64"):
            values = rng.normal(size=n) * 1e3
            values[rng.random(n) < 0.1] = np.nan
        elif col.type in ("int32", "int64"):
            values = rng.integers(-2**31, 2**31 - 1, size=n)
        elif col.type == "bool":
            values = rng.random(n) < 0.5
        else:
            values = [f"v{i}-é" for i in range(n)]
        columns[f"r:{q}"] = (values, ok)
    return columns


@pytest.mark.parametrize("table", ["sources", "fp"])
def test_the_bytes_are_those_of_encode_row_by_row(tables, table):
    rng = np.random.default_rng(7)
    t = tables[table]
    n = 300
    columns = _random_columns(t.spec, n, rng)
    payloads, errors = t.encode_columns(columns, n)
    assert not errors
    assert payloads == [t.encode(row) for row in _rows(columns, n)]
    _, left = t.layout.codecs["r"].encode_columns(columns, n)
    assert not left.any()  # all packed column-wise, none left to the row-by-row path
    from store.base import Table
    assert Table._prepare_columns(t, columns, n) == (payloads, {})  # the backends' common path (HBase's)


def test_rows_out_of_type_get_encode_s_reason_and_the_others_are_packed(tables):
    t = tables["sources"]
    n = 6
    columns = {
        "r:diaSourceId": (np.arange(n, dtype=np.int64), np.ones(n, bool)),
        "r:detector": (np.array([1, 2**40, 3, 4, 5, 6], dtype=np.int64), np.array([1, 1, 1, 1, 1, 0], bool)),
        "r:psfFlux": (np.array([1.0, 2.0, 1e300, np.inf, np.nan, 2.0]), np.ones(n, bool)),
        "r:band": (["g", "r", "i", 5, "y", "u"], np.array([1, 1, 1, 1, 1, 1], bool)),
    }
    payloads, errors = t.encode_columns(columns, n)
    assert sorted(errors) == [1, 2, 3]  # int32 overflow, float32 overflow, a number for a string
    checked = t.check_columns(columns, n)  # the same refusals, nothing encoded
    assert {i: str(e) for i, e in checked.items()} == {i: str(e) for i, e in errors.items()}
    for i, exc in errors.items():
        with pytest.raises(type(exc)) as raised:
            t.encode(_rows(columns, n)[i])
        assert str(raised.value) == str(exc) and "column r:" in str(exc)
    for i in (0, 4, 5):  # inf and NaN are values; an absent detector is no cell
        assert payloads[i] == t.encode(_rows(columns, n)[i])


def test_values_of_another_kind_are_encoded_one_by_one(tables):
    """Floats for an integer column: not the fast path's, so ``encode`` decides (and refuses)."""
    t = tables["fp"]
    columns = {"r:visit": (np.array([1.0, 2.0]), np.array([True, False])),
               "r:psfFlux": (np.array([1, 2], dtype=np.int64), np.array([True, True]))}
    payloads, errors = t.encode_columns(columns, 2)
    assert list(errors) == [0] and "r:visit" in str(errors[0])
    assert payloads[1] == t.encode({"r:psfFlux": 2})


def test_an_unknown_column_is_named(tables):
    with pytest.raises(ValueError, match="r:nope"):
        tables["fp"].encode_columns({"r:nope": (np.zeros(1), np.ones(1, bool))}, 1)


def test_put_encoded_many_stores_what_put_encoded_does_in_batches(tmp_path):
    from store import open_store
    rng = np.random.default_rng(3)
    n = 230
    with open_store(make_config("embedded", tmp_path), create=True, schema=RUBIN) as store:
        t = store.table("sources")
        columns = _random_columns(t.spec, n, rng)
        payloads, errors = t.encode_columns(columns, n)
        keys = [t.keys.build(1, 60000.0 + i, i) for i in range(n)]
        sent = []
        apply = t.apply
        rows = lambda ops: sum(len(o[2]) if o[0] == "rows" else 1 for o in ops)  # noqa: E731 (RunBatch: a run as one op)
        t.apply = lambda ops: sent.append(rows(ops)) or apply(ops)
        with t.batch(100) as b:
            b.put_encoded_many(list(zip(keys, payloads)))
            assert sent == [100, 100]  # sent every batch_size, the rest on leaving
        assert sent == [100, 100, 30]
        got = dict(t.scan())
    assert list(got) == sorted(keys)
    clean = lambda row: {c: "NaN" if v != v else v for c, v in row.items()}  # noqa: E731 (NaN made comparable)
    assert [clean(got[k]) for k in keys] == [clean(t.layout.codecs["r"].decode(p[1][0])) for p in payloads]


def test_string_columns_take_strings_only_as_encode_does(tables):
    """The column-wise string encoder (``str.encode`` per value) packs a ``str`` (a subclass
    too) as ``encode`` does and leaves to ``encode``, which refuses it naming the column,
    what is no string: bytes, a number, an object with its own ``encode``, a lone surrogate."""
    class Text(str):
        pass

    class Encodes:
        def encode(self, *args):
            return b"r"

    t = tables["sources"]
    bands = ["g", Text("r"), b"i", 5, Encodes(), "\ud800", "y"]
    n = len(bands)
    columns = {"r:diaSourceId": (np.arange(n, dtype=np.int64), np.ones(n, bool)),
               "r:band": (bands, np.ones(n, bool))}
    payloads, errors = t.encode_columns(columns, n)
    assert sorted(errors) == [2, 3, 4, 5]
    for i in (0, 1, 6):
        assert payloads[i] == t.encode(_rows(columns, n)[i])
    for i, exc in errors.items():
        with pytest.raises(type(exc)) as raised:
            t.encode(_rows(columns, n)[i])
        assert str(raised.value) == str(exc) and "r:band" in str(exc)
