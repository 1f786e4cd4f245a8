"""The cyclic garbage collector is paused while a ZTF unit is taken by the writer, and on again
between units and after the night (ingest.gc_pause)."""
import gc
from pathlib import Path

from conftest import make_config, shared_data
from ingest.night import ingest
from ingest.write import Writer


def test_the_ztf_writer_takes_units_with_the_collector_paused_and_it_is_on_between_them(tmp_path, monkeypatch):
    files = sorted((shared_data() / "ztf-night-2023-10-18").glob("*.avro"))[:30]
    folder = tmp_path / "night"
    folder.mkdir()
    for f in files:
        (folder / f.name).symlink_to(f)
    during, between = [], []
    take = Writer.take

    def watched(self, unit):
        during.append(gc.isenabled())
        take(self, unit)

    monkeypatch.setattr(Writer, "take", watched)
    real_progress = __import__("ingest.progress", fromlist=["Progress"]).Progress.advance

    def advance(self, nbytes):
        between.append(gc.isenabled())
        real_progress(self, nbytes)

    monkeypatch.setattr("ingest.progress.Progress.advance", advance)
    assert gc.isenabled()
    summary = ingest(Path(folder), make_config("embedded", tmp_path / "store"), show_progress=False)
    assert summary.alerts > 0
    assert during and not any(during)
    assert between and all(between)
    assert gc.isenabled()
