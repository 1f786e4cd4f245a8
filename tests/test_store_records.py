"""A records table on each backend (``store.records``: Rubin's forced sources in blocks, one
row per object and 30-day period): puts into a block add cells, so a block is the union of
every put whatever their order and a record is stored once however many puts carry it; reads
give the records as a table of rows would (their keys, their columns, in key order)."""
import pytest

from conftest import BACKENDS, backend_config
from hbase_schema import get_schema
from hbase_schema.model import SchemaError, load_schema
from store import open_store
from store.codec import fixed_width_qualifiers, pack_cells, unpack_cells


@pytest.fixture(params=BACKENDS)
def fp(request, tmp_path):
    with backend_config(request.param, tmp_path) as cfg:
        store = open_store(cfg, create=True, schema=get_schema("rubin"))
        try:
            yield store.table("fp")
        finally:
            store.close()


def record(oid: int, mjd: float, fid: int, flux: float) -> dict:
    return {"r:diaObjectId": oid, "r:midpointMjdTai": mjd, "r:diaForcedSourceId": fid, "r:psfFlux": flux,
            "r:band": "gri"[fid % 3]}


def rows(table, records: list) -> list:
    """``(record key, packed record)`` as the ingest's workers make them."""
    enc = table.records.encoder
    return [(enc.keys.build(r["r:diaObjectId"], r["r:midpointMjdTai"], r["r:diaForcedSourceId"]), enc.encode(r))
            for r in records]


def put(table, records: list) -> None:
    table.records.put(records)


def read(table, *prefixes) -> list:
    batch = table.records.read(list(prefixes), ["r:diaForcedSourceId", "r:psfFlux", "r:band"])
    plain = [list(getattr(batch[c], "tolist", lambda c=c: batch[c])()) for c in ("r:diaForcedSourceId", "r:psfFlux", "r:band")]
    return list(zip(batch.keys, *plain))


A = [record(7, 60010.25, 1, 1.5), record(7, 60011.5, 2, 2.5), record(7, 60040.75, 3, 3.5)]
B = [record(7, 60011.5, 2, 2.5), record(7, 60012.0, 4, 4.5), record(8, 60010.0, 5, 5.5)]


def test_blocks_are_an_object_and_a_30_day_period(fp):
    blocks = fp.records.blocks(rows(fp, A + B))
    keys = [k for k, _, _ in blocks]
    period = fp.keys.build  # the block's key: the object, then the period's first day
    assert keys == [period(7, 60000.0), period(7, 60030.0), period(8, 60000.0)]
    assert [n for _, _, n in blocks] == [3, 1, 1]  # the repeated forced source 2 once


def test_puts_into_a_block_add_its_cells_whatever_their_order(fp, tmp_path):
    put(fp, A)
    put(fp, B)
    put(fp, A)  # a rerun: the same cells
    got = read(fp, (7,), (8,))
    assert [fid for _, fid, _, _ in got] == [1, 2, 4, 3, 5]  # in key order: object, time, id
    assert got[0] == (fp.records.keys.build(7, 60010.25, 1), 1, 1.5, "r")
    assert fp.count() == 3  # blocks, not forced sources
    with backend_config("embedded", tmp_path / "other") as cfg:  # the other order, another store
        with open_store(cfg, create=True, schema=get_schema("rubin")) as other:
            put(other.table("fp"), B)
            put(other.table("fp"), A)
            assert [r[1:] for r in read(other.table("fp"), (7,), (8,))] == [r[1:] for r in got]  # (HBase's keys salted)


def test_a_time_reads_the_records_at_that_time_only(fp):
    put(fp, A + B)
    assert [fid for _, fid, _, _ in read(fp, (7, 60011.5))] == [2]
    assert [fid for _, fid, _, _ in read(fp, (7, 60011.5), (8,))] == [2, 5]
    assert read(fp, (7, 60013.0)) == [] and read(fp, (9,)) == []


def test_the_ingest_dedupe_reads_the_record_keys_stored(fp):
    put(fp, A)
    spans = [fp.keys.span(7), fp.keys.span(8)]
    assert fp.records.keys_in(spans) == [k for k, _ in sorted(rows(fp, A))]


def test_a_block_blob_is_a_function_of_its_cells():
    qualifiers, values = [b"a", b"b_1", b"c"], [b"\x00", b"", b"xyz" * 100]
    blob = pack_cells(qualifiers, values)
    assert unpack_cells(blob) == (qualifiers, values)
    assert fixed_width_qualifiers(blob) is None  # (widths 1 and 3)
    assert fixed_width_qualifiers(pack_cells([b"ab", b"cd"], [b"x", b"yz" * 9])) == (2, 2, b"abcd")
    assert fixed_width_qualifiers(pack_cells([], [])) is None
    codec = get_schema("rubin").table("fp").families["b"]
    from store.codec import FamilyCodec
    c = FamilyCodec(codec)
    one = c.encode({"b:c": b"3", "b:a": b"1"}, 0)
    assert one == c.encode({"b:a": b"1", "b:c": b"3"}, 0)
    assert c.merge(one, c.encode({"b:b": b"2", "b:a": b"1"}, 0)) == c.encode({"b:a": b"1", "b:b": b"2", "b:c": b"3"}, 0)


