"""``ListRows._first``: which of a unit's history rows a worker sends. Each key once, at its
first kept row in input order; a row of a refused packet or without a key never counts as the
first (a later row with the same key is sent); a packet's own source hides its copies in this and
later packets."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ingest.rubin.lists import ListRows
from ingest.sent_keys import SentKeys


def _first(keys, owner, errors=(), own_keys=None, sent=()):
    seen = SentKeys(4)
    if sent:
        seen.add(list(sent))
    rows = SimpleNamespace(seen=seen, spec=SimpleNamespace(own=own_keys is not None))
    owners = [SimpleNamespace(own_key=k) for k in (own_keys or [None] * (max(owner) + 1))]
    return ListRows._first(rows, owners, np.array(owner, dtype=np.int64), keys,
                           {o: ValueError("refused") for o in errors}).tolist()


def test_each_key_at_its_first_row():
    keys = ["b", "a", "b", "c", "a", "a", "d", "c"]
    assert _first(keys, [0, 0, 1, 1, 1, 2, 2, 2]) == [True, True, False, True, False, False, True, False]


def test_a_refused_packets_row_or_a_missing_key_leaves_the_key_to_the_next_row():
    keys = ["a", None, "b", "a", "b", None, "c"]
    got = _first(keys, [0, 0, 1, 1, 2, 2, 2], errors=[0])
    assert got == [False, False, True, True, False, False, True]


def test_keys_sent_by_an_earlier_unit_and_own_sources():
    keys = ["x", "a", "own1", "a", "own1", "own2", "y"]
    got = _first(keys, [0, 0, 0, 1, 1, 2, 2], own_keys=["own0", "own1", "own2"], sent=["x"])
    # "own1" is packet 1's own source: its copy in packet 0 (earlier) is sent, packet 1's is not;
    # "own2" in packet 2 is packet 2's own
    assert got == [False, True, True, False, False, False, True]


def test_no_rows():
    assert _first([], [0]) == []
