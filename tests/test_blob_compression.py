"""zstd-compressed family blobs on the embedded store (store/compression.py): every codec path
round-trips, a store written before compression (packed blobs, version byte 0x01) reads the
same and takes new puts, and a blob naming an unknown dictionary is refused by name."""
from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import make_config
from hbase_schema import get_schema
from store import compression, open_store
from store.codec import VERSION, FamilyCodec

ROW = {"i:objectId": "ZTF25abcdefg", "i:candid": 2900000000000000001, "i:jd": 2460000.5123456,
       "i:ra": 150.123456789, "i:dec": 2.2, "i:fid": 2, "i:magpsf": 18.5, "i:sigmapsf": float("nan"),
       "i:isdiffpos": "t", "i:ssnamenr": "null", "d:classification": "SN candidate", "d:cdsxmatch": "Unknown",
       "d:rf_snia_vs_nonia": 0.25, "d:lc_features_g": {"amplitude": 0.5, "period": None}}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (isinstance(v, (float, np.floating)) and math.isnan(v) and math.isnan(b[k])) or v == b[k] for k, v in a.items())


@pytest.fixture
def store(tmp_path):
    with open_store(make_config("embedded", tmp_path), create=True) as s:
        yield s


def _key(main, i):
    return main.keys.build("ZTF25abcdefg", 2460000.5 + i, 2900000000000000001 + i)


def _stored_blobs(store, table, key):
    db = store._conn()
    cols = [f"f_{f}" for f in table.layout.family_names]
    row = db.execute(f'SELECT {", ".join(cols)} FROM "{table.name}" WHERE k = ?', (key.encode(),)).fetchone()
    return dict(zip(table.layout.family_names, row))


def test_every_shipped_dictionary_loads_and_names_a_family_of_the_schema():
    catalogue = compression._catalogue()
    assert catalogue, "no dictionary shipped"
    for ident, (survey, table, family, path) in catalogue.items():
        assert family in get_schema(survey).table(table).families, path.name
        assert compression._dictionary(ident).dict_id() or True  # loads
        blob = b"\x01\x07" + bytes(200)
        packed = compression.Compressor(ident).compress(blob)
        assert packed[:1] == compression.COMPRESSED_BYTE and compression.decompress(packed) == blob


def test_main_table_blobs_are_stored_compressed_and_read_back(store):
    main = store.table("main")
    main.put(_key(main, 0), ROW)
    blobs = _stored_blobs(store, main, _key(main, 0))
    for family in ("i", "d"):
        assert blobs[family][:1] == compression.COMPRESSED_BYTE
        packed = FamilyCodec(main.spec.families[family]).encode(
            {k: v for k, v in ROW.items() if k.startswith(family + ":")},
            main.layout.codecs[family].mask_of([k for k in ROW if k.startswith(family + ":")]))
        assert packed[:1] == VERSION and len(blobs[family]) < len(packed)
    assert _same(main.row(_key(main, 0)), ROW)
    # the index tables stay packed (read by the ten thousand)
    jd = store.table("jd")
    jd.put("k", {"i:jd": 1.0, "d:classification": "x"})
    assert all(b[:1] == VERSION for b in _stored_blobs(store, jd, "k").values() if b is not None)