@pytest.mark.parametrize("records, message", [
    ("{family: r, of: r, key: ['t:mjd'], days: 30}", "open family of bytes"),
    ("{family: b, of: b, key: ['t:mjd'], days: 30}", "family with columns"),
    ("{family: b, of: r, key: ['t:mjd'], days: 0}", "days must be a positive integer"),
    ("{family: b, of: r, key: ['i:uid'], days: 30}", "starts with their time"),
    ("{family: b, of: r}", "must give family, of, key and days"),
])
def test_a_records_table_is_checked_when_the_schema_loads(tmp_path, records, message):
    path = tmp_path / "s.yml"
    path.write_text(f"""version: 1
tables:
  x:
    row_key: ['o:uid', 'p:mjd']
    records: {records}
    families:
      b: {{open_type: bytes}}
      r: {{columns: {{v: {{type: int64, description: a value}}}}}}
""")
    with pytest.raises(SchemaError, match=message):
        load_schema(path)


def test_blocks_found_in_numpy_are_those_found_one_by_one(fp):
    """``Records.blocks`` groups the workers' fixed-width keys in numpy; any other key goes one by
    one: both give the same blocks (periods cut at whole multiples of 30 days, records in key
    order), and a key met twice keeps its first value."""
    import numpy as np
    rng = np.random.default_rng(4)
    oids = rng.choice([3, 7, 1234567890123, 2**63 - 5], 400)
    mjds = np.concatenate([[60029.9999999, 60030.0, 60059.5, 60060.0], rng.uniform(59990, 60100, 396)])
    got = rows(fp, [record(int(o), float(t), 1000 + i, float(i)) for i, (o, t) in enumerate(zip(oids, mjds))])
    records = fp.records
    fast = records._fixed_width_blocks(got)
    assert fast is not None and fast == records._blocks_one_by_one(got)
    assert [k for k, _, _ in fast] == sorted(k for k, _, _ in fast)
    assert sum(len(v) for _, _, v in fast) == 400
    first_day = {k.rsplit("_", 1)[1] for k, _, _ in fast}
    assert first_day <= {f"{d:013.7f}" for d in (59970.0, 60000.0, 60030.0, 60060.0, 60090.0)}
    again = got + [(got[0][0], b"later")]
    assert records._fixed_width_blocks(again) is None  # (left to the one-by-one path)
    by_key = {q: v for k, qs, vs in records._blocks_one_by_one(again) for q, v in zip(qs, vs)}
    assert len(by_key) == 400 and b"later" not in by_key.values()


def test_the_stored_record_keys_are_read_from_the_blocks_qualifiers(fp):
    """``Records.key_array`` (the ingest's dedupe on a later night) takes the keys from the
    packed blocks' qualifier bytes without unpacking their cells: the same keys, in key order,
    as unpacking each block gives; a block whose qualifiers differ in width goes the slow way."""
    import numpy as np
    rng = np.random.default_rng(11)
    oids, mjds = rng.choice([3, 7, 1234567890123], 300), rng.uniform(59990, 60200, 300)
    records = [record(int(o), float(t), 5000 + i, float(i)) for i, (o, t) in enumerate(zip(oids, mjds))]
    put(fp, records)
    spans = [fp.keys.span(o) for o in (3, 7, 1234567890123, 99)]
    expected = sorted(k for k, _ in rows(fp, records))
    got = fp.records.key_array(spans)
    assert got.type == "string" and got.to_pylist() == expected
    assert fp.records.keys_in(spans) == expected
    batch = fp.read(ranges=spans, columns=["b"])
    assert (fp.records._packed_keys(batch) is None) == (batch.blobs_of("b") is None)  # (HBase: cells, not blobs)
    odd = fp.keys.build(99, 60000.0)
    with fp.batch() as b:  # qualifiers of two widths: no fixed-width array, the cells decide
        b.put_encoded(odd, fp.encode_family("b", [b"60001.0000000_1", b"60002.0000000_22"], [b"x", b"y"]))
    keys = fp.records.key_array([fp.keys.span(99)]).to_pylist()
    assert [k.rsplit("_", 2)[1:] for k in keys] == [["60001.0000000", "1"], ["60002.0000000", "22"]]
