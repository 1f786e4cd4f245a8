"""Row-key codecs: fixed-width numbers sort in numeric order; strings are escaped."""
import random

import pytest

from hbase_schema import get_schema
from store.keys import RowKey, escape, format_jd, format_pixel, successor, unescape


def test_jd_keys_sort_as_time():
    rng = random.Random(7)
    jds = [rng.uniform(2450000, 2470000) for _ in range(500)] + [2460000.0, 2460000.00000005]
    texts = [format_jd(j) for j in jds]
    assert {len(t) for t in texts} == {15}
    assert sorted(texts) == [format_jd(j) for j in sorted(jds)]


def test_pixel_keys_are_fixed_width_and_never_prefix_each_other():
    assert format_pixel(12) == "0000000012"
    assert not format_pixel(123).startswith(format_pixel(12))
    with pytest.raises(ValueError):
        format_pixel(-1)


@pytest.mark.parametrize("bad", [float("nan"), -1.0, 1e8, "x"])
def test_bad_jd_is_refused(bad):
    with pytest.raises(ValueError):
        format_jd(bad)


def test_escape_round_trips_and_removes_the_separator():
    for text in ["SN_candidate", "100%", "%5F", "plain", "a_b%c_"]:
        assert "_" not in escape(text)
        assert unescape(escape(text)) == text


def test_build_prefix_parse():
    kb = RowKey(get_schema().table("main"))
    key = kb.build("ZTF23abcdefg", 2460236.6632523, 2481242665515015008)
    assert key == "ZTF23abcdefg_2460236.6632523_2481242665515015008"
    assert kb.prefix("ZTF23abcdefg") == "ZTF23abcdefg_"
    assert kb.parse(key) == {"objectId": "ZTF23abcdefg", "jd": 2460236.6632523, "candid": 2481242665515015008}
    with pytest.raises(ValueError, match="3 parts"):
        kb.build("ZTF23abcdefg")


def test_successor_bounds_a_prefix():
    assert successor(b"ab") == b"ac"
    assert successor(b"a\xff") == b"b"
    assert successor(b"\xff\xff") is None


@pytest.mark.parametrize("salted", [False, True])
def test_keys_built_column_wise_are_build_s_and_bad_rows_get_its_reason(salted):
    import numpy as np
    keys = RowKey(get_schema("rubin").table("sources"), salted=salted)
    oids = np.array([170032882256183347, 1, 2, 3, 2**62], dtype=np.int64)
    mjds = np.array([61109.0771, 60000.5, 61000.25, 0.1, 99999.9])
    sids = np.array([170032882256183999, 5, 6, 7, 8], dtype=np.int64)
    got, errors = keys.build_columns(oids, mjds, sids)
    assert not errors and got == [keys.build(*row) for row in zip(oids.tolist(), mjds.tolist(), sids.tolist())]
    mjds[2], oids[3] = float("nan"), -4
    got, errors = keys.build_columns(oids, mjds, sids)
    assert sorted(errors) == [2, 3] and got[2] is None and got[3] is None
    assert "MJD nan" in str(errors[2]) and "-4" in str(errors[3])
    assert got[0] == keys.build(int(oids[0]), float(mjds[0]), int(sids[0]))


def _mjd_edges():
    import numpy as np
    rng = np.random.default_rng(20261130)
    halves = (rng.integers(0, 10**12, 3000) + 0.5) / 1e7       # x.xxxxxxx5: near a rounding half
    ties = np.arange(1, 3000) / 256.0                             # exact binary ties at the 8th decimal
    return np.concatenate([
        [0.0, -0.0, 1e-8, 5e-8, 4.9999999e-8, 99999.9999999, 99999.99999994, 60000.5, 61109.0771,
         np.nextafter(0.00390625, 1), np.nextafter(0.00390625, 0)],
        halves, np.nextafter(halves, 0), np.nextafter(halves, 1e5), ties,
        rng.uniform(0, 1e5, 20000), rng.uniform(60000, 62000, 20000), rng.uniform(0, 1, 2000)])


