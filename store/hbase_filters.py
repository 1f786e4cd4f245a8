"""HBase scan filters in their serialised form, for a Thrift 2 ``TScan.filterBytes``.

The server reads ``filterBytes`` as the protobuf message ``Filter`` of HBase's ``Filter.proto``
(``name``: the filter's Java class, ``serialized_filter``: its own message) and rebuilds the
filter from it. Thrift 1's filter strings have no multi-range filter; this form does.

Four messages are needed, each a few fields, so they are written here with protobuf's wire
rules (varint keys and lengths) rather than through a protobuf runtime and generated classes:
``MultiRowRangeFilter`` (repeated ``RowRange``: start, start inclusive, stop, stop inclusive),
``FilterList`` (operator, repeated ``Filter``), ``FirstKeyOnlyFilter`` (empty) and
``KeyOnlyFilter`` (``len_as_val``). tests/test_hbase_multirange.py checks them against the
server.
"""
from __future__ import annotations

_PACKAGE = "org.apache.hadoop.hbase.filter."
_MUST_PASS_ALL = 1


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(int(value))


def _filter(name: str, body: bytes) -> bytes:
    return _bytes_field(1, (_PACKAGE + name).encode()) + _bytes_field(2, body)


def multi_row_range(ranges) -> bytes:
    """A ``MultiRowRangeFilter`` over ``[start, stop)`` ranges (bytes; ``b""`` or None for an
    open end). The server sorts and merges them itself."""
    body = b"".join(
        _bytes_field(1, _bytes_field(1, start or b"") + _int_field(2, True)
                     + _bytes_field(3, stop or b"") + _int_field(4, False))
        for start, stop in ranges)
    return _filter("MultiRowRangeFilter", body)


def ranges_filter(ranges, keys_only: bool = False) -> bytes:
    """The filter of a read of ``ranges``: their rows whole, or (``keys_only``) each row's
    first cell without its value, which is all a read of keys needs."""
    rows = multi_row_range(ranges)
    if not keys_only:
        return rows
    return all_of(rows, _filter("FirstKeyOnlyFilter", b""), _filter("KeyOnlyFilter", _int_field(1, False)))


def all_of(*filters: bytes) -> bytes:
    """A ``FilterList`` whose rows pass every one of ``filters``."""
    return _filter("FilterList", _int_field(1, _MUST_PASS_ALL) + b"".join(_bytes_field(2, f) for f in filters))
