"""kill -9 of the ingest between appending cutouts to the blob file and the commit that
references them, then a rerun: the tables equal a clean run's (the appended bytes are garbage
no row names, never wrong data)."""
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, comparable, make_config, shared_data
from store import open_store


# the ingest CLI, killed by SIGKILL right after its K-th append to the blob file returns
# (bytes written and flushed, their transaction not yet committed)
_KILLED = """
import os, signal, sys
from store import blobfile
append, calls = blobfile.BlobFile.append_all, [0]
def append_then_die(self, blobs):
    refs = append(self, blobs)
    calls[0] += 1
    if calls[0] == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
    return refs
blobfile.BlobFile.append_all = append_then_die
from ingest.cli import main
sys.exit(main(["night", sys.argv[2], "--no-progress", "--batch-size", "40"]))
"""


def _run(data_dir: Path, night: Path, kill_at: int | None = None) -> int:
    env = dict(os.environ, NOCTURNE_DATA_DIR=str(data_dir), NOCTURNE_BACKEND="embedded", PYTHONPATH=str(ROOT))
    args = ["-c", _KILLED, str(kill_at), str(night)] if kill_at else \
        ["-m", "ingest", "night", str(night), "--no-progress", "--batch-size", "40"]
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=300).returncode




def _blob_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in (data_dir / "nocturne.blobs").glob("*.blob"))


def test_kill_9_between_the_blob_append_and_the_commit_then_rerun_equals_a_clean_run(tmp_path):
    night = shared_data() / "ztf-night-2023-10-18"
    clean = tmp_path / "clean"
    assert _run(clean, night) == 0
    with open_store(make_config("embedded", tmp_path).replace(data_dir=clean)) as store:
        expected = comparable(store)
    assert any(cells for _, cells in expected["main"]) and \
        all("b:cutoutScience_stampData" in cells for _, cells in expected["main"])
    for kill_at in (1, 7):  # the first batch of main rows; one in the middle of the night
        crashed = tmp_path / f"crashed{kill_at}"
        assert _run(crashed, night, kill_at) == -9
        cfg = make_config("embedded", tmp_path).replace(data_dir=crashed)
        with open_store(cfg) as s:
            stored = len(s.table("main").read(ranges=[(None, None)], columns=[]))
            assert stored < len(expected["main"]), "the kill came after the night was written"
            assert not s.table("statistics").row("ztf_20231018"), "a killed night must not look complete"
        appended = _blob_bytes(crashed)
        assert appended > 0, "the kill came before any cutout reached the blob file"
        assert _run(crashed, night) == 0
        with open_store(cfg) as s:
            assert comparable(s) == expected, f"killed after blob append {kill_at}: the rerun differs from a clean run"
        assert _blob_bytes(crashed) > _blob_bytes(clean), "the rerun appended again (old bytes are garbage)"
