"""The HBase backend's calls for a batch of puts and deletes (``store.hbase._segments``): a put
of a row that follows a delete of that row waits for a later call (HBase stamps both with the
server's millisecond, and a delete hides a put of the same millisecond), and nothing else cuts
a call: a later night's newer diaObjects, a delete then a put each, take two calls, not two a
row. Their result is the contract suite's (tests/test_store_contract.py)."""
from __future__ import annotations

from store.hbase import _segments


def _calls(ops):
    return [[(op, key) for op, key, _ in call] for call in _segments([(op, key, None) for op, key in ops])]


def test_replaced_rows_take_two_calls_whatever_their_number():
    ops = [(kind, f"r{i}") for i in range(1000) for kind in ("delete", "put")]
    calls = _calls(ops)
    assert len(calls) == 2
    assert calls[0] == [("delete", f"r{i}") for i in range(1000)]
    assert calls[1] == [("put", f"r{i}") for i in range(1000)]


def test_a_rows_ops_keep_their_order_and_a_put_after_its_delete_waits_for_the_next_call():
    ops = [("put", "a"), ("delete", "a"), ("put", "b"), ("put", "a"), ("delete", "b"), ("delete", "a"),
           ("put", "a"), ("put", "c")]
    calls = _calls(ops)
    assert calls == [[("put", "a"), ("delete", "a"), ("put", "b"), ("delete", "b"), ("put", "c")],
                     [("put", "a"), ("delete", "a")],
                     [("put", "a")]]
    flat = [op for call in calls for op in call]
    for row in "abc":  # each row's ops in their order
        assert [op for op in flat if op[1] == row] == [op for op in ops if op[1] == row]
    for call in calls:  # no put of a row after a delete of that row within a call
        for i, (kind, row) in enumerate(call):
            assert not (kind == "put" and ("delete", row) in call[:i])


def test_puts_alone_and_deletes_alone_are_one_call():
    assert len(_calls([("put", f"r{i % 7}") for i in range(50)])) == 1
    assert len(_calls([("delete", f"r{i % 7}") for i in range(50)])) == 1
    assert _calls([]) == []
