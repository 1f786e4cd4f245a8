"""The ingest's bookkeeping (issue 17): statistics of the night whatever the runs, the
quarantine keeping every piece of evidence once, skipped files said, files not for others."""
import io
import json
import logging
import os
import shutil
import stat
import tarfile
from pathlib import Path

import pytest

from conftest import comparable, dump, make_config, shared_data
from ingest.night import ingest
from store import open_store

NIGHT = "20231018"


def night_files():
    return sorted((shared_data() / "ztf-night-2023-10-18").glob("*.avro"))


def link_into(folder: Path, files) -> Path:
    folder.mkdir(parents=True)
    for f in files:
        (folder / f.name).symlink_to(f)
    return folder


def stored(cfg):
    with open_store(cfg) as store:
        return comparable(store)


def stats_row(cfg, night=NIGHT):
    with open_store(cfg) as store:
        table = store.table("statistics")
        return table.row(table.keys.build(store.prefix, night))


def quarantine_lines(cfg, night=NIGHT):
    path = cfg.data_dir / "quarantine" / night / "quarantine.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()]


# -- statistics ------------------------------------------------------------------------------

def test_a_night_ingested_in_two_parts_has_the_statistics_of_one_run(tmp_path):
    files = night_files()
    first, second = link_into(tmp_path / "part1", files[:300]), link_into(tmp_path / "part2", files[300:])
    whole = make_config("embedded", tmp_path / "whole")
    parts = make_config("embedded", tmp_path / "parts")
    one = ingest(shared_data() / "ztf-night-2023-10-18", whole, show_progress=False)
    assert (one.alerts, one.duplicates, one.packets) == (558, 3, 561)  # stored counts distinct alerts
    ingest(first, parts, show_progress=False)
    ingest(second, parts, show_progress=False)
    row = stats_row(parts)
    assert (row["basic:sci"], row["basic:raw"], row["basic:duplicates"]) == (558, 561, 3)
    assert row["basic:n_objects"] == 515 and row["basic:n_g"] + row["basic:n_r"] + row["basic:n_i"] == 558
    expected = stored(whole)
    assert stored(parts) == expected  # every table, the statistics row included
    again = ingest(first, parts, show_progress=False)  # a partial rerun: the night's row stays
    assert (again.alerts, again.duplicates, again.packets) == (297, 3, 300)
    after = stored(parts)
    # (in this sample, different bad-quality detections of one object share a jd, hence a
    # history row key: the last run to write that key wins, so only that table may differ)
    assert {t: rows for t, rows in after.items() if t != "uppervalid"} == \
        {t: rows for t, rows in expected.items() if t != "uppervalid"}
    assert [k for k, _ in after["uppervalid"]] == [k for k, _ in expected["uppervalid"]]


def test_a_second_ingest_of_the_same_files_changes_nothing_not_even_the_timings(tmp_path):
    files = night_files()[:40]
    folder = link_into(tmp_path / "night", files)
    cfg = make_config("embedded", tmp_path)
    ingest(folder, cfg, show_progress=False)
    with open_store(cfg) as store:
        before = dump(store)
    ingest(folder, cfg, show_progress=False)
    with open_store(cfg) as store:
        assert dump(store) == before


# -- quarantine ------------------------------------------------------------------------------

