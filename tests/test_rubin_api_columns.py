"""The Rubin routes objects, sources and fp write JSON from typed columns without a DataFrame
(api/queries/columns.py): their answer must be, byte for byte, the JSON of the DataFrame the
portal and every other format get, for every object of the 107 real Rubin alerts, on each
backend; and ``Columns`` must read its values back as the frame does (NaN, missing integers,
booleans, text)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from flask import Flask

from api.queries import rubin as q
from api.queries.columns import Columns
from api.render import render_csv, render_json, render_records, respond
from rubin_inputs import parquet_files, records

LSST = "/lsst/api/v1"
SOME = {"sources": "r:psfFlux,r:band,r:diaSourceId,r:isDipole", "fp": "r:psfFlux,r:band", "objects": "r:nDiaSources,r:ra"}


@pytest.fixture(scope="module")
def object_ids(rubin_api):
    if not hasattr(rubin_api, "application"):
        pytest.skip("compares with the store's DataFrames: in-process only")
    return sorted({p["diaSource"]["diaObjectId"] for p in records(parquet_files())} - {0})  # 0: solar-system sources


def _frame(store, route: str, oid: int, columns: list[str] | None) -> pd.DataFrame:
    if route == "objects":
        return q.objects(store, [oid], columns)
    return q.history(store, route, [oid], columns)


@pytest.mark.parametrize("route", ["objects", "sources", "fp"])
@pytest.mark.parametrize("asked", ["all", "some"])
def test_each_route_answers_the_json_of_its_dataframe_byte_for_byte(rubin_api, object_ids, route, asked):
    from api.access import rubin_store
    columns = None if asked == "all" else SOME[route].split(",")
    payload = {} if columns is None else {"columns": SOME[route]}
    rows = 0
    with rubin_api.application.app_context():
        store = rubin_store()
        for oid in object_ids:
            r = rubin_api.post(f"{LSST}/{route}", json={"diaObjectId": str(oid), **payload})
            assert r.status_code == 200, r.data[:300]
            df = _frame(store, route, oid, columns)
            assert r.data == render_json(df), (route, oid)
            rows += len(df)
    assert rows >= len(object_ids)  # every object has its diaObject and a source at least; fp: more


def test_csv_of_a_route_is_the_frames(rubin_api, object_ids):
    from api.access import rubin_store
    oid = object_ids[0]
    r = rubin_api.post(f"{LSST}/sources", json={"diaObjectId": str(oid), "output-format": "csv"})
    assert r.status_code == 200
    with rubin_api.application.app_context():
        expected = render_csv(q.history(rubin_store(), "sources", [oid]))
    assert r.data == expected


def _columns() -> Columns:
    return Columns({
        "f": np.array([1.5, np.nan, -2.0]),
        "i": np.array([3, 2**62, -1], dtype=np.int64),
        "gaps": pd.array([1, None, 3], dtype="Int64"),
        "flag": [True, None, False],
        "text": ["a", None, "c"],
        "kept": np.array([np.float32(2.5), None, "x"], dtype=object),
    }, 3)


def test_records_read_as_the_frames_rows():
    cols = _columns()
    assert render_records(cols.records()) == render_json(cols.to_frame())
    rows = cols.records()
    assert {k: v for k, v in rows[0].items() if k != "kept"} == {"f": 1.5, "i": 3, "gaps": 1, "flag": True, "text": "a"}
    assert type(rows[0]["i"]) is int and type(rows[0]["f"]) is float
    assert np.isnan(rows[1]["f"]) and rows[1]["gaps"] is pd.NA and rows[1]["flag"] is None
    assert render_records(rows).startswith(b'[{"f":1.5,"i":3,"gaps":1,"flag":true,"text":"a","kept":"2.5"}')
    assert b'"f":null' in render_records(rows) and b'"gaps":null' in render_records(rows)


def test_empty_columns_answer_an_empty_list_in_every_format():
    empty = Columns({}, 0)
    assert empty.empty and len(empty) == 0 and empty.records() == []
    assert empty.to_frame().empty
    with Flask(__name__).app_context():
        assert respond(empty, "json").data == b"[]"
        assert respond(_columns(), "csv").data == render_csv(_columns().to_frame())
        back = pd.read_parquet(io.BytesIO(respond(_columns(), "parquet").data))
    assert list(back.columns) == _columns().columns and back["i"].tolist() == [3, 2**62, -1]


def test_table_columns_round_every_float32_column_and_order_every_kind_newest_first():
    from api.queries.rubin.frame import table_columns
    data = {"r:midpointMjdTai": np.array([61000.5, 61002.25, 61001.0]),
            "r:raErr": np.array([0.1, 1234.5, np.nan], dtype=np.float32).astype(float),
            "r:decErr": [None, np.float32(3.3), np.float32(-7e-5)],
            "r:ra": np.array([10.123456789012, 11.0, 12.5]),
            "r:diaSourceId": np.array([1, 2, 3]),
            "r:ssObjectId": [None, 5, 6],
            "r:band": ["g", "r", None]}
    cols = table_columns(data, "sources", list(data))
    assert cols.columns == list(data) and len(cols) == 3
    got = cols.data
    assert got["r:midpointMjdTai"].tolist() == [61002.25, 61001.0, 61000.5]
    assert got["r:raErr"][0] == 1234.5 and np.isnan(got["r:raErr"][1])
    assert got["r:raErr"][2] == 0.1  # float32's 0.1 (0.100000001...) to 7 digits
    assert got["r:decErr"][:2].tolist() == [3.3, -7e-05] and np.isnan(got["r:decErr"][2])
    assert got["r:ra"].tolist() == [11.0, 12.5, 10.123456789012]  # float64: as stored
    assert got["r:diaSourceId"].tolist() == [2, 3, 1]
    assert got["r:ssObjectId"].tolist() == [5, 6, pd.NA]
    assert got["r:band"] == ["r", None, "g"]
