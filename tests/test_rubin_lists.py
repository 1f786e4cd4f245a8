"""Previous and forced sources built column-wise (``ingest.rubin.lists``): the same rows as the
row-by-row path, from Parquet's Arrow arrays and from Avro's dicts; each key once, in input
order; a packet with a value out of type refused alone, its keys hiding none of the others'."""
from __future__ import annotations

import copy

import pyarrow as pa
import pytest

from conftest import make_config, need, shared_data
from ingest.readers import Packet
from ingest.rubin import prepare as rubin_prepare
from ingest.rubin.lists import ListRows, Owner
from ingest.rubin.prepare import RubinPreparer
from ingest.rubin.readers import list_slices
from rubin_inputs import forced_records, parquet_files, records


@pytest.fixture
def preparer(tmp_path):
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    return RubinPreparer(make_config("embedded", tmp_path))


def _lists(prepared):
    """Per alert its id, previous sources' rows and count of forced sources; and the unit's
    forced sources (from their blocks)."""
    return [(a.source_id, a.prv, a.forced) for a in prepared.alerts], forced_records(prepared.alerts)


def _row_by_row(monkeypatch):
    """Send every packet's lists down the row-by-row path (``RubinRowBuilder.list_rows``)."""
    def gather(self, owners):
        yield None, [o for o, owner in enumerate(owners) if owner.items is not None and len(owner.items)]
    monkeypatch.setattr(ListRows, "_gather", gather)


def _as_dicts(monkeypatch, files):
    """The packets of ``files`` with their lists as Python dicts, as the Avro readers give them."""
    packets = [Packet(str(f), i, r) for f in files for i, r in enumerate(records([f]))]
    for reader in ("packets_of", "batches_of"):  # (Parquet's own path reads batches)
        monkeypatch.setattr(rubin_prepare, reader, lambda _files, _schema=None: iter(copy.deepcopy(packets)))


def test_column_wise_rows_are_the_row_by_row_rows(preparer, monkeypatch, tmp_path):
    files = parquet_files(8)
    calls = []
    original = preparer.builder.list_rows
    monkeypatch.setattr(preparer.builder, "list_rows", lambda *a: calls.append(1) or original(*a))
    fast = _lists(preparer.run(files))
    assert not calls, "the real alerts took the row-by-row path"
    assert len(fast[1]) > 1000 and sum(len(prv) for _, prv, _ in fast[0]) > 1000
    with monkeypatch.context() as m:
        _row_by_row(m)
        slow = _lists(RubinPreparer(make_config("embedded", tmp_path / "b")).run(files))
    assert fast == slow
    with monkeypatch.context() as m:  # Avro's lists of dicts: one Arrow array per unit, the same rows
        _as_dicts(m, files)
        assert _lists(RubinPreparer(make_config("embedded", tmp_path / "c")).run(files)) == fast


def test_each_key_is_sent_once_by_a_worker(preparer):
    files = parquet_files(4)
    first, forced = _lists(preparer.run(files))
    keys = [k for _, prv, _ in first for k, _ in prv]
    assert len(keys) == len(set(keys)) > 1000
    # each forced source once in the blocks, as many as the worker kept (no copy merged away there)
    assert len(forced) == len({k for k, _ in forced}) == sum(n for _, _, n in first) > 1000
    again, forced_again = _lists(preparer.run(files))  # a later unit of the same worker repeating them
    assert [s for s, _, _ in again] == [s for s, _, _ in first]
    assert all(not prv and not n for _, prv, n in again) and not forced_again


def test_a_value_out_of_type_refuses_its_packet_alone(preparer, monkeypatch):
    base = records(parquet_files(1))[0]
    bad = copy.deepcopy(base)
    bad["prvDiaForcedSources"][3]["detector"] = 2**40  # int32 column
    later = copy.deepcopy(base)  # the same object's next packet repeats the same forced sources
    later["diaSourceId"] = later["diaSource"]["diaSourceId"] = base["diaSource"]["diaSourceId"] + 1
    later["diaSource"]["midpointMjdTai"] += 1.0
    packets = [Packet("a.avro", 0, bad), Packet("a.avro", 1, later)]
    monkeypatch.setattr(rubin_prepare, "packets_of", lambda _files, _schema=None: iter(packets))
    out = preparer.run([])
    (packet, reason, _), = out.rejects
    assert packet.index == 0 and "r:detector" in reason and str(2**40) in reason
    (alert,) = out.alerts
    expected = {fp["diaForcedSourceId"] for fp in base["prvDiaForcedSources"]}
    assert {int(k.rsplit("_", 1)[1]) for k, _ in forced_records(out.alerts)} == expected  # none hidden by the refused packet