@pytest.fixture
def two_same_named_bad_files(tmp_path):
    files = night_files()
    root = tmp_path / "input"
    for i, folder in enumerate(("a", "b")):
        (root / folder).mkdir(parents=True)
        data = files[i].read_bytes()
        (root / folder / "bad.avro").write_bytes(data[: len(data) // (2 + i)])  # two different cuts
    shutil.copy(files[5], root / "a" / files[5].name)
    return root


def test_same_named_bad_files_in_two_folders_are_both_kept(two_same_named_bad_files, tmp_path):
    cfg = make_config("embedded", tmp_path)
    summary = ingest(two_same_named_bad_files, cfg, night=NIGHT, show_progress=False)
    assert summary.quarantined == 2 and summary.alerts == 1
    lines = quarantine_lines(cfg)
    assert len(lines) == 2
    assert {Path(x["source"]).parent.name for x in lines} == {"a", "b"}
    for entry in lines:
        kept = Path(entry["saved_as"]).read_bytes()
        assert kept == Path(entry["source"]).read_bytes()  # each file's own bytes, none overwritten
    assert len({x["saved_as"] for x in lines}) == 2


def test_a_rerun_adds_no_quarantine_line_and_the_count_stays(two_same_named_bad_files, tmp_path):
    cfg = make_config("embedded", tmp_path)
    ingest(two_same_named_bad_files, cfg, night=NIGHT, show_progress=False)
    first = quarantine_lines(cfg)
    saved = sorted(p.name for p in (cfg.data_dir / "quarantine" / NIGHT).iterdir())
    again = ingest(two_same_named_bad_files, cfg, night=NIGHT, show_progress=False)
    assert again.quarantined == 2  # this run met both again...
    assert quarantine_lines(cfg) == first  # ...and listed neither twice
    assert sorted(p.name for p in (cfg.data_dir / "quarantine" / NIGHT).iterdir()) == saved
    row = stats_row(cfg)
    assert (row["basic:quarantined"], row["basic:sci"], row["basic:raw"]) == (2, 1, 3)


def test_repeated_packets_are_listed_once_across_reruns(tmp_path):
    folder = link_into(tmp_path / "night", night_files()[:30])  # files 2 and 26 share a candid
    cfg = make_config("embedded", tmp_path)
    for _ in range(2):
        summary = ingest(folder, cfg, show_progress=False)
        assert (summary.alerts, summary.duplicates) == (29, 1)
    lines = (cfg.data_dir / "repeats" / f"{NIGHT}.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["candid"] == 2481242665515015008
    row = stats_row(cfg)
    assert (row["basic:sci"], row["basic:duplicates"], row["basic:raw"]) == (29, 1, 30)


def test_a_truncated_archive_is_kept_in_quarantine(tmp_path):
    files = night_files()[:6]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for f in files:
            tar.add(f, arcname=f"night/{f.name}")
    data = buf.getvalue()
    archive = tmp_path / "ztf_public_20231018.tar.gz"
    archive.write_bytes(data[: int(len(data) * 0.6)])
    cfg = make_config("embedded", tmp_path)
    summary = ingest(archive, cfg, night=NIGHT, show_progress=False)
    assert summary.quarantined == 1 and 1 <= summary.alerts < 6  # the members before the cut are stored
    (entry,) = quarantine_lines(cfg)
    assert entry["source"] == str(archive) and "damaged archive" in entry["reason"]
    assert Path(entry["saved_as"]).read_bytes() == archive.read_bytes()


def test_files_that_hold_no_alerts_are_logged_once_with_their_names(tmp_path, caplog):
    folder = link_into(tmp_path / "night", night_files()[:3])
    (folder / "notes.txt").write_text("observing log")
    (folder / "_SUCCESS").write_text("")
    archive = tmp_path / "night" / "extra.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(night_files()[3], arcname="a.avro")
        info = tarfile.TarInfo("README")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    caplog.set_level(logging.INFO, logger="nocturne")
    summary = ingest(folder, make_config("embedded", tmp_path), show_progress=False, workers=1)
    assert summary.alerts == 4
    said = [r.getMessage() for r in caplog.records if "not alert files" in r.getMessage()]
    assert len(said) == 2, said
    folder_line = next(m for m in said if "extra.tar" not in m.split(":")[0])
    assert "skipped 2 file(s)" in folder_line and "_SUCCESS" in folder_line and "notes.txt" in folder_line
    tar_line = next(m for m in said if m is not folder_line)
    assert "skipped 1 file(s) in" in tar_line and "README" in tar_line


# -- file modes ------------------------------------------------------------------------------

@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # the usual umask, which made 0644 files
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_and_quarantine_files_are_not_readable_by_others(two_same_named_bad_files, tmp_path, open_umask):
    cfg = make_config("embedded", tmp_path)
    ingest(two_same_named_bad_files, cfg, night=NIGHT, show_progress=False)
    with open_store(cfg) as store:
        store.table("main").count()
        db = cfg.data_dir / "nocturne.sqlite3"
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert path.exists() and mode(path) == 0o600, (path, oct(mode(path)))
    qdir = cfg.data_dir / "quarantine" / NIGHT
    assert mode(qdir) == 0o700
    assert {mode(p) for p in qdir.iterdir()} == {0o600}


def test_an_existing_store_open_to_others_is_tightened_on_open(tmp_path, open_umask, caplog):
    cfg = make_config("embedded", tmp_path)
    ingest(night_files()[0], cfg, show_progress=False)
    db = cfg.data_dir / "nocturne.sqlite3"
    os.chmod(db, 0o644)  # as an older version left it
    caplog.set_level(logging.WARNING, logger="nocturne")
    with open_store(cfg) as store:
        assert store.table("main").count() == 1
    assert mode(db) == 0o600
    assert any("readable by others" in r.getMessage() and "0644" in r.getMessage() for r in caplog.records)


def test_a_ledger_line_torn_by_a_crash_does_not_swallow_the_next(tmp_path):
    from ingest.quarantine import Ledger
    path = tmp_path / "q" / "quarantine.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps({"key": "a"}) + "\n" + '{"key": "b", "reas')  # killed mid-line
    ledger = Ledger(path)
    assert len(ledger) == 1
    assert not ledger.add({"key": "a"}) and ledger.add({"key": "b"})
    lines = path.read_text().splitlines()
    assert json.loads(lines[-1]) == {"key": "b"} and len(Ledger(path)) == 2
