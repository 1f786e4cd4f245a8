"""science.stamps.inflate (ISA-L) finds a damaged gzip stamp wherever zlib does."""
import gzip
import zlib

import numpy as np

from science.stamps import inflate, stamp_problem


def _stamp() -> bytes:
    from astropy.io import fits
    import io
    out = io.BytesIO()
    fits.PrimaryHDU(np.random.default_rng(3).normal(size=(63, 63)).astype(np.float32)).writeto(out)
    return gzip.compress(out.getvalue(), mtime=0)


def _zlib_verdict(blob: bytes) -> bool:
    """Whether zlib's gunzip (the former check) takes ``blob`` as a whole gzip stream."""
    inflater = zlib.decompressobj(31)
    try:
        inflater.decompress(blob)
    except zlib.error:
        return False
    return inflater.eof


def test_inflate_gives_the_fits_bytes_and_takes_plain_fits():
    blob = _stamp()
    assert inflate(blob) == gzip.decompress(blob) and inflate(bytearray(blob)) == gzip.decompress(blob)
    assert inflate(gzip.decompress(blob)) == gzip.decompress(blob)
    assert stamp_problem(blob) is None


def test_a_flipped_or_cut_stamp_is_damaged_wherever_zlib_said_so():
    blob = _stamp()
    rng = np.random.default_rng(11)
    for at in sorted(set(rng.integers(10, len(blob), 150).tolist()) | {len(blob) - 1, len(blob) - 5, len(blob) - 8}):
        bad = bytearray(blob)
        bad[at] ^= 1 << int(rng.integers(0, 8))
        bad = bytes(bad)
        ok = _zlib_verdict(bad)
        try:
            inflate(bad)
            assert ok, f"byte {at} flipped: zlib finds it damaged, inflate does not"
        except zlib.error:
            assert not ok, f"byte {at} flipped: zlib takes it, inflate does not"
        if not ok:
            assert stamp_problem(bad) is not None
    for cut in (len(blob) - 1, len(blob) - 4, len(blob) // 2, 12):
        assert not _zlib_verdict(blob[:cut])
        assert stamp_problem(blob[:cut]).startswith("gzip stream damaged")
