"""science.stamps reads a FITS stamp's header by its checked keywords only, and takes a
stamp as a memoryview (Arrow's buffer) without copying it: the same verdict, word for word,
as the card-by-card reading, on sound and damaged stamps; the ingest packs such views into
the bytes it packed from copies."""
import io
import pickle
import random

import numpy as np
import pyarrow as pa

from ingest.rubin.binary_views import binary_views
from science import stamps
from science.stamps import CARD, stamp_problem


def _fits(shape=(30, 30), extra=()) -> bytes:
    from astropy.io import fits
    hdu = fits.PrimaryHDU(np.random.default_rng(5).normal(size=shape).astype(np.float32))
    for key, value in extra:
        hdu.header[key] = value
    out = io.BytesIO()
    hdu.writeto(out)
    return out.getvalue()


WORDS = ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2")


def _card_by_card(data: bytes) -> str | None:
    """The verdict of reading every card up to END (the former reading), for comparison."""
    if data[:6] != b"SIMPLE":
        return "not FITS (no SIMPLE card)"
    limit = min(len(data), stamps.MAX_BLOCKS * stamps.BLOCK)
    cards, end = {}, None
    for start in range(0, limit - CARD + 1, CARD):
        card = data[start:start + CARD]
        key = card[:8].strip()
        if key == b"END":
            end = start + CARD
            break
        if card[8:10] == b"= " and key:
            try:
                cards[key.decode("ascii")] = card[10:].split(b"/", 1)[0].strip().decode("ascii")
            except UnicodeDecodeError:
                return f"FITS header card {start // CARD + 1} is not ASCII"
    if end is None:
        return "FITS header has no END card"
    head = data[:end]
    # the rest of the checks are the module's own: feed it a header whose cards it reads alike
    if head.isascii():
        checked = stamps._checked_cards(head, end)
        assert {k: checked.get(k) for k in WORDS} == {k: cards.get(k) for k in WORDS}
    return stamps.fits_problem(data)


def _damaged(rng: random.Random, base: list) -> bytes:
    s = bytearray(rng.choice(base))
    for _ in range(rng.randrange(1, 4)):
        kind = rng.randrange(5)
        head = min(len(s), 3000)
        if kind == 0 and head:
            s[rng.randrange(head)] = rng.randrange(256)
        elif kind == 1 and head:
            s[rng.randrange(head)] = rng.choice(b" =/ENDAXIS12T0-'")
        elif kind == 2 and len(s) > 1:
            s = s[:rng.randrange(len(s))]
        elif kind == 3 and head >= CARD:
            at = rng.randrange(head // CARD) * CARD
            s[at:at + 8] = rng.choice([b"END     ", b"NAXIS1  ", b"NAXIS   ", b"BITPIX  ", b" END    ", b"COMMENT "])
        elif kind == 4 and head >= CARD:
            at = rng.randrange(head // CARD) * CARD + rng.randrange(10, 30)
            s[at:at + 4] = rng.choice([b"END ", b"NAXI", b"\xff\xfe", b"SIMP"])
    return bytes(s)


def test_the_checked_keywords_give_the_verdict_of_every_card_on_damaged_headers():
    base = [_fits(), _fits((63, 63)), _fits(extra=[("BACKEND", "x"), ("COMMENT", "NAXIS1 = 99 END")]),
            _fits((40, 20), extra=[(f"K{i}", i) for i in range(60)])]  # a header of two blocks
    for stamp in base:
        assert stamp_problem(stamp) is None
    rng = random.Random(7)
    verdicts = set()
    for _ in range(3000):
        bad = _damaged(rng, base)
        expected = _card_by_card(bad)
        assert stamp_problem(bad) == expected
        assert stamp_problem(memoryview(bad)) == expected
        verdicts.add(expected.split(" ")[2] if expected else None)
    assert len(verdicts) >= 5  # sound, no END, not ASCII, truncated, bad sizes...: the damage is varied


def test_a_later_card_of_a_checked_keyword_wins_as_before():
    data = bytearray(_fits())
    end = data.find(b"END" + b" " * 77)
    data[end:end + CARD] = b"NAXIS1  = 4097".ljust(CARD)  # a second NAXIS1 card, then the END card
    data[end + CARD:end + 2 * CARD] = b"END".ljust(CARD)
    assert stamp_problem(bytes(data)) == "FITS image size 4097x30 is not a cutout's" == _card_by_card(bytes(data))


def test_a_stamp_inside_an_arrow_buffer_is_checked_in_place():
    good, cut = _fits(), _fits()[:3000]
    array = pa.array([good, None, cut, b"", good], pa.binary()).slice(1)
    views = binary_views(array)
    assert views[0] is None and all(isinstance(v, memoryview) for v in views[1:])
    assert [None if v is None else bytes(v) for v in views] == array.to_pylist()
    assert [stamp_problem(v) if v is not None else None for v in views] == \
        [None, stamp_problem(cut), "empty", None]
    assert stamp_problem(cut).startswith("FITS image truncated")
    assert binary_views(pa.array([1, 2])) is None  # not binary: the caller copies as before
    signed = memoryview(np.frombuffer(good, dtype=np.int8))  # a view of signed chars reads alike
    assert stamp_problem(signed) is None


def test_packed_cutouts_from_views_are_the_bytes_packed_from_copies():
    from hbase_schema import get_schema
    from store import encoder_store
    from settings import load_config
    table = encoder_store(load_config(), get_schema("rubin")).table("cutouts")
    a, b = _fits(), _fits((63, 63))
    arrays = {"b:cutoutScience": pa.array([a, None, b]), "b:cutoutTemplate": pa.array([b, a, None]),
              "b:cutoutDifference": pa.array([a, a, b])}
    present = {k: np.array(v.is_valid()) for k, v in arrays.items()}
    copies, _ = table.encode_columns({k: (v.to_pylist(), present[k]) for k, v in arrays.items()}, 3)
    viewed, bad = table.encode_columns({k: (binary_views(v), present[k]) for k, v in arrays.items()}, 3)
    assert not bad and viewed == copies
    assert pickle.loads(pickle.dumps(viewed)) == copies  # no view left in them: they travel to the writer
    one = {k: v[0] for k, v in arrays.items()}
    assert table.encode({k: memoryview(v.as_py()) for k, v in one.items()}) == \
        table.encode({k: v.as_py() for k, v in one.items()})
