"""A night ingested on a Dask cluster (``ingest/distributed.py``, issue 22) ends as the
single-machine ingest leaves it: every table, the quarantine, the statistics row; also when a
worker process is killed (kill -9) mid-night. Needs HBase (skips on a laptop, fails in CI).

The night: 150 real packets of 2023-10-18 (symbolic links), two mistyped packets and one
with a damaged cutout (``tests/damaged.py``), cut into units of 8 files so two workers share
about twenty units.
"""
from __future__ import annotations

import json
import os
import signal

import pytest

from conftest import backend_config, dump, make_config
from damaged import flipped_stamp, mistyped, real_files
from ingest import distributed
from ingest.cli import EXIT_QUARANTINED, main as ingest_cli
from ingest.night import ingest
from store import open_store

UNIT_FILES = 8
VOLATILE = ("basic:duration_s", "basic:finished")


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    folder = tmp_path_factory.mktemp("night")
    files = real_files(153)
    for f in files[:150]:
        (folder / f.name).symlink_to(f)
    mistyped(files[150], folder / "zz_ra_string.avro", "ra")
    mistyped(files[151], folder / "zz_jd_string.avro", "jd")
    flipped_stamp(files[152], folder / "zz_flipped.avro")
    return folder


@pytest.fixture
def small_units(monkeypatch):
    monkeypatch.setattr("ingest.plan.UNIT_FILES", UNIT_FILES)


@pytest.fixture(scope="module")
def reference(night, tmp_path_factory):
    """The night ingested by one process (no cluster) into its own HBase tables."""
    with backend_config("hbase", tmp_path_factory.mktemp("single")) as cfg:
        summary = ingest(night, cfg, workers=1, show_progress=False)
        with open_store(cfg) as store:
            yield summary, comparable(store), quarantine_lines(cfg)


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB",
                      dashboard_address=None) as c, Client(c) as client:
        yield c, client


def use(cfg, monkeypatch) -> None:
    """The command line's configuration: ``cfg``, through NOCTURNE_* variables."""
    for key in ("backend", "data_dir", "table_prefix", "hbase_host", "hbase_port"):
        monkeypatch.setenv(f"NOCTURNE_{key.upper()}", str(getattr(cfg, key)))


def comparable(store) -> dict:
    """Every table's rows, the statistics without its timings, keys without the table prefix."""
    tables = dump(store, [t for t in store.schema.tables if t != "meta"])  # meta: creation times
    tables["statistics"] = [(k.split("_", 1)[1], {c: v for c, v in cells.items() if c not in VOLATILE})
                            for k, cells in tables["statistics"]]
    return tables


def quarantine_lines(cfg) -> list:
    path = cfg.data_dir / "quarantine"
    lines = [json.loads(x) for p in sorted(path.rglob("quarantine.jsonl")) for x in p.read_text().splitlines()]
    return sorted((x["source"], x["index"], x["reason"], x["sha256"], os.path.basename(x["saved_as"] or ""))
                  for x in lines)


def test_a_night_on_two_workers_equals_one_process(night, reference, cluster, small_units, tmp_path,
                                                   monkeypatch, capsys):
    single, tables, quarantined = reference
    c, _ = cluster
    with backend_config("hbase", tmp_path) as cfg:
        use(cfg, monkeypatch)
        code = ingest_cli(["night", str(night), "--cluster", c.scheduler_address, "--no-progress"])
        out = capsys.readouterr().out
        assert code == EXIT_QUARANTINED  # two packets quarantined, one cutout left out
        assert f"{single.alerts} distinct alerts stored" in out and "2 quarantined" in out
        with open_store(cfg) as store:
            assert comparable(store) == tables
        assert quarantine_lines(cfg) == quarantined and len(quarantined) == 3
        for line in quarantined:  # each packet is kept beside its line, on the client's disk
            assert (cfg.data_dir / "quarantine" / "20231018" / line[4]).is_file()
    assert single.quarantined == 2 and single.cutouts_dropped == 1  # its alert is stored without the cutout
    assert single.alerts + single.duplicates == 151 and single.alerts > 140
    assert len(tables["main"]) == single.alerts and tables["upper"] and tables["objects_sky"]


