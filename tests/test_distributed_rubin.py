"""A Rubin night ingested on a Dask cluster (``ingest/distributed.py``, issue 22) ends as the
single-machine ingest leaves it: every Rubin table (the newest diaObject of ``objects``, each
previous and forced source once), the quarantine, the statistics row written once, last; also
when a worker process is killed (kill -9) mid-night, when a second night's history is skipped
because the first night stored it, and when a night is run again. Needs HBase (skips on a
laptop, fails in CI).

Two inputs, cut into small units (``UNIT_ALERTS``) so that two workers share many of them:
30 of the real alerts of 2026-03-10 as Avro containers, with three bad packets and a truncated
file (the quarantine); and two simulated nights in Fink's Parquet, ingested one after the other
into the same store.
"""
from __future__ import annotations

import os
import signal

import pytest

from conftest import backend_config, need, shared_data
from ingest import distributed
from ingest.cli import EXIT_QUARANTINED, main as ingest_cli
from ingest.night import ingest
from rubin_inputs import VOLATILE, parquet_files, records, rubin_dir, stored_tables, write_containers
from rubin_sim import simulate
from test_distributed_ingest import quarantine_lines, use

REAL_FILES = (3, 4, 5, 16, 17, 35)  # of the real Parquet files: 30 alerts of 22 objects, several of two or more
UNIT_ALERTS = 15      # Parquet rows a unit (the simulated nights: 7-8 units each)
CONTAINER_ALERTS = 4  # Avro records a container file (the real alerts: 9 files)
UNIT_FILES = 2        # files a unit (the real alerts: 5 units)


@pytest.fixture(scope="module")
def small_units():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("ingest.rubin.readers.UNIT_ALERTS", UNIT_ALERTS)
        mp.setattr("ingest.plan.UNIT_FILES", UNIT_FILES)
        yield


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1.5GiB",
                      dashboard_address=None) as c, Client(c) as client:
        yield c, client


