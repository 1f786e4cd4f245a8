"""The embedded store's cutouts in the blob file beside the database (store/blobfile.py):
byte-identical round trips, HBase's cell-by-cell puts and deletes across the file, stores
written before the file existed, and damaged files read as missing cells, never as errors."""
import os
import sqlite3

import pytest

from conftest import make_config
from store import open_store

STAMPS = ("b:cutoutScience_stampData", "b:cutoutTemplate_stampData", "b:cutoutDifference_stampData")


@pytest.fixture
def store(tmp_path):
    s = open_store(make_config("embedded", tmp_path), create=True)
    yield s
    s.close()


def _stamps(seed: int) -> dict:
    return {name: os.urandom(3000 + 500 * i + seed) for i, name in enumerate(STAMPS)}


def _batch_reads_back(store, n: int) -> None:
    """``n`` rows of stamps written in one batch read back as written."""
    main = store.table("main")
    rows = {f"ZTF23abcdefg_2460236.{i:07d}_{i}": _stamps(i) for i in range(n)}
    with main.batch(100) as b:
        for key, cells in rows.items():
            b.put(key, cells)
    assert main.rows(list(rows)) == list(rows.items())


def _raw_b(store, key: str) -> bytes:
    db = sqlite3.connect(store.path)
    try:
        return db.execute('SELECT f_b FROM "ztf" WHERE k = ?', (key.encode(),)).fetchone()[0]
    finally:
        db.close()


def test_cutouts_round_trip_byte_identical_through_the_blob_file(store):
    main = store.table("main")
    rows = {f"ZTF23abcdefg_2460236.{i:07d}_{i}": dict(_stamps(i), **{"i:objectId": "ZTF23abcdefg", "i:magpsf": 18.5})
            for i in range(30)}
    with main.batch(7) as b:  # several transactions
        for key, cells in rows.items():
            b.put(key, cells)
    for key, cells in rows.items():
        raw = _raw_b(store, key)
        assert len(raw) == 21 and raw[0] == 0x03, "the row holds a reference, not the bytes"
        got = main.row(key)
        assert {c: got[c] for c in STAMPS} == {c: cells[c] for c in STAMPS}
        assert got["i:objectId"] == "ZTF23abcdefg" and got["i:magpsf"] == pytest.approx(18.5)
    batch = main.read(keys=list(rows), columns=["b"])
    for i, key in enumerate(rows):
        assert [batch[c][i] for c in STAMPS] == [rows[key][c] for c in STAMPS]
    assert sum(len(v) for cells in rows.values() for c, v in cells.items() if c in STAMPS) <= \
        store.blobs.size_bytes()
    assert store.size_bytes() > store.blobs.size_bytes()


def test_puts_merge_and_deletes_cell_by_cell_across_the_blob_file(store):
    main = store.table("main")
    key = "ZTF23abcdefg_2460236.5000000_1"
    science, template = os.urandom(4000), os.urandom(4100)
    main.put(key, {STAMPS[0]: science})
    main.put(key, {STAMPS[1]: template})  # another cell: the row keeps both (HBase semantics)
    assert main.row(key) == {STAMPS[0]: science, STAMPS[1]: template}
    main.put(key, {STAMPS[0]: science, STAMPS[1]: template})  # a rerun: the same cells
    assert main.row(key) == {STAMPS[0]: science, STAMPS[1]: template}
    main.delete(key, columns=[STAMPS[0]])
    assert main.row(key) == {STAMPS[1]: template}
    main.delete(key)
    assert main.row(key) == {}


def test_a_store_written_before_the_blob_file_reads_its_cutouts(store):
    """Rows whose cutouts are packed inline (every store before the blob file) read as they
    are, beside new rows holding references; a new put into an old row merges."""
    main = store.table("main")
    old_key, new_key = "ZTF23aaaaaaa_2460236.5000000_1", "ZTF23bbbbbbb_2460236.5000000_2"
    old, new = _stamps(1), _stamps(2)
    codec = main.layout.codecs["b"]
    db = sqlite3.connect(store.path)
    with db:
        db.execute('INSERT INTO "ztf" (k, f_b) VALUES (?, ?)', (old_key.encode(), codec.encode(old, codec.mask_of(old))))
    db.close()
    main.put(new_key, new)
    assert _raw_b(store, old_key)[0] == 0x01 and _raw_b(store, new_key)[0] == 0x03
    assert main.row(old_key) == old and main.row(new_key) == new
    assert main.rows([old_key, new_key]) == [(old_key, old), (new_key, new)]
    newer = os.urandom(5000)
    main.put(old_key, {STAMPS[2]: newer})
    assert main.row(old_key) == {**old, STAMPS[2]: newer}