def test_every_read_path_round_trips(store):
    main = store.table("main")
    rows = [dict(ROW, **{"i:jd": 2460000.5 + i, "i:magpsf": 18.0 + i / 8}) for i in range(30)]
    rows[3].pop("d:classification")  # another set of present columns
    keys = [_key(main, i) for i in range(30)]
    with main.batch() as b:
        for k, r in zip(keys, rows):
            b.put(k, r)
    # the bulk path (ingest workers) gives the same bytes as the row path
    columns = {name: ([r.get(name) for r in rows], np.array([name in r for r in rows])) for name in ROW
               if name.startswith("i:")}
    columns["i:jd"] = (np.array([r["i:jd"] for r in rows]), np.ones(30, bool))
    columns["i:magpsf"] = (np.array([r["i:magpsf"] for r in rows], dtype=np.float32), np.ones(30, bool))
    columns["i:sigmapsf"] = (np.full(30, np.nan), np.ones(30, bool))
    for name in ("i:candid", "i:fid"):
        columns[name] = (np.array([r[name] for r in rows]), np.ones(30, bool))
    for name in ("i:ra", "i:dec"):
        columns[name] = (np.array([r[name] for r in rows]), np.ones(30, bool))
    bulk, errors = main.encode_columns(columns, 30)
    assert not errors
    assert [p[1][0] for p in bulk] == [main.encode({k: v for k, v in r.items() if k.startswith("i:")})[1][0]
                                       for r in rows]
    # by key, by range, views, projections, values
    got = dict(main.rows(keys))
    assert all(_same(got[k], r) for k, r in zip(keys, rows))
    assert [k for k, _ in main.scan(row_prefix="ZTF25abcdefg_")] == keys
    batch = main.read(ranges=[main.keys.span("ZTF25abcdefg")], columns=["i:jd", "i:magpsf", "d:classification"])
    assert batch["i:jd"].tolist() == [r["i:jd"] for r in rows]
    assert np.allclose(batch["i:magpsf"], [r["i:magpsf"] for r in rows])
    assert batch["d:classification"] == [r.get("d:classification") for r in rows]
    limited = main.read(ranges=[main.keys.span("ZTF25abcdefg")], columns=["d:classification"], limit=5)
    assert limited.keys[:3] == [k.encode() if isinstance(limited.keys[0], bytes) else k for k in keys[:3]]
    codec = main.layout.codecs["i"]
    blob = _stored_blobs(store, main, keys[0])["i"]
    assert codec.values(blob, ("i:jd", "i:objectId", "i:drb")) == (rows[0]["i:jd"], "ZTF25abcdefg", None)
    expected_i = {k: v for k, v in rows[0].items() if k.startswith("i:")}
    got_i = {k: v[0] for k, v in codec.decode_columns([blob]).items()}
    assert _same(got_i, expected_i), (got_i, expected_i)
    with_gap = codec.decode_columns([None, blob])
    assert _same({k: v[1] for k, v in with_gap.items()}, expected_i) and with_gap["i:objectId"][0] is None
    # a put into an existing row merges cell by cell; a cell delete keeps the others
    main.put(keys[0], {"d:classification": "QSO", "i:drb": 0.9})
    main.delete(keys[0], columns=["i:magpsf"])
    after = main.row(keys[0])
    expected = dict(rows[0], **{"d:classification": "QSO", "i:drb": 0.9})
    expected.pop("i:magpsf")
    assert _same({k: v for k, v in after.items() if k != "i:drb"}, {k: v for k, v in expected.items() if k != "i:drb"})
    assert after["i:drb"] == pytest.approx(0.9)
    assert _stored_blobs(store, main, keys[0])["i"][:1] == compression.COMPRESSED_BYTE


def test_a_store_written_before_compression_reads_the_same_and_takes_puts(store):
    """Rows whose blobs are packed only (as every store before compression holds them) are
    written straight into SQLite, then read and updated through the store."""
    main = store.table("main")
    plain = {f: FamilyCodec(spec) for f, spec in main.spec.families.items()}  # no dictionary: the old codec
    keys = [_key(main, i) for i in range(5)]
    db = store._conn()
    for i, k in enumerate(keys):
        row = dict(ROW, **{"i:jd": 2460000.5 + i})
        blobs = {f: plain[f].encode(row, plain[f].mask_of([n for n in row if n.startswith(f + ":")])) for f in "id"}
        assert all(b[:1] == VERSION for b in blobs.values())
        db.execute(f'INSERT INTO "{main.name}" (k, f_i, f_d) VALUES (?, ?, ?)', (k.encode(), blobs["i"], blobs["d"]))
    old_rows = dict(main.rows(keys))
    assert all(_same(old_rows[k], dict(ROW, **{"i:jd": 2460000.5 + i})) for i, k in enumerate(keys))
    batch = main.read(keys=keys, columns=["i:jd", "d:rf_snia_vs_nonia"])
    assert batch["i:jd"].tolist() == [2460000.5 + i for i in range(5)]
    # one new row beside them (compressed): a read mixing both kinds
    main.put(_key(main, 9), dict(ROW, **{"i:jd": 2460009.5}))
    mixed = main.read(ranges=[main.keys.span("ZTF25abcdefg")], columns=["i:jd", "d:classification"])
    assert mixed["i:jd"].tolist() == [2460000.5 + i for i in (0, 1, 2, 3, 4, 9)]
    # a put into an old row merges its cells and re-encodes it compressed
    main.put(keys[1], {"d:classification": "QSO"})
    assert _same(main.row(keys[1]), dict(ROW, **{"i:jd": 2460001.5, "d:classification": "QSO"}))
    assert _stored_blobs(store, main, keys[1])["d"][:1] == compression.COMPRESSED_BYTE
    assert _stored_blobs(store, main, keys[2])["d"][:1] == VERSION  # untouched rows stay as written


