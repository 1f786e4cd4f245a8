"""Parquet's alerts prepared column-wise (``ingest.rubin.columns``, ``ingest.rubin.alert_columns``)
give what the dict path gives (``RubinPreparer(columns=False)``: every packet a dict, as Avro's
are): the same encoded rows, keys and order for the real alerts and a simulated night, and the
same quarantine, with the same reasons, for bad packets."""
from __future__ import annotations

import copy

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import make_config, need, shared_data
from ingest.rubin.columns import clean_rows
from ingest.readers import Packet
from ingest.rubin.prepare import RubinPreparer, joined
from ingest.rubin.readers import ParquetBatch
from ingest.rubin.rows import RubinRowBuilder
from rubin_inputs import parquet_files
from rubin_sim import simulate


def _both(tmp_path, monkeypatch, files):
    """The prepared unit of ``files`` column-wise and as dicts; asserts no Parquet row took
    the dict path in the column-wise run when ``files`` hold only good alerts."""
    calls = []
    original = RubinRowBuilder.build
    with monkeypatch.context() as m:
        m.setattr(RubinRowBuilder, "build", lambda self, r: calls.append(1) or original(self, r))
        fast = RubinPreparer(make_config("embedded", tmp_path / "a")).run(files)
    slow = RubinPreparer(make_config("embedded", tmp_path / "b"), columns=False).run(files)
    return fast, slow, len(calls)


def _quarantine(prepared):
    return [(p.source, p.index, reason, night) for p, reason, night in prepared.rejects + prepared.cutouts]


def _same(fast, slow):
    assert fast.nbytes == slow.nbytes
    assert _quarantine(fast) == _quarantine(slow)
    assert len(fast.alerts) == len(slow.alerts)
    for a, b in zip(fast.alerts, slow.alerts):  # every write's table, key and encoded bytes, in order
        assert a == b, (a.source, a.index)


def test_the_real_alerts_give_the_dict_paths_rows(tmp_path, monkeypatch):
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    files = parquet_files()
    fast, slow, built = _both(tmp_path, monkeypatch, files)
    assert built == 0, "real alerts left to the dict path"
    assert len(fast.alerts) == 107 and not fast.rejects
    assert sum(len(a.writes) for a in fast.alerts) > 4 * 107 and all(a.obj for a in fast.alerts if a.object_id)
    assert any(w[0] == "cutouts" for a in fast.alerts for w in a.writes)
    _same(fast, slow)


def test_a_simulated_night_gives_the_dict_paths_rows(tmp_path, monkeypatch):
    root = simulate(tmp_path / "sim", "--nights", "1", "--alerts-per-night", "300", "--seed", "19", "--no-avro")
    files = sorted((root / "parquet").glob("*.parquet"))
    fast, slow, built = _both(tmp_path, monkeypatch, files)
    assert built == 0 and len(fast.alerts) > 250
    assert any(a.writes[0][0] == "sso" for a in fast.alerts), "no solar-system alert in the night"
    assert any(w[0] == "ssoname" for a in fast.alerts for w in a.writes)
    assert any(w[0] == "tag" for a in fast.alerts for w in a.writes)
    _same(fast, slow)


def _bad_night(tmp_path, cuts=()) -> tuple:
    """The real alerts of 6 files with 13 of them damaged, in one file (or cut into files at ``cuts``)."""
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    table = pa.concat_tables([pq.read_table(f) for f in parquet_files(6)])
    recs = table.to_pylist()
    edits = {
        0: lambda r: r.update(lsst_schema_version="lsst.v12_0"),
        1: lambda r: r["diaSource"].update(ra=float("nan")),
        2: lambda r: r.update(cutoutScience=r["cutoutScience"][:500]),   # a truncated stamp: kept without it
        3: lambda r: r["diaSource"].update(band="w"),
        4: lambda r: r["diaSource"].update(midpointMjdTai=1.0),
        5: lambda r: r["diaObject"].update(diaObjectId=r["diaObject"]["diaObjectId"] + 1),
        6: lambda r: r.update(diaSourceId=r["diaSourceId"] + 1),
        7: lambda r: r["diaSource"].update(diaObjectId=None, ssObjectId=None),
        8: lambda r: r["diaSource"].update(dec=91.0),
        9: lambda r: r["diaSource"].update(diaSourceId=None),
        10: lambda r: r.update(diaSource=None),
        11: lambda r: r["diaSource"].update(ra=360.0),
        12: lambda r: r["diaSource"].update(psfFlux=float("nan")),  # a NaN flux is a value: stored
    }
    for i, edit in edits.items():
        edit(recs[i])
    folder = tmp_path / "night"
    folder.mkdir()
    bounds = [0, *cuts, len(recs)]
    files = [folder / f"bad-{i}.parquet" for i in range(len(bounds) - 1)] if cuts else [folder / "bad.parquet"]
    for f, lo, hi in zip(files, bounds, bounds[1:]):
        pq.write_table(pa.Table.from_pylist(recs[lo:hi], schema=table.schema), f)
    return files, len(recs)