def test_a_worker_killed_mid_night_is_redone_and_the_night_ends_as_a_clean_run(night, reference, cluster,
                                                                            small_units, tmp_path, monkeypatch):
    single, tables, quarantined = reference
    c, client = cluster
    pids = client.run(os.getpid)
    killed = []
    advance = distributed.Progress.advance

    def advance_and_kill(progress, nbytes):  # after the 3rd unit is taken, kill -9 a busy worker
        advance(progress, nbytes)
        if len(killed) == 0 and progress.bytes_done and advance_and_kill.units == 2:
            busy = [addr for addr, ws in c.scheduler.workers.items() if ws.processing]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append((busy[0], len(c.scheduler.workers[busy[0]].processing)))
        advance_and_kill.units += 1
    advance_and_kill.units = 0
    monkeypatch.setattr(distributed.Progress, "advance", advance_and_kill)
    calls = []
    write_statistics = distributed.write_statistics
    monkeypatch.setattr(distributed, "write_statistics", lambda *a: calls.append(a) or write_statistics(*a))

    with backend_config("hbase", tmp_path) as cfg:
        summary = distributed.ingest_on_cluster(night, cfg, c.scheduler_address, show_progress=False)
        assert killed and killed[0][1] >= 1, "no worker was busy when the 3rd unit was taken"
        assert advance_and_kill.units > 3  # the kill came mid-night: units were still to come
        assert summary.alerts == single.alerts and summary.quarantined == 2
        with open_store(cfg) as store:
            assert comparable(store) == tables
        assert quarantine_lines(cfg) == quarantined
    assert len(calls) == 1  # the statistics row, once, last


def test_cluster_refuses_the_embedded_store(night, tmp_path, monkeypatch, capsys):
    cfg = make_config("embedded", tmp_path)
    monkeypatch.setenv("NOCTURNE_BACKEND", "embedded")
    monkeypatch.setenv("NOCTURNE_DATA_DIR", str(cfg.data_dir))
    code = ingest_cli(["night", str(night), "--cluster", "local:2", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--cluster needs the hbase backend" in err and "SQLite" in err
    assert not cfg.data_dir.exists()  # refused before anything is opened or started


def test_cluster_address_is_checked_before_anything_is_opened(night, tmp_path, monkeypatch, capsys):
    cfg = make_config("hbase", tmp_path, "never")
    use(cfg, monkeypatch)
    for wrong in ("scheduler:8786", "local:0", "local:two"):
        assert ingest_cli(["night", str(night), "--cluster", wrong, "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert f"--cluster {wrong!r}" in err and ("tcp://HOST:8786" in err or "1 ≤ N ≤ 64" in err)
    assert not cfg.data_dir.exists()


def test_a_rubin_night_is_taken_on_a_cluster_with_its_options_and_refused_only_on_the_embedded_store(
        tmp_path, monkeypatch, capsys):
    """Rubin nights run on a cluster (tests/test_distributed_rubin.py); --schema and
    --rewrite-history go with them; the embedded store is refused before anything is opened."""
    from conftest import shared_data
    cfg = make_config("embedded", tmp_path)
    monkeypatch.setenv("NOCTURNE_BACKEND", "embedded")
    monkeypatch.setenv("NOCTURNE_DATA_DIR", str(cfg.data_dir))
    night = shared_data() / "rubin-fink-2026-03-10"
    code = ingest_cli(["night", str(night), "--cluster", "local:2", "--rewrite-history", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "--cluster needs the hbase backend" in err and "Rubin" not in err
    with pytest.raises(distributed.ClusterRefused, match="needs the hbase backend"):
        distributed.ingest_on_cluster(night, cfg, "local:2", rewrite_history=True)
    assert not cfg.data_dir.exists()  # no lock, no store, no cluster started


def test_keys_written_differently_by_several_units_are_found_in_each_of_them():
    from ingest.conflicts import Fingerprints, as_array, key_digest, payload_digest
    a, b, c = (key_digest("upper", k) for k in ("ZTF1_1", "ZTF1_2", "ZTF2_1"))
    same, other = payload_digest({"i:jd": b"1"}), payload_digest({"i:jd": b"2"})
    assert same != other and payload_digest({"i:jd": b"1"}) == same
    prints = Fingerprints()
    prints.add(0, as_array([(a, same), (b, same)]))
    prints.add(1, as_array([(a, same), (c, same)]))   # a again, the same bytes: no conflict
    prints.add(2, as_array([(b, other)]))             # b with other bytes: units 0 and 2 hold it
    prints.add(3, as_array([]))
    assert prints.conflicts() == {0: {b}, 2: {b}}
