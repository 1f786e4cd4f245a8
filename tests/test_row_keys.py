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