def test_two_writer_schemas_in_one_unit_keep_their_own_types(preparer, monkeypatch):
    """Avro packets whose field types differ (another schema version in the same unit): each
    packet's values are judged as its own, as the row-by-row path judges them."""
    base = records(parquet_files(1))[0]
    floats = copy.deepcopy(base)  # detector written as a double by another schema version
    floats["diaSourceId"] = floats["diaSource"]["diaSourceId"] = base["diaSource"]["diaSourceId"] + 1
    for fp in floats["prvDiaForcedSources"]:
        fp["detector"] = float(fp["detector"]) + 0.5
    packets = [Packet("a.avro", 0, base), Packet("b.avro", 0, floats)]
    monkeypatch.setattr(rubin_prepare, "packets_of", lambda _files, _schema=None: iter(packets))
    out = preparer.run([])
    (packet, reason, _), = out.rejects
    assert packet.source == "b.avro" and "r:detector" in reason
    (alert,) = out.alerts
    assert len(forced_records(out.alerts)) == alert.forced == len(base["prvDiaForcedSources"])


def test_a_list_of_what_is_no_record_refuses_its_packet_as_malformed(preparer, monkeypatch):
    base = records(parquet_files(1))[0]
    odd = copy.deepcopy(base)
    odd["diaSourceId"] = odd["diaSource"]["diaSourceId"] = base["diaSource"]["diaSourceId"] + 1
    odd["prvDiaSources"] = [1, 2, 3]
    packets = [Packet("a.avro", 0, base), Packet("b.avro", 0, odd)]
    monkeypatch.setattr(rubin_prepare, "packets_of", lambda _files, _schema=None: iter(packets))
    out = preparer.run([])
    (packet, reason, _), = out.rejects
    assert packet.source == "b.avro" and reason.startswith("malformed packet: AttributeError")
    assert [a.source for a in out.alerts] == ["a.avro"]


def _list_column(ids: list, offsets: list, null: int | None = None):
    """A list column of ``{diaSourceId, midpointMjdTai}`` structs (row ``null`` null, its slot not empty)."""
    values = pa.array([{"diaSourceId": i, "midpointMjdTai": 60000.0 + i} for i in ids])
    mask = pa.array([r == null for r in range(len(offsets) - 1)]) if null is not None else None
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, mask=mask)


def test_lists_end_to_end_in_a_column_are_one_slice_and_the_same_rows(monkeypatch):
    """``ListRows._gather`` takes the lists of consecutive packets of one column as one slice
    of its values: the rows and owners are those of concatenating each packet's own slice;
    a null list's slot, an empty list, another column whose offsets happen to continue the
    run, and a slice not cut from its stated place are never joined into it."""
    a = _list_column(list(range(10)), [0, 2, 4, 6, 6, 8, 10], null=2)  # row 2 null over values 4-5, row 3 empty
    b = _list_column(list(range(100, 108)), [0, 2, 4, 6, 8])
    b = b.slice(1)  # its rows start at value 2: as a's row 0 ends there
    a_rows, b_rows = list_slices(a), list_slices(b)
    owners = [Owner(a_rows[r], {}, 1, 0, None, (a, r)) for r in range(6)]
    owners.insert(1, Owner(b_rows[0], {}, 1, 0, None, (b, 0)))  # another column in between
    owners.insert(1, Owner(a_rows[0], {}, 1, 0, None, (a, 1)))  # a slice that is not its place's (row 0's)
    owners += [Owner(b_rows[r], {}, 1, 0, None, (b, r)) for r in (1, 2)]
    owners.append(Owner(a_rows[4], {}, 1, 0, None, None))    # no place: taken as it is
    joined = []
    concat = pa.concat_arrays
    monkeypatch.setattr(pa, "concat_arrays", lambda arrays: joined.append(len(arrays)) or concat(arrays))
    lister = ListRows.__new__(ListRows)
    (kind, (struct, owner)), = list(lister._gather(owners))
    expected = [(o, row) for o, item in enumerate(owners) if item.items is not None for row in item.items.to_pylist()]
    assert list(zip(owner.tolist(), struct.to_pylist())) == expected
    # pieces: a0 | the misplaced slice | b0 | a1 | a4+a5 | b1+b2 | the placeless one
    assert joined == [7]