def test_bad_packets_are_quarantined_with_the_dict_paths_reasons(tmp_path, monkeypatch):
    files, n = _bad_night(tmp_path)
    batch = pq.read_table(files[0]).to_batches()[0]
    clean = clean_rows(batch)
    assert not clean[:12].any() and clean[12:].all()  # the bad ones (and the damaged stamp) go the dict way
    fast, slow, built = _both(tmp_path, monkeypatch, files)
    assert built == 1  # only the alert with the damaged stamp is built as a dict, and stored
    reasons = [reason for _, reason, _ in fast.rejects]
    assert len(reasons) == 11 and len(fast.alerts) == n - 11
    for text in ("lsst.v12_0", "diaSource.ra is nan", "diaSource.band 'w'", "midpointMjdTai 1.0",
                 "diaObject.diaObjectId", "differs from diaSource.diaSourceId", "neither diaSource.diaObjectId",
                 "diaSource.dec 91.0", "diaSource.ra 360.0", "missing diaSource.diaSourceId", "missing diaSource record"):
        assert sum(text in r for r in reasons) == 1, text
    assert [why for _, why, _ in fast.cutouts][0].startswith("cutoutScience")
    _same(fast, slow)


def test_a_value_out_of_type_leaves_its_row_to_the_dict_path(tmp_path, monkeypatch):
    """A value the store's column cannot hold (a visit beyond int64 as uint64) refuses its
    packet by name, the others staying column-wise."""
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    table = pq.read_table(parquet_files(1)[0])
    recs = table.to_pylist()
    fields = [f if f.name != "diaSource" else pa.field("diaSource", pa.struct(
        [g if g.name != "visit" else pa.field("visit", pa.uint64()) for g in f.type])) for f in table.schema]
    recs[0]["diaSource"]["visit"] = 2**64 - 1
    folder = tmp_path / "night"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(recs, schema=pa.schema(fields)), folder / "a.parquet")
    fast, slow, built = _both(tmp_path, monkeypatch, [folder / "a.parquet"])
    (packet, reason, _), = fast.rejects
    assert packet.index == 0 and "value out of type" in reason and "visit" in reason
    assert built == 1 and len(fast.alerts) == len(recs) - 1
    _same(fast, slow)


@pytest.mark.parametrize("version", ["lsst.v9_0", "10.0", None])
def test_supported_versions_stay_column_wise(version, tmp_path):
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    batch = pq.read_table(parquet_files(1)[0]).to_batches()[0]
    column = pa.array([version] * batch.num_rows, pa.string())
    batch = batch.set_column(batch.schema.get_field_index("lsst_schema_version"), "lsst_schema_version", column)
    assert clean_rows(batch).all()


def test_a_history_value_out_of_type_in_parquet_still_refuses_its_packet(tmp_path, monkeypatch):
    """The history's value check looks only at columns whose Arrow type may not fit (here
    psfFlux as float64 into float32; never, e.g., an int32 detector into int32): a forced source
    beyond float32 refuses its packet by name, also when its row repeats an earlier packet's
    (so it is not encoded, only checked), on both paths."""
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    table = pq.read_table(parquet_files(1)[0])
    recs = table.to_pylist()
    later = copy.deepcopy(recs[0])  # the same object's next packet repeats its forced sources
    later["diaSourceId"] = later["diaSource"]["diaSourceId"] = recs[0]["diaSourceId"] + 1
    later["diaSource"]["midpointMjdTai"] += 1.0
    later["prvDiaForcedSources"][3]["psfFlux"] = 1e300
    recs.append(later)
    value_type = pa.struct([g if g.name != "psfFlux" else pa.field("psfFlux", pa.float64())
                            for g in table.schema.field("prvDiaForcedSources").type.value_type])
    schema = table.schema.set(table.schema.get_field_index("prvDiaForcedSources"),
                              pa.field("prvDiaForcedSources", pa.list_(value_type)))
    folder = tmp_path / "night"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(recs, schema=schema), folder / "a.parquet")
    fast, slow, _ = _both(tmp_path, monkeypatch, [folder / "a.parquet"])
    (packet, reason, _), = fast.rejects
    assert packet.index == len(recs) - 1 and "value out of type" in reason and "psfFlux" in reason
    assert len(fast.alerts) == len(recs) - 1
    _same(fast, slow)


def test_a_parquet_row_the_dict_path_cannot_read_keeps_the_file_and_the_other_alerts(tmp_path, monkeypatch):
    files, n = _bad_night(tmp_path)

    def unreadable(self, rows=None):
        raise pa.ArrowInvalid("damaged")
        yield
    monkeypatch.setattr(ParquetBatch, "packets", unreadable)
    out = RubinPreparer(make_config("embedded", tmp_path / "a")).run(files)
    (packet, reason, _), = out.rejects
    assert "unreadable Parquet" in reason and "damaged" in reason and packet.whole_file == files[0]
    assert len(out.alerts) == n - 12  # the rows the column-wise path took are stored


