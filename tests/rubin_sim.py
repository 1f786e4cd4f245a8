"""The simulated Rubin night shared by the simulator's test modules (made once per session)."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from ingest.simulator.cli import main

def simulate(out: Path, *args: str) -> Path:
    assert main([str(out), "--quiet", "--survey", "rubin", *args]) == 0
    return out


def rows(root: Path) -> list[dict]:
    out = []
    for f in sorted((root / "parquet").glob("lsst_*.parquet")):
        out.extend(pq.read_table(f).to_pylist())
    return out


def truth(root: Path) -> pd.DataFrame:
    return pd.read_csv(root / "truth.csv")


@pytest.fixture(scope="session")
def run(tmp_path_factory) -> Path:
    """Two nights, ~150 alerts a night, every output (cutouts, Avro, wire)."""
    return simulate(tmp_path_factory.mktemp("rubin") / "out", "--nights", "2", "--alerts-per-night", "150",
                    "--seed", "7", "--wire")


@pytest.fixture(scope="session")
def alerts(run) -> list[dict]:
    return rows(run)


def same(a, b) -> bool:
    """Equal values, NaN equal to NaN, through dicts and lists."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b
