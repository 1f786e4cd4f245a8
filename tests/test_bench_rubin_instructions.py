"""bench/bench_rubin_instructions.py counts, under valgrind, the instructions of the units after
a night's first, preparing and writing them with a checkout's code."""
from __future__ import annotations

import shutil

from conftest import ROOT, need, shared_data
from bench.bench_rubin_instructions import measure


def test_the_real_alerts_second_unit_is_counted_prepared_and_written():
    need(shutil.which("valgrind") is not None, "valgrind not installed (apt-get install valgrind)")
    night = shared_data() / "rubin-fink-2026-03-10"
    got = measure(ROOT, night, 1)  # the second unit: 39 alerts in 12 files
    assert (got["alerts"], got["stored"]) == (39, 39)
    assert 1e5 < got["write_per_alert"] < got["prepare_per_alert"] < 1e10
