"""A disk that fills up during the ingest: a clear error, nothing written is lost, and the
same command completes the night once there is room again.

Uses a size-limited tmpfs mounted by the test (root only, as in CI).
"""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, comparable, make_config, need, shared_data
from store import open_store



def _mount(path, size):
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True,
                   capture_output=True)


def _can_mount(tmp_path) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        _mount(probe, "1m")
    except (subprocess.CalledProcessError, OSError):
        return False
    subprocess.run(["umount", str(probe)], check=False)
    return True


def _ingest(data_dir, night):
    env = dict(os.environ, NOCTURNE_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "ingest", "night", str(night), "--no-progress", "--batch-size", "50"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)


def _stored(cfg):
    with open_store(cfg) as s:
        return comparable(s)


def test_disk_full_then_rerun_with_room_completes_the_night(tmp_path):
    need(_can_mount(tmp_path), "mounting a small tmpfs needs root and mount(8)")
    night = shared_data() / "ztf-night-2023-10-18"
    clean = make_config("embedded", tmp_path).replace(data_dir=tmp_path / "clean")
    assert _ingest(clean.data_dir, night).returncode == 0

    disk = tmp_path / "small"
    disk.mkdir()
    _mount(disk, "12m")  # the night needs about 30 MB
    try:
        full = make_config("embedded", tmp_path).replace(data_dir=disk / "store")
        first = _ingest(full.data_dir, night)
        assert first.returncode == 1, first.stderr[-2000:]
        assert "full" in first.stderr and "run the same command again" in first.stderr
        assert "Traceback" not in first.stderr
        with open_store(full) as s:
            stored = s.table("main").count()
            assert 0 < stored < 558, f"the disk should fill part-way, after {stored} alerts"
            assert not s.table("statistics").row("ztf_20231018"), "a night cut short must not look complete"
        subprocess.run(["mount", "-o", "remount,size=200m", str(disk)], check=True)
        second = _ingest(full.data_dir, night)
        assert second.returncode == 0, second.stderr[-2000:]
        assert _stored(full) == _stored(clean)
        print(f"disk full after {stored} alerts; rerun completed 558/558")
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
