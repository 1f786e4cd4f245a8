"""Rubin's units of work hold at most ``UNIT_ALERTS`` alerts whatever the input's row groups
(``ingest.rubin.readers.split_units``): what a worker prepares and hands to the writer at a
time is bounded by alerts, so the ingest's memory is too (issue 19). A part of a file reads
the same packets as the whole file, whichever parts a worker read before."""
from __future__ import annotations

from functools import partial

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import make_config, need, shared_data
from ingest.plan import plan
from ingest.prepare import Workers
from ingest.rubin import readers
from ingest.rubin.prepare import RubinPreparer
from ingest.rubin.readers import ParquetPart, packets_of, split_units
from rubin_inputs import parquet_files


@pytest.fixture
def one_group(tmp_path):
    """The real alerts as one Parquet file of a single row group (as a delivery may write it)."""
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    table = pa.concat_tables([pq.read_table(f) for f in parquet_files()], promote_options="default")
    folder = tmp_path / "night"
    folder.mkdir()
    pq.write_table(table, folder / "night.parquet", row_group_size=table.num_rows)
    assert pq.ParquetFile(folder / "night.parquet").metadata.num_row_groups == 1
    return folder, table.num_rows


def _ids(packets) -> list:
    return [(p.index, p.record["diaSourceId"], len(p.record["prvDiaForcedSources"] or ())) for p in packets]


def test_a_row_group_bigger_than_the_bound_is_cut_into_units_of_at_most_that_many_alerts(one_group, monkeypatch):
    folder, alerts = one_group
    monkeypatch.setattr(readers, "UNIT_ALERTS", 20)
    units = plan(folder, split=split_units).units
    assert [(u[0].start, u[0].stop) for u in units] == [(s, min(alerts, s + 20)) for s in range(0, alerts, 20)]


def test_small_files_are_grouped_whole_up_to_the_bound(monkeypatch):
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    files = parquet_files(12)
    rows = {f: pq.ParquetFile(f).metadata.num_rows for f in files}
    got = split_units([files], 0, alerts=7)
    assert [f for u in got for f in u] == files  # whole files, in order
    assert all(sum(rows[f] for f in u) <= 7 for u in got) and len(got) > 1


def test_parts_read_the_packets_of_the_whole_file_in_any_order(one_group):
    folder, alerts = one_group
    file = folder / "night.parquet"
    whole = _ids(packets_of([file]))
    parts = [ParquetPart(file, s, min(alerts, s + 9)) for s in range(0, alerts, 9)]
    readers._Cursor.current = None
    forward = [_ids(packets_of([p])) for p in parts]  # one cursor goes on from part to part
    assert [x for part in forward for x in part] == whole
    every_other = [_ids(packets_of([p])) for p in parts[1::2]]  # skips the parts another worker took
    assert [x for part in every_other for x in part] == [x for part in forward[1::2] for x in part]
    backwards = [_ids(packets_of([p])) for p in reversed(parts)]  # the file is opened again
    assert [x for part in reversed(backwards) for x in part] == whole


def test_the_workers_hand_back_at_most_the_bound_of_alerts_at_a_time(one_group, monkeypatch, tmp_path):
    folder, alerts = one_group
    monkeypatch.setattr(readers, "UNIT_ALERTS", 20)
    p = plan(folder, workers=2, split=split_units)
    config = make_config("embedded", tmp_path / "store")
    with Workers(config, p, partial(RubinPreparer)) as workers:
        prepared = list(workers.prepared())
    sizes = [len(u.alerts) + len(u.rejects) for u in prepared]
    assert max(sizes) <= 20 and len(prepared) == len(p.units) > 1
    assert [a.index for u in prepared for a in u.alerts] == list(range(alerts))  # each alert once, in order
    assert sum(u.nbytes for u in prepared) == pytest.approx((folder / "night.parquet").stat().st_size, abs=len(prepared))