def test_a_damaged_or_missing_blob_file_reads_as_no_cutout_not_an_error(store, caplog):
    main = store.table("main")
    keys = ["ZTF23abcdefg_2460236.5000000_1", "ZTF23abcdefg_2460236.6000000_2"]
    second = dict(_stamps(2), **{"i:objectId": "ZTF23abcdefg"})
    main.put(keys[0], dict(_stamps(1), **{"i:objectId": "ZTF23abcdefg"}))
    main.put(keys[1], second)
    segment = next((store.data_dir / "nocturne.blobs").glob("*.blob"))
    data = bytearray(segment.read_bytes())
    data[10] ^= 0xFF  # a flipped byte in the first row's science stamp
    segment.write_bytes(bytes(data))
    store.close()
    with open_store(make_config("embedded", store.data_dir.parent)) as again:
        t = again.table("main")
        assert t.row(keys[0]) == {"i:objectId": "ZTF23abcdefg"}
        assert t.row(keys[1]) == second
        assert t.read(keys=keys, columns=[STAMPS[0]]).keys == [keys[1]]  # the damaged one has no cell
    assert "missing or damaged" in caplog.text


def test_the_blob_file_is_readable_by_its_owner_only(tmp_path):
    """Cutouts sit beside password hashes' store: folder 0700, segments 0600, whatever the umask."""
    old = os.umask(0o022)
    try:
        with open_store(make_config("embedded", tmp_path), create=True) as s:
            s.table("main").put("ZTF23abcdefg_2460236.5000000_1", _stamps(0))
            folder = s.data_dir / "nocturne.blobs"
            assert folder.stat().st_mode & 0o777 == 0o700
            segments = list(folder.glob("*.blob"))
            assert segments and all(p.stat().st_mode & 0o777 == 0o600 for p in segments)
    finally:
        os.umask(old)


def test_a_batch_larger_than_a_write_chunk_keeps_every_offset(store, monkeypatch):
    """Blobs are written a few MB at a time; the references still name each one's bytes."""
    from store import blobfile
    monkeypatch.setattr(blobfile, "CHUNK_BYTES", 10_000)
    _batch_reads_back(store, 12)


def test_a_full_segment_starts_the_next_and_both_stay_readable(store, monkeypatch):
    from store import blobfile
    monkeypatch.setattr(blobfile, "SEGMENT_BYTES", 20_000)
    main = store.table("main")
    rows = {f"ZTF23abcdefg_2460236.{i:07d}_{i}": _stamps(i) for i in range(6)}
    for key, cells in rows.items():  # one transaction each: a segment past 20 kB is left
        main.put(key, cells)
    assert len(list((store.data_dir / "nocturne.blobs").glob("*.blob"))) >= 3
    assert main.rows(list(rows)) == list(rows.items())


def test_short_writes_and_many_buffers_still_write_every_byte_in_order(store, monkeypatch):
    """The blobs go out by ``writev`` without being joined: a write the kernel cuts short (in
    a blob or between two), or more blobs than one writev takes, still leaves each blob's
    bytes where its reference says, with zlib's CRC-32 (the value stores written before hold)."""
    import zlib

    from store import blobfile
    real = os.writev

    def short(fd, buffers):  # at most 2,345 bytes and 3 buffers a call
        return real(fd, [bytes(b)[:2345] for b in list(buffers)[:3]][:1] if len(buffers[0]) > 2345
                    else list(buffers)[:3])

    monkeypatch.setattr(blobfile.os, "writev", short)
    monkeypatch.setattr(blobfile, "IOV_MAX", 5)
    _batch_reads_back(store, 9)
    refs = [blobfile.REF.unpack(r) for (r,) in sqlite3.connect(store.path).execute('SELECT f_b FROM "ztf"')]
    data = b"".join(p.read_bytes() for p in sorted((store.data_dir / "nocturne.blobs").glob("*.blob")))
    assert len(refs) == 9 and all(zlib.crc32(data[offset:offset + length]) == crc
                                  for _, _, offset, length, crc in refs)