def test_a_blob_naming_an_unknown_dictionary_is_refused_by_name(store):
    codec = store.table("main").layout.codecs["i"]
    blob = compression.COMPRESSED_BYTE + (65000).to_bytes(2, "little") + b"junk"
    with pytest.raises(ValueError, match="dictionary 65000"):
        codec.decode(blob)


def test_rubin_sources_are_compressed_too(tmp_path):
    rubin = get_schema("rubin")
    with open_store(make_config("embedded", tmp_path), schema=rubin, create=True) as s:
        sources = s.table("sources")
        row = {"r:diaSourceId": 170, "r:diaObjectId": 12, "r:midpointMjdTai": 61000.25, "r:band": "g",
               "r:psfFlux": 1234.5, "r:psfFluxErr": 12.0}
        key = sources.keys.build(12, 61000.25, 170)
        sources.put(key, row)
        assert _stored_blobs(s, sources, key)["r"][:1] == compression.COMPRESSED_BYTE
        assert sources.row(key) == row


def test_rubin_forced_sources_are_stored_raw_and_their_old_compressed_blobs_still_read(tmp_path):
    """fp's record family is ``compression: block``: no zstd a forced source (its dictionary
    shrank none of the real alerts' forced sources), HBase's block compression kept; a record
    written compressed with dictionary 0007 (as the stores of 2026-11 did) reads back the same."""
    rubin = get_schema("rubin")
    assert rubin.table("fp").families["r"].compression == "block"
    row = {"r:diaForcedSourceId": 171, "r:diaObjectId": 12, "r:midpointMjdTai": 61000.25, "r:band": "r",
           "r:psfFlux": 1234.5, "r:psfFluxErr": 12.0}
    with open_store(make_config("embedded", tmp_path), schema=rubin, create=True) as s:
        fp = s.table("fp")
        records = fp.records
        assert records.codec.compressor is None and records.codec.inflates
        key = records.keys.build(12, 61000.25, 171)
        raw = records.encoder.encode(row)
        assert raw[:1] == VERSION
        old = compression.Compressor(compression.current("rubin", "fp", "r")).head + zstd_with(7, raw)
        assert old[:1] == compression.COMPRESSED_BYTE
        for rows in ([(key, raw)], [(key, old)]):
            (block, payload, _), = records.blocks(rows)
            with fp.batch() as b:
                b.delete(block)
                b.put_encoded(block, payload)
            got = records.read([(12,)], None)
            assert got.keys == [key] and got.rows() == [(key, row)]


def zstd_with(ident: int, blob: bytes) -> bytes:
    """``blob`` as a zstd frame of dictionary ``ident``, whether or not it shrinks."""
    return compression._new_compressor(ident).compress(blob)


def test_a_blob_that_does_not_shrink_is_stored_packed():
    ident = compression.current("ztf", "main", "i")
    noise = b"\x01" + np.random.default_rng(3).bytes(40)  # nothing like the dictionary's blobs
    assert compression.Compressor(ident).compress(noise) == noise
    assert compression.Compressor(ident).compress_all([noise, None]) == [noise, None]


def test_threads_compress_and_decompress_at_once():
    """A web worker's threads read (and an ingest's write) at once: python-zstandard's objects
    are not thread-safe, so each thread must have its own (shared ones gave 'unknown blob
    version' and wrong bytes under a deploy test's 32 readers)."""
    import threading
    ident = compression.current("ztf", "main", "i")
    rng = np.random.default_rng(5)
    blobs = [b"\x01" + bytes(rng.integers(0, 4, 1500, dtype=np.uint8)) * 2 for _ in range(40)]
    packed = compression.Compressor(ident).compress_all(list(blobs))
    assert all(p[:1] == compression.COMPRESSED_BYTE for p in packed)
    wrong, start = [], threading.Barrier(8)

    def work(k):
        start.wait()
        mine = compression.Compressor(ident)
        for _ in range(150):
            if compression.decompress_all(packed) != blobs or mine.compress_all(list(blobs)) != packed:
                wrong.append(k)
                return
    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