def test_heavy_alerts_come_in_units_bounded_by_their_decoded_bytes(one_group, monkeypatch, tmp_path):
    """Alerts with cutouts decode to ~10x the bytes of alerts without: units are bounded by
    Parquet's decoded size too, so a unit of heavy alerts holds fewer of them; the packets
    are still each read once, in order."""
    folder, alerts = one_group
    meta = pq.ParquetFile(folder / "night.parquet").metadata
    room_for_6 = -(-meta.row_group(0).total_byte_size * 6 // meta.num_rows)  # (rounded up)
    monkeypatch.setattr(readers, "UNIT_BYTES", room_for_6)
    units = plan(folder, split=split_units).units
    assert [(u[0].start, u[0].stop) for u in units] == [(s, min(alerts, s + 6)) for s in range(0, alerts, 6)]
    files = parquet_files(12)
    size = {f: sum(pq.ParquetFile(f).metadata.row_group(i).total_byte_size
                   for i in range(pq.ParquetFile(f).metadata.num_row_groups)) for f in files}
    monkeypatch.setattr(readers, "UNIT_BYTES", max(size.values()) * 2)
    got = split_units([files], 0)
    assert [f for u in got for f in u] == files and len(got) > 1
    assert all(len(u) == 1 or sum(size[f] for f in u) <= readers.UNIT_BYTES for u in got)
    config = make_config("embedded", tmp_path / "store")
    monkeypatch.setattr(readers, "UNIT_BYTES", room_for_6)
    with Workers(config, plan(folder, workers=2, split=split_units), partial(RubinPreparer)) as workers:
        prepared = list(workers.prepared())
    assert max(len(u.alerts) + len(u.rejects) for u in prepared) <= 6
    assert [a.index for u in prepared for a in u.alerts] == list(range(alerts))


def test_the_cutouts_batch_holds_a_bounded_number_of_rows(tmp_path, monkeypatch):
    """A Rubin cutouts row is ~115 KB: its write batch holds at most 200 of them (5,000, the
    other tables' size, held ~575 MB in the writer); the other tables keep the survey's size,
    and a smaller size asked for is kept."""
    from ingest.night import ingest
    from ingest.surveys import survey
    from rubin_inputs import rubin_dir
    from store import base

    rubin = survey("rubin")
    assert rubin.batch_size_of("cutouts") == 200 and rubin.batch_size_of("sources") == 5000
    assert rubin.batch_size_of("cutouts", 50) == 50 and survey("ztf").batch_size_of("main") == 500
    need(rubin_dir().is_dir(), "real Rubin alerts not available")
    sizes: dict = {}
    batch = base.Table.batch

    def recording(self, batch_size=base.DEFAULT_BATCH_SIZE):
        sizes[self.spec.logical] = batch_size
        return batch(self, batch_size)

    monkeypatch.setattr(base.Table, "batch", recording)
    ingest(rubin_dir(), make_config("embedded", tmp_path / "store"), show_progress=False, workers=1, survey="rubin")
    assert sizes["cutouts"] == 200 and sizes["sources"] == sizes["fp"] == 5000


def test_parts_of_a_file_without_alerts_or_unreadable_read_as_the_whole_file(tmp_path, caplog):
    """A part of a Parquet file without Rubin's alert columns reads nothing (the file's skip is
    logged once, by its first part), whichever file the worker's cursor was on; a part of a
    file whose footer cannot be read is one unreadable-file packet naming the file, as a whole file is."""
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": list(range(30))}), other, row_group_size=10)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1" + b"\0" * 64)
    readers._Cursor.current = None
    with caplog.at_level("WARNING"):
        assert list(packets_of([ParquetPart(other, s, s + 10) for s in (0, 10, 20)])) == []
        assert list(packets_of([other])) == []
    assert sum("without Rubin alert columns" in r.getMessage() for r in caplog.records) == 2
    for files in ([broken], [ParquetPart(broken, 0, 5)], [ParquetPart(broken, 5, 9)]):
        got = list(packets_of(files))
        assert len(got) == 1 and got[0].record is None and got[0].whole_file == broken
        assert got[0].error.startswith("unreadable Parquet after ")


def test_heavy_alerts_are_decoded_a_few_at_a_time(one_group, monkeypatch):
    """Parquet is decoded in batches of at most ``BATCH_ROWS`` rows and about ``BATCH_BYTES``
    decoded bytes (alerts with cutouts: fewer rows a batch, a worker's Arrow pool holds less);
    the packets read are the same, whole file or parts."""
    folder, alerts = one_group
    file = folder / "night.parquet"
    meta = pq.ParquetFile(file).metadata
    whole = _ids(packets_of([file]))
    assert readers.batch_rows(meta) < readers.BATCH_ROWS  # the real alerts are ~340 KB decoded each
    monkeypatch.setattr(readers, "BATCH_BYTES", meta.row_group(0).total_byte_size * 20 // meta.num_rows + 1)
    assert readers.batch_rows(meta) == 20
    sizes = [b.batch.num_rows for b in readers.batches_of([file])]
    assert sizes == [20] * (alerts // 20) + ([alerts % 20] if alerts % 20 else [])
    readers._Cursor.current = None
    parts = [ParquetPart(file, s, min(alerts, s + 30)) for s in range(0, alerts, 30)]
    assert max(b.batch.num_rows for p in parts for b in readers.batches_of([p])) <= 20
    readers._Cursor.current = None
    assert [x for p in parts for x in _ids(packets_of([p]))] == whole == _ids(packets_of([file]))
    monkeypatch.setattr(readers, "BATCH_BYTES", 1)
    assert readers.batch_rows(meta) == 16  # never fewer than 16 rows a batch