@pytest.fixture(scope="module")
def real_night(tmp_path_factory):
    """The real alerts as Avro containers, with a packet of another schema version, one with a
    NaN position, one with a truncated cutout, and a truncated container."""
    need(rubin_dir().is_dir(), "real Rubin alerts not available")
    files = parquet_files()
    recs = records([files[i] for i in REAL_FILES])
    bad = [dict(r) for r in recs[:3]]
    bad[0]["lsst_schema_version"] = "lsst.v12_0"
    bad[1]["diaSource"] = {**bad[1]["diaSource"], "ra": float("nan")}
    bad[2]["cutoutScience"] = bad[2]["cutoutScience"][:500]
    folder = write_containers(tmp_path_factory.mktemp("rubin") / "night", recs + bad, per_file=CONTAINER_ALERTS)
    data = (folder / "alerts-0000.avro").read_bytes()
    (folder / "zz_truncated.avro").write_bytes(data[: len(data) // 3])
    return folder, len(recs)


@pytest.fixture(scope="module")
def sim_nights(tmp_path_factory):
    """Two simulated nights (Parquet, no cutouts), each in its own folder."""
    out = simulate(tmp_path_factory.mktemp("sim") / "out", "--nights", "2", "--alerts-per-night", "100",
                   "--seed", "3", "--no-cutouts", "--no-avro")
    nights = []
    for f in sorted((out / "parquet").glob("lsst_*.parquet")):
        folder = out / f.stem
        folder.mkdir()
        (folder / f.name).symlink_to(f)
        nights.append(folder)
    assert len(nights) == 2
    return nights


def test_real_rubin_alerts_on_two_workers_equal_one_process(real_night, small_units, cluster, tmp_path,
                                                            monkeypatch, capsys):
    folder, good = real_night
    with backend_config("hbase", tmp_path / "single") as cfg:
        single = ingest(folder, cfg, workers=1, show_progress=False)
        tables, quarantined = stored_tables(cfg), quarantine_lines(cfg)
    assert single.alerts == good and single.cutouts_dropped == 1  # (the bad copies repeat good diaSourceIds)
    assert single.quarantined == 3 and len(quarantined) == 4  # 2 bad packets, the truncated file; the cutout
    assert tables["objects"] and tables["fp"] and tables["statistics"]
    c, _ = cluster
    with backend_config("hbase", tmp_path / "cluster") as cfg:
        use(cfg, monkeypatch)
        code = ingest_cli(["night", str(folder), "--cluster", c.scheduler_address, "--no-progress"])
        out = capsys.readouterr().out
        assert code == EXIT_QUARANTINED
        assert f"{single.alerts} distinct alerts stored" in out
        assert stored_tables(cfg) == tables
        assert quarantine_lines(cfg) == quarantined
    # a worker that ran a unit uses Arrow's jemalloc pool, as `python -m ingest night` does
    _, client = cluster
    assert not any(client.run(os.environ.get, "ARROW_DEFAULT_MEMORY_POOL").values())  # not from the environment
    ran = [w for w, r in client.run(_ran_a_unit).items() if r]
    pools = client.run(_arrow_pool)
    assert ran and all(pools[w] == "jemalloc" for w in ran), (ran, pools)


def _ran_a_unit(dask_worker) -> bool:
    return dask_worker.state.executed_count > 0


def _arrow_pool() -> str:
    import pyarrow as pa
    return pa.default_memory_pool().backend_name


def _kill_a_busy_worker_after(units: int, c, client, monkeypatch) -> list:
    """kill -9 a worker busy with a unit once ``units`` units are taken; the kills made."""
    pids = client.run(os.getpid)
    killed, taken = [], [0]
    advance = distributed.Progress.advance

    def advance_and_kill(progress, nbytes):
        advance(progress, nbytes)
        taken[0] += 1
        if not killed and taken[0] == units:
            busy = [addr for addr, ws in c.scheduler.workers.items() if ws.processing]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append((busy[0], len(c.scheduler.workers[busy[0]].processing), taken))
    monkeypatch.setattr(distributed.Progress, "advance", advance_and_kill)
    return killed


def test_two_simulated_nights_on_two_workers_a_worker_killed_equal_one_process_and_a_rerun_writes_nothing(
        sim_nights, small_units, cluster, tmp_path, monkeypatch):
    first, second = sim_nights
    with backend_config("hbase", tmp_path / "single") as cfg:
        singles = [ingest(n, cfg, workers=1, show_progress=False) for n in sim_nights]
        tables = stored_tables(cfg)
    c, client = cluster
    calls = []
    write_statistics = distributed.write_statistics
    monkeypatch.setattr(distributed, "write_statistics", lambda *a: calls.append(a) or write_statistics(*a))
    with backend_config("hbase", tmp_path / "cluster") as cfg:
        one = distributed.ingest_on_cluster(first, cfg, c.scheduler_address, show_progress=False)
        killed = _kill_a_busy_worker_after(3, c, client, monkeypatch)
        two = distributed.ingest_on_cluster(second, cfg, c.scheduler_address, show_progress=False)
        assert killed and killed[0][1] >= 1, "no worker was busy when the 3rd unit was taken"
        assert killed[0][2][0] > 3  # the kill came mid-night: units were still to come
        assert len(calls) == 2  # each night's statistics row, once, last
        assert (one.alerts, two.alerts) == (singles[0].alerts, singles[1].alerts)
        stored = stored_tables(cfg)
        assert stored == tables
        # the second night's previous and forced sources were mostly stored by the first: skipped
        # by the workers (read from the store), as by one process
        (night,) = two.nights.values()
        carried = sum(len(r["prvDiaSources"] or ()) for r in _rows(second))
        assert night.sources < carried / 2, (night.sources, carried)

        monkeypatch.setattr(distributed.Progress, "advance", distributed.Progress.advance)
        again = distributed.ingest_on_cluster(second, cfg, c.scheduler_address, show_progress=False)
        assert again.alerts == two.alerts
        (night,) = again.nights.values()
        assert (night.sources, night.forced) == (0, 0)  # every history key was stored: none sent
        after = stored_tables(cfg)
        assert after == stored
    for a, b in zip(_timings(stored), _timings(after)):
        assert a == b  # the statistics row untouched, its timings too: the rerun changed nothing


def _rows(folder) -> list:
    import pyarrow.parquet as pq
    return [r for f in sorted(folder.glob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def _timings(tables) -> list:
    return [(k, {c: v for c, v in cells.items() if c in VOLATILE}) for k, cells in tables["statistics"]]


def test_the_objects_rule_runs_on_the_client_and_workers_never_write_objects(sim_nights, small_units,
                                                                              cluster, tmp_path):
    """The workers' rows never touch ``objects`` (read then written: one writer, the client)."""
    from ingest.surveys import survey
    rubin = survey("rubin")
    assert rubin.newest == ("objects", "obj") and "objects" in rubin.tables(rubin.schema)
    c, client = cluster
    with backend_config("hbase", tmp_path) as cfg:
        from ingest.unit_task import run_unit
        from ingest.plan import plan
        from store import open_store
        with open_store(cfg, create=True, schema=rubin.schema):
            pass
        units = plan(sim_nights[0], None, 1, rubin.split).units
        done = client.submit(run_unit, cfg, "rubin", units[0], None, pure=False).result()
        assert done.prepared.alerts and all(a.obj is not None for a in done.prepared.alerts if a.object_id)
        assert all(not a.writes and not a.prv and not a.fp for a in done.prepared.alerts)  # rows stay there
        with open_store(cfg, schema=rubin.schema) as s:
            assert s.table("objects").count() == 0 and s.table("sources").count() > 0


def test_the_conflicts_replay_keeps_rubins_first_history_version_and_every_own_row():
    """A key several units wrote differently is put again as one process puts it: Rubin sends a
    previous source once a run (its first copy; none after the alert's own source row), every
    version of an alert's own rows; ZTF every version."""
    from ingest.conflicts import Replay
    units = [[("sources", "k1", "prv copy of unit 0", True), ("fp", "f1", "forced v0", True)],
             [("sources", "k1", "own row of unit 1", False), ("fp", "f1", "forced v1", True)],
             [("sources", "k1", "prv copy of unit 2", True), ("sources", "k1", "own again (a repeat)", False)]]
    rubin = Replay(history_once=True)
    assert [p for u in units for _, _, p in rubin.rows(u)] == [
        "prv copy of unit 0", "forced v0", "own row of unit 1", "own again (a repeat)"]
    ztf = Replay(history_once=False)
    assert [p for u in units for _, _, p in ztf.rows(u)] == [p for u in units for _, _, p, _ in u]
