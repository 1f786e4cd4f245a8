"""An ingest's store connections (the writer's, Rubin's workers' readers) map none of the
database and cache 16 MB (``store.sqlite_file.ingest_pragmas``: Rubin since issue 19, ZTF since
issue 22); other connections keep the 256 MB map and the 64 MB cache, also after the run."""
import pytest

from conftest import make_config, need, shared_data
from hbase_schema import get_schema
from ingest.night import ingest
from rubin_inputs import parquet_files
from store import open_store
from store.embedded import EmbeddedStore


def _files(survey: str) -> list:
    if survey == "rubin":
        need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
        return parquet_files(2)
    return sorted((shared_data() / "ztf-night-2023-10-18").glob("*.avro"))[:20]


@pytest.mark.parametrize("survey", ["ztf", "rubin"])
def test_the_ingest_opens_its_connections_without_mapped_reads(tmp_path, monkeypatch, survey):
    folder = tmp_path / "night"
    folder.mkdir()
    for f in _files(survey):
        (folder / f.name).symlink_to(f)
    seen = []
    connect = EmbeddedStore._conn

    def spy(self):
        db = connect(self)
        seen.append((db.execute("PRAGMA mmap_size").fetchone()[0], db.execute("PRAGMA cache_size").fetchone()[0]))
        return db

    monkeypatch.setattr(EmbeddedStore, "_conn", spy)
    cfg = make_config("embedded", tmp_path / "s")
    assert ingest(folder, cfg, workers=1, show_progress=False, survey=survey).alerts > 0
    assert seen and set(seen) == {(0, -16384)}
    seen.clear()
    with open_store(cfg, schema=get_schema(survey)) as store:
        store.table("main" if survey == "ztf" else "objects").read(keys=["x"], columns=[])
    assert seen and {m for m, _ in seen} == {268435456} and {c for _, c in seen} == {-65536}
