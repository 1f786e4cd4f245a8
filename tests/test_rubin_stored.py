"""Stored history keys matched on numbers (``ingest.rubin.stored``): a row is held exactly when
its key string is among the stored keys, whatever its values (near a rounding half of the
MJD's 8th decimal, one unit apart, another object, values no key takes)."""
import numpy as np
import pytest

from hbase_schema import get_schema
from ingest.rubin.stored import StoredKeys
from store.keys import RowKey


@pytest.mark.parametrize("salted", [False, True])
def test_held_is_the_key_strings_membership(salted):
    keys = RowKey(get_schema("rubin").table("sources"), salted=salted)
    rng = np.random.default_rng(19)
    n = 4000
    oids = rng.integers(1, 2**62, n)
    sids = rng.integers(1, 2**62, n)
    halves = (rng.integers(60000 * 10**7, 62000 * 10**7, n) + 0.5) / 1e7
    mjds = np.where(rng.random(n) < 0.5, halves, rng.uniform(60000, 62000, n))
    stored, _ = keys.build_columns(oids, mjds, sids)
    known = StoredKeys(stored[: n // 2], keys)  # half of them stored
    # the rows asked about: the same, one MJD unit (1e-7) or less apart, another object, bad values
    ask_oid = np.concatenate([oids, oids, oids, oids + 1, oids[:3]])
    ask_mjd = np.concatenate([mjds, mjds + 1e-7, np.nextafter(mjds, 0), mjds, [np.nan, -0.0, -1.0]])
    ask_sid = np.concatenate([sids, sids, sids, sids, sids[:3]])
    ask_oid[-4] = -ask_oid[-4]
    held, told = known.held(ask_oid, ask_mjd, ask_sid)
    assert told[:-4].all() and not told[-4:].any()   # values no key takes: the key strings tell
    strings = set(stored[: n // 2])
    want = []
    for o, m, s in zip(ask_oid.tolist(), ask_mjd.tolist(), ask_sid.tolist()):
        try:
            want.append(keys.build(o, m, s) in strings)
        except ValueError:
            want.append(False)
    assert held.tolist() == want
    assert held[: n // 2].all() and not held[n // 2:n].any()   # the rows themselves
    assert held[n:].any()                                     # (a nearby MJD can share its key digits)


def test_keys_of_another_form_are_compared_as_strings():
    keys = RowKey(get_schema("rubin").table("sources"))
    stored = [keys.build(5, 60000.5, 7), "something_else"]
    known = StoredKeys(stored, keys)
    assert known.held(np.array([5]), np.array([60000.5]), np.array([7])) is None
    assert keys.build(5, 60000.5, 7) in known and keys.build(5, 60000.5, 8) not in known


def test_ids_beyond_the_stored_ones_and_a_repeated_id():
    """The stored ids are looked up sorted: an id below the least, above the greatest or between
    two stored ones is not held, whatever the keys' order; an id stored twice (under two objects)
    leaves the numbers out, and the key strings decide."""
    keys = RowKey(get_schema("rubin").table("sources"))
    stored, _ = keys.build_columns(np.array([9, 3, 7]), np.array([60001.0, 60002.0, 60003.0]), np.array([50, 10, 30]))
    known = StoredKeys(stored, keys)
    oid = np.array([9, 3, 7, 9, 9, 9, 3])
    mjd = np.array([60001.0, 60002.0, 60003.0, 60001.0, 60001.0, 60001.0, 60003.0])
    sid = np.array([50, 10, 30, 5, 70, 20, 10])
    held, told = known.held(oid, mjd, sid)
    assert told.all()
    assert held.tolist() == [True, True, True, False, False, False, False]
    twice, _ = keys.build_columns(np.array([9, 3]), np.array([60001.0, 60002.0]), np.array([50, 50]))
    repeated = StoredKeys(twice, keys)
    assert repeated.held(np.array([9]), np.array([60001.0]), np.array([50])) is None
    assert keys.build(9, 60001.0, 50) in repeated and keys.build(3, 60001.0, 50) not in repeated