def test_batches_end_to_end_in_a_file_are_staged_as_one():
    """``prepare.joined`` joins the Parquet batches whose rows follow one another in one file
    (their rows, start and bytes kept) and nothing else: a gap, a part of another file, or a
    packet between two batches (an unreadable file's error) ends the run, and order is kept."""
    def batch(source, start, n, size=0):
        return ParquetBatch(source, start, pa.RecordBatch.from_pydict({"x": list(range(start, start + n))}), size)

    error = Packet("b.parquet", 0, None, "unreadable")
    items = [batch("a.parquet", 0, 3, 30), batch("a.parquet", 3, 2), batch("a.parquet", 5, 4),  # one run
             batch("a.parquet", 10, 1),                          # a gap (row 9 is another unit's)
             batch("b.parquet", 11, 2, 7),                       # another file, its rows numbered on
             error, batch("b.parquet", 13, 1)]                   # a packet between
    got = list(joined(iter(items)))
    assert [(g.source, g.start, g.batch.column("x").to_pylist(), g.size) if isinstance(g, ParquetBatch) else g
            for g in got] == [("a.parquet", 0, list(range(9)), 30), ("a.parquet", 10, [10], 0),
                              ("b.parquet", 11, [11, 12], 7), error, ("b.parquet", 13, [13], 0)]


def test_whole_files_with_the_same_columns_are_staged_as_one():
    """Files read from their first row, with the same columns, join the run (Fink's data
    transfer writes a few alerts a file); each row keeps its file and position, and the batch
    cuts back into one batch a file. Other columns, or a file's later part, start a new run."""
    def batch(source, start, n, size=0, name="x"):
        return ParquetBatch(source, start, pa.RecordBatch.from_pydict({name: list(range(start, start + n))}), size)

    items = [batch("a", 0, 2, 5), batch("a", 2, 1), batch("b", 0, 3, 7), batch("c", 0, 1, 1),  # one run
             batch("d", 0, 2, name="y"),                                        # other columns
             batch("e", 4, 1, name="y")]                                        # not e's first row
    got = list(joined(iter(items)))
    assert [(g.source, g.start, g.size, g.parts) for g in got] == [
        ("a", 0, 13, (("a", 0, 3), ("b", 0, 3), ("c", 0, 1))), ("d", 0, 0, ()), ("e", 4, 0, ())]
    first = got[0]
    assert first.batch.column("x").to_pylist() == [0, 1, 2, 0, 1, 2, 0]
    assert [first.origin(r) for r in range(7)] == [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1), ("b", 2), ("c", 0)]
    assert [(at, p.source, p.start, p.batch.column("x").to_pylist()) for at, p in first.pieces()] == [
        (0, "a", 0, [0, 1, 2]), (3, "b", 0, [0, 1, 2]), (6, "c", 0, [0])]
    assert [(p.source, p.index) for p in first.packets([4, 6])] == [("b", 1), ("c", 0)]
    assert got[2].origin(0) == ("e", 4) and got[2].pieces() == [(0, got[2])]


def test_bad_packets_in_small_files_are_quarantined_under_their_own_file(tmp_path, monkeypatch):
    """The damaged alerts cut into four files, joined into one batch: each refusal names its own
    file and position, as the dict path (a file at a time) names them."""
    files, n = _bad_night(tmp_path, cuts=(4, 9, 12))
    fast, slow, _ = _both(tmp_path, monkeypatch, files)
    assert {p.source for p, _, _ in fast.rejects} == {str(f) for f in files[:3]}  # (file 3: good alerts)
    assert [(p.source, p.index) for p, _, _ in fast.cutouts] == [(str(files[0]), 2)]
    assert len(fast.alerts) == n - 11
    _same(fast, slow)


def test_a_joined_file_the_dict_path_cannot_read_is_kept_whole_alone(tmp_path, monkeypatch):
    """Rows left to the dict path in a batch joined from several files: when Arrow cannot read
    them, each file's rows are tried alone, and only the file that fails is kept whole."""
    files, n = _bad_night(tmp_path, cuts=(4, 9, 12))
    original = ParquetBatch.packets

    def packets(self, rows=None):
        if self.parts or self.source == str(files[1]):
            raise pa.ArrowInvalid("damaged")
        yield from original(self, rows)
    monkeypatch.setattr(ParquetBatch, "packets", packets)
    out = RubinPreparer(make_config("embedded", tmp_path / "a")).run(files)
    whole = [(p, reason) for p, reason, _ in out.rejects if p.whole_file]
    assert [(p.whole_file, "damaged" in reason) for p, reason in whole] == [(files[1], True)]
    refused = [p for p, _, _ in out.rejects if not p.whole_file]
    assert refused and {p.source for p in refused} == {str(files[0]), str(files[2])}  # (file 3 holds good alerts)
