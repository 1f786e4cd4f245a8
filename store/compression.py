"""zstd compression of the embedded backend's family blobs, with dictionaries shipped in the code.

A packed family blob (:class:`store.codec.FamilyCodec`) of one row is a few hundred bytes of
mostly the same shapes from row to row: the same presence bitmaps, version strings, class
labels, zeros. zstd alone gains little on so small an input (a main-table ``i`` blob: 625 →
595 bytes); with a dictionary trained on such blobs it halves it, and the ``d`` family of
Fink's added values shrinks 14× (1,659 → 115 bytes). It also keeps a main-table row under
SQLite's in-page payload limit (~1 KB on 4 KB pages), where the uncompressed row spilled into
an overflow page of its own, most of it empty.

A compressed blob is::

    0x02 | dictionary id (uint16, little-endian) | zstd frame of the packed blob

The packed blob begins with its own version byte (0x01), so a reader tells the two apart by
the first byte: a store written before compression (every blob 0x01) stays readable as it is,
and a store holds both kinds side by side (a put merged into an old row re-encodes it).

Dictionaries are files in ``store/dictionaries/``, named ``<id>.<survey>.<table>.<family>.zdict``,
trained by ``python -m store.train_dictionaries`` from the simulators' alerts (so any checkout
can rebuild them) and never changed or removed once released: a blob names the id it was
compressed with, for ever. A new training adds files with new ids; writers use the highest id
of their family. Shipping them in the code, rather than training them per store, keeps every
ingest worker able to encode without opening the store, and every reader able to decode a
copied or restored store file on its own.

Only the families that have a dictionary are compressed: the bulky ones read a few rows at a
time (an object's alerts, sources, forced photometry). The index tables are not: a cone or a
time window reads tens of thousands of their rows, where decompressing each would cost more
time than their smaller size saves. Cutouts (already gzipped) never are.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import zstandard

DIRECTORY = Path(__file__).with_name("dictionaries")
COMPRESSED = 2  # first byte of a compressed blob
COMPRESSED_BYTE = b"\x02"
# measured: level 9 saves 2–5 % more bytes at 4–6× the CPU than 3; level 2 takes 12–58 % less
# CPU a blob than 3 (two runs) for the same bytes within ±1.5 % on every family but a
# diaObject's added values (+4 %); small: under 1 % of either survey's ingest CPU
# (docs/benchmarks.md, "Rubin first night: 16 KB pages, zstd level 2")
LEVEL = 2


@lru_cache(maxsize=None)
def _catalogue() -> dict:
    """id -> (survey, table, family, path) of every shipped dictionary."""
    out = {}
    for path in sorted(DIRECTORY.glob("*.zdict")):
        ident, survey, table, family, _ = path.name.split(".")
        out[int(ident)] = (survey, table, family, path)
    return out


@lru_cache(maxsize=None)
def _dictionary(ident: int) -> zstandard.ZstdCompressionDict:
    entry = _catalogue().get(ident)
    if entry is None:
        raise ValueError(f"blob compressed with dictionary {ident}, which this Nocturne does not have "
                         f"(written by a newer version?); known: {sorted(_catalogue())}")
    return zstandard.ZstdCompressionDict(entry[3].read_bytes())


def current(survey: str, table: str, family: str) -> int | None:
    """The id of the dictionary new blobs of ``survey``'s ``table``/``family`` use, or None."""
    ids = [i for i, (s, t, f, _) in _catalogue().items() if (s, t, f) == (survey, table, family)]
    return max(ids) if ids else None


# python-zstandard's compressor and decompressor objects are not thread-safe (a web worker's
# threads read at once): each thread has its own, per dictionary.
_local = threading.local()


def _per_thread(kind: str, ident: int, make):
    cache = getattr(_local, kind, None)
    if cache is None:
        cache = {}
        setattr(_local, kind, cache)
    obj = cache.get(ident)
    if obj is None:
        obj = cache[ident] = make(ident)
    return obj


def _new_compressor(ident: int) -> zstandard.ZstdCompressor:
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=_dictionary(ident), write_checksum=False,
                                    write_content_size=True, write_dict_id=False)


class Compressor:
    """Compresses packed blobs with one dictionary (a zstd compressor per thread)."""

    def __init__(self, ident: int):
        self.ident = ident
        self.head = COMPRESSED_BYTE + ident.to_bytes(2, "little")

    @property
    def _zstd(self) -> zstandard.ZstdCompressor:
        return _per_thread("compressors", self.ident, _new_compressor)

    def compress(self, blob: bytes) -> bytes:
        """``blob`` compressed, or as it is when that is not smaller (data unlike the
        dictionary's: measured on the real Rubin forced sources)."""
        packed = self.head + self._zstd.compress(blob)
        return packed if len(packed) < len(blob) else blob

    def compress_all(self, blobs: list) -> list:
        """``blobs`` (None where a row has none) compressed where smaller, in place; returned."""
        head, compress = self.head, self._zstd.compress
        blobs[:] = [blob if blob is None or len(packed := head + compress(blob)) >= len(blob) else packed
                    for blob in blobs]
        return blobs


def _decompressor(ident: int) -> zstandard.ZstdDecompressor:
    """This thread's decompressor of dictionary ``ident``."""
    return _per_thread("decompressors", ident, lambda i: zstandard.ZstdDecompressor(dict_data=_dictionary(i)))


def decompress(blob: bytes) -> bytes:
    """The packed blob inside a compressed one (first byte :data:`COMPRESSED`)."""
    return _decompressor(int.from_bytes(blob[1:3], "little")).decompress(blob[3:])


def decompress_all(blobs: list) -> list:
    """``blobs`` with each compressed one replaced by its packed blob (a new list if any was)."""
    out = None
    last_ident, dec = None, None
    for i, blob in enumerate(blobs):
        if blob is None or blob[0] != COMPRESSED:
            continue
        if out is None:
            out = list(blobs)
        ident = blob[1] | blob[2] << 8
        if ident != last_ident:
            last_ident, dec = ident, _decompressor(ident).decompress
        out[i] = dec(blob[3:])
    return blobs if out is None else out
