"""bench/bench_unit_handoff.py runs both ways and every unit comes back whole."""
from __future__ import annotations

import os

from conftest import need
from bench.bench_unit_handoff import handoff
from ingest import unit_files


def test_both_ways_hand_back_every_unit_whole():
    need(unit_files.writable(), "no writable /dev/shm")
    for way in ("pipe", "files"):
        r = handoff(way, units=3, mb=1)
        assert r["pieces"] == 3 * (2**20 // 100_000) and r["writer_cpu_s"] >= 0 and r["wall_s"] > 0
    assert not list(unit_files.SHM.glob(f"{unit_files.PREFIX}{os.getpid()}-*"))