@pytest.mark.parametrize("salted", [False, True])
@pytest.mark.parametrize("dtype", ["int64", "uint64"])
def test_keys_built_column_wise_are_byte_for_byte_the_per_value_f_strings(salted, dtype):
    """The column-wise keys (Arrow) equal the per-value f-strings (``%020d``, ``%013.7f``,
    the salt) on random and edge values: ids 0, 2**63-1, 2**64-1; MJDs near and at a
    rounding half of the 8th decimal, 0, -0.0, 99999.9999999."""
    import numpy as np
    keys = RowKey(get_schema("rubin").table("sources"), salted=salted)
    mjds = _mjd_edges()
    rng = np.random.default_rng(7)
    top = 2**64 - 1 if dtype == "uint64" else 2**63 - 1
    ids = rng.integers(0, top, len(mjds), dtype=dtype, endpoint=True)
    ids[:4] = [0, 1, 999, 2**63 - 1]
    ids[4] = top
    sids = ids[::-1].copy()
    assert keys._fixed_width_keys((ids, mjds, sids)) is not None  # the column-wise path is the one tested
    got, errors = keys.build_columns(ids, mjds, sids)
    assert not errors
    want = [(f"{o % 1000:03d}_" if salted else "") + f"{o:020d}_{m:013.7f}_{s:020d}"
            for o, m, s in zip(ids.tolist(), mjds.tolist(), sids.tolist())]
    assert got == want


def test_keys_built_column_wise_when_an_mjd_rounds_up_to_100000():
    import numpy as np
    keys = RowKey(get_schema("rubin").table("sources"))
    mjds = np.array([99999.99999996, np.nextafter(1e5, 0), 1.5])
    got, errors = keys.build_columns(np.array([1, 2, 5]), mjds, np.array([3, 4, 6]))
    assert not errors and got == [keys.build(o, float(m), s) for o, m, s in zip([1, 2, 5], mjds.tolist(), [3, 4, 6])]
    assert got[0] == "00000000000000000001_100000.0000000_00000000000000000003"


@pytest.mark.parametrize("salted", [False, True])
def test_keys_read_back_as_numbers_equal_exactly_when_the_strings_do(salted):
    """``numeric_columns`` parses built keys back into their ids and the MJD's key digits
    (``mjd_units``: the f-string's digits, near rounding halves too); a key of another form
    (a sign, a letter, another width) gives None, so the caller compares strings."""
    import numpy as np
    from store.keys import mjd_units
    keys = RowKey(get_schema("rubin").table("sources"), salted=salted)
    mjds = _mjd_edges()
    mjds = mjds[~np.signbit(mjds) & (mjds < 99999.99999995)]
    rng = np.random.default_rng(11)
    oids = rng.integers(0, 2**63 - 1, len(mjds), dtype=np.int64)
    sids = rng.integers(0, 2**63 - 1, len(mjds), dtype=np.int64)
    built, errors = keys.build_columns(oids, mjds, sids)
    assert not errors
    units = mjd_units(mjds)
    assert units.tolist() == [int(f"{m:013.7f}".replace(".", "")) for m in mjds.tolist()]
    got = keys.numeric_columns(built)
    assert got is not None
    assert got[0].tolist() == oids.tolist() and got[1].tolist() == units.tolist() and got[2].tolist() == sids.tolist()
    assert mjd_units(np.array([-0.0, -1.0, float("nan"), 99999.99999996])).tolist() == [-1, -1, -1, -1]
    for bad in (built[0].replace("0", "x", 1), built[0][:-1] + "+", built[0] + "1", built[0].replace(".", "_")):
        assert keys.numeric_columns(built[:3] + [bad]) is None


def test_first_prefix_bytes_are_the_prefixes_encoded():
    """Pixel prefixes made in numpy are byte for byte the formatted ones, and a value no
    pixel takes is refused as the formatter refuses it."""
    import numpy as np
    import pytest
    from hbase_schema import get_schema
    from store.keys import PIXEL_WIDTH, RowKey

    spec = get_schema().table("pixel")
    keys = RowKey(spec)
    values = [0, 1, 9, 10, 12345, 10**PIXEL_WIDTH - 1, *np.random.default_rng(3).integers(0, 10**PIXEL_WIDTH, 200)]
    assert keys.first_prefix_bytes(np.array(values)) == [p.encode() for p in keys.first_prefixes(values)]
    assert keys.first_prefix_bytes([]) == []
    for bad in (-1, 10**PIXEL_WIDTH):
        with pytest.raises(ValueError):
            keys.first_prefixes([bad])
        with pytest.raises(ValueError):
            keys.first_prefix_bytes(np.array([5, bad]))
