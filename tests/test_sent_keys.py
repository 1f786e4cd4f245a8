"""The compact record of history keys sent (``ingest.sent_keys``, issue 19): a hash match is
only a *maybe*, never a reason to drop a row; the Rubin writer confirms it by reading the
store, so even when every key shares one hash the store ends as a clean run leaves it."""
from __future__ import annotations

import shutil

import pytest

import ingest.sent_keys as sent_keys
from conftest import make_config, need, shared_data
from ingest.night import ingest
from ingest.sent_keys import SentKeys
from rubin_inputs import parquet_files, stored_tables


def test_recent_units_are_exact_and_older_keys_are_only_maybe():
    s = SentKeys(recent_units=1, hash_limit=100)
    s.add(["a", "b"])
    s.end_unit()
    s.add(["c"])
    s.end_unit()  # "a" and "b" leave the window: hashes only
    assert s.sent(["a", "b", "c", "d"]).tolist() == [False, False, True, False]
    assert s.maybe(["a", "b", "c", "d"]) == ["a", "b"]
    assert "c" in s and "a" not in s
    assert len(s) == 3


def test_a_collision_is_a_maybe_not_a_sent(monkeypatch):
    monkeypatch.setattr(sent_keys, "key_hash", lambda key: 7)  # every key shares one hash
    s = SentKeys(recent_units=0, hash_limit=100)
    s.add(["stored"])
    s.end_unit()
    assert not s.sent(["never-sent"]).any() and s.maybe(["never-sent"]) == ["never-sent"]


def test_without_hashes_older_units_are_forgotten_and_the_limit_forgets_hashes():
    s = SentKeys(recent_units=1)
    for unit in (["a"], ["b"], ["c"]):
        s.add(unit)
        s.end_unit()
    assert s.sent(["a", "b", "c"]).tolist() == [False, False, True] and s.maybe(["a", "b", "c"]) == []
    assert len(s) == 1
    h = SentKeys(recent_units=0, hash_limit=2)
    h.add(["a", "b"])
    h.end_unit()
    h.add(["c"])
    h.end_unit()  # 3 hashes > 2: the older ones are forgotten (at worst a row sent again)
    assert h.maybe(["a", "b", "c"]) == ["c"]
    h.clear()
    assert len(h) == 0 and h.maybe(["c"]) == [] and "c" not in h


def _copy(files, folder):
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    return folder


def _sent(summary) -> tuple[int, int]:
    return sum(c.sources for c in summary.nights.values()), sum(c.forced for c in summary.nights.values())


@pytest.mark.parametrize("rewrite_history", [True, False])
def test_every_key_colliding_loses_no_row_and_sends_each_key_once(tmp_path, monkeypatch, rewrite_history):
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    folder = _copy(parquet_files(6), tmp_path / "in")
    run = dict(workers=1, show_progress=False, survey="rubin", rewrite_history=rewrite_history)
    clean = make_config("embedded", tmp_path / "clean")
    expected = _sent(ingest(folder, clean, **run))
    # units of 4 alerts, no unit remembered exactly: every key sent before is a hash, and
    # every key shares one hash, so every history row after the first unit is a "maybe"
    monkeypatch.setattr("ingest.rubin.readers.UNIT_ALERTS", 4)
    monkeypatch.setattr("ingest.rubin.write.SENT_UNITS", 0)
    monkeypatch.setattr("ingest.rubin.lists.WORKER_SEEN_UNITS", 0)
    monkeypatch.setattr(sent_keys, "key_hash", lambda key: 7)
    cfg = make_config("embedded", tmp_path / "colliding")
    summary = ingest(folder, cfg, **run)
    assert stored_tables(cfg) == stored_tables(clean)
    # previous sources: confirmed repeats are not counted (nor sent) again. Forced sources go in
    # blocks the writer does not dedupe (a block put adds cells: store.records); with
    # no unit remembered, a worker sends again those the store did not hold yet, stored once (above)
    sources, forced = _sent(summary)
    assert sources == expected[0]
    assert forced >= expected[1], (forced, expected)  # (a unit prepared before the last one was stored: sent again)


def test_a_dry_run_counts_the_history_rows_a_real_run_sends(tmp_path, monkeypatch):
    """A dry run stores nothing to confirm a hash against: its writer keeps the keys exactly."""
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    folder = _copy(parquet_files(6), tmp_path / "in")
    monkeypatch.setattr("ingest.rubin.readers.UNIT_ALERTS", 4)
    monkeypatch.setattr("ingest.rubin.write.SENT_UNITS", 0)
    monkeypatch.setattr("ingest.rubin.lists.WORKER_SEEN_UNITS", 0)
    run = dict(workers=1, show_progress=False, survey="rubin", rewrite_history=True)
    real = _sent(ingest(folder, make_config("embedded", tmp_path / "real"), **run))
    dry = _sent(ingest(folder, make_config("embedded", tmp_path / "dry"), dry_run=True, **run))
    assert dry == real and real[0] > 0
