"""The workers hand their prepared units back as files in memory (``ingest.unit_files``): the
writer gets the same units, each file is removed once read, the run's folder when the run
ends, a killed run's folder at the next start; without a folder, or when a file cannot be
written, the unit goes through the pipe as before."""
from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
from functools import partial

import pytest

from conftest import make_config, need, shared_data
from ingest import unit_files
from ingest.plan import plan
from ingest.prepare import Workers
from ingest.rubin.prepare import RubinPreparer
from ingest.rubin.readers import split_units
from ingest.unit_files import PREFIX, UnitFiles, held_bytes, sweep, take


def test_a_unit_handed_as_a_file_comes_back_the_same_and_its_file_goes(tmp_path):
    files = UnitFiles(tmp_path)
    assert files.folder.parent == tmp_path and files.folder.name.startswith(f"{PREFIX}{os.getpid()}-")
    unit = {"alerts": [("key", b"\x00" * 1000, 3.5)] * 100, "rejects": []}
    handed = files.hand(pickle.dumps(unit))
    assert isinstance(handed, str) and os.path.dirname(handed) == str(files.folder)
    assert held_bytes(tmp_path, os.getpid()) == os.path.getsize(handed) > 0
    assert take(handed) == unit
    assert not os.path.exists(handed) and held_bytes(tmp_path) == 0
    files.close()
    assert not any(tmp_path.iterdir())


def test_without_a_folder_or_a_writable_file_the_unit_goes_as_bytes(tmp_path, caplog):
    unit = list(range(1000))
    data = pickle.dumps(unit)
    caplog.set_level(logging.INFO, logger="nocturne.ingest")
    nowhere = UnitFiles(None)
    assert nowhere.folder is None and nowhere.hand(data) is data and take(data) == unit
    missing = UnitFiles(tmp_path / "no such folder")
    assert missing.folder is None and missing.hand(data) is data
    assert [r.getMessage() for r in caplog.records].count(
        f"the workers hand their units back through the pipe: no writable {tmp_path / 'no such folder'}") == 1
    caplog.clear()
    gone = UnitFiles(tmp_path)
    gone.close()           # e.g. removed under the run: the file cannot be written
    gone.folder = tmp_path / "removed"
    assert gone.hand(data) is data and take(gone.hand(data)) == unit
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "a unit goes back through the pipe" in warned[0].getMessage()  # once, not per unit


def test_the_folders_of_ingests_no_longer_running_are_swept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{PREFIX}{int(dead.stdout)}-abc"
    stale.mkdir()
    (stale / "x.unit").write_bytes(b"left by a kill -9")
    mine = UnitFiles(tmp_path)       # a new run sweeps at its start
    other = tmp_path / "not-ours"
    other.mkdir()
    assert not stale.exists() and mine.folder.exists() and other.exists()
    assert sweep(tmp_path) == []     # a running ingest's folder (ours) stays
    mine.close()


def test_two_workers_hand_back_the_units_in_memory_files_and_leave_none(tmp_path):
    """The units a 2-worker pool hands back through files are those prepared in this process."""
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    need(unit_files.writable(), "no writable /dev/shm")
    from rubin_inputs import parquet_files
    folder = tmp_path / "night"
    folder.mkdir()
    for f in parquet_files(12):
        (folder / f.name).write_bytes(f.read_bytes())
    config = make_config("embedded", tmp_path / "store")
    p = plan(folder, workers=2, split=partial(split_units, alerts=5))
    with Workers(config, p, partial(RubinPreparer)) as workers:
        assert workers.files.folder is not None
        run_folder = workers.files.folder
        got = [[(a.index, a.source_id) for a in u.alerts] for u in workers.prepared()]
    assert not run_folder.exists()
    one = plan(folder, workers=1, split=partial(split_units, alerts=5))
    with Workers(config, one, partial(RubinPreparer)) as workers:
        assert workers.files is None
        assert got == [[(a.index, a.source_id) for a in u.alerts] for u in workers.prepared()]
    assert len(got) == len(p.units) > 1


def test_a_worker_hands_back_a_file_name_not_the_bytes(tmp_path):
    """Through the pool, what crosses the pipe is the file's name (a short string)."""
    from ingest import prepare
    files = UnitFiles(tmp_path)
    old = prepare._worker, prepare._files

    class Echo:
        def run(self, unit):
            return {"unit": unit, "payload": b"\x01" * 100_000}
    try:
        prepare._worker, prepare._files = Echo(), files
        handed = prepare.run_unit(["a.parquet"])
        assert isinstance(handed, str) and len(handed) < 200
        assert take(handed) == {"unit": ["a.parquet"], "payload": b"\x01" * 100_000}
        prepare._files = None
        assert isinstance(prepare.run_unit(["b"]), bytes)
    finally:
        prepare._worker, prepare._files = old
        files.close()


@pytest.mark.parametrize("name", ["nocturne-units-x-1", "nocturne-units-"])
def test_a_folder_without_a_pid_is_left_alone(tmp_path, name):
    (tmp_path / name).mkdir()
    assert sweep(tmp_path) == [] and (tmp_path / name).exists()


def test_an_ingest_killed_with_its_units_in_memory_is_swept_and_completed_by_the_next(tmp_path):
    """kill -9 of a 2-worker ingest leaves its folder of units in /dev/shm (its workers die
    with it); the same night again removes that folder, leaves none of its own and stores what
    a clean run stores."""
    import shutil
    import signal
    import time

    from conftest import ROOT
    from ingest.night import ingest
    from rubin_inputs import parquet_files, stored_tables

    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    need(unit_files.writable(), "no writable /dev/shm")
    night = tmp_path / "night"
    night.mkdir()
    for f in parquet_files():   # 107 alerts, ~36 MB decoded: more than one unit
        shutil.copy(f, night / f.name)
    clean = make_config("embedded", tmp_path / "clean")
    ingest(night, clean, workers=1, show_progress=False)
    crashed = make_config("embedded", tmp_path / "crashed")
    env = dict(os.environ, NOCTURNE_DATA_DIR=str(crashed.data_dir), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "ingest", "night", str(night), "--no-progress", "--workers", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folders, deadline = [], time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not folders:
        folders = list(unit_files.SHM.glob(f"{PREFIX}{proc.pid}-*"))
        time.sleep(0.002)
    assert folders, "the ingest ended before its folder of units was seen: nothing was tested"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert folders[0].exists()  # left by the kill
    ingest(night, crashed, workers=2, show_progress=False)
    assert not folders[0].exists()
    assert not list(unit_files.SHM.glob(f"{PREFIX}{os.getpid()}-*"))
    assert stored_tables(crashed) == stored_tables(clean)
