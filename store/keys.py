"""Row-key codecs: values <-> row keys, per the schema's ``row_key`` parts.

Parts are joined by the separator (``_``). Variable-width strings escape ``%`` and the
separator, so no part ever contains it and ``prefix(...)`` scans never match a longer
value (pixel ``12`` cannot match ``123``). jd and pixel are fixed width, so text order
is numeric order.

Rubin tables add three kinds: ``uid`` (a 64-bit id zero-padded to 20 digits, so text order
is numeric order), ``mjd`` (``%013.7f``, fixed width until MJD 99999) and ``salt`` (the last
three digits of the ``uid`` part that follows it). A salt part is written only when the
table's store is *salted* (HBase: it spreads one night's writes over the regions, as Fink's
``{last 3 digits}_{diaObjectId}`` keys do); the embedded store leaves it out. Either way one
object's rows stay one contiguous range, so callers build keys from the id alone.
"""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hbase_schema import TableSpec

JD_WIDTH = 15
PIXEL_WIDTH = 10
UID_WIDTH = 20
MJD_WIDTH = 13
SALT_DIGITS = 3


def escape(text: str, sep: str = "_") -> str:
    text = str(text)
    if "%" not in text and sep not in text:
        return text
    return text.replace("%", "%25").replace(sep, "%" + format(ord(sep), "02X"))


def unescape(text: str, sep: str = "_") -> str:
    return text.replace("%" + format(ord(sep), "02X"), sep).replace("%25", "%")


def format_jd(jd) -> str:
    value = float(jd)
    if not (math.isfinite(value) and 0 <= value < 1e7):
        raise ValueError(f"jd {jd!r} is outside 0..1e7 and cannot be a row key")
    return f"{value:0{JD_WIDTH}.7f}"


def format_pixel(pixel) -> str:
    value = int(pixel)
    if not 0 <= value < 10**PIXEL_WIDTH:
        raise ValueError(f"pixel {pixel!r} is outside 0..{10**PIXEL_WIDTH - 1}")
    return f"{value:0{PIXEL_WIDTH}d}"


def format_night(night) -> str:
    text = str(night)
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"night {night!r} must be YYYYMMDD")
    return text


def format_id(value) -> str:
    number = int(value)
    if number < 0:
        raise ValueError(f"id {value!r} must be a non-negative integer")
    return str(number)


def format_uid(value) -> str:
    number = int(value)
    if not 0 <= number < 2**64:
        raise ValueError(f"id {value!r} must be an integer in 0..2**64-1")
    return f"{number:0{UID_WIDTH}d}"


def format_mjd(mjd) -> str:
    value = float(mjd)
    if not (math.isfinite(value) and 0 <= value < 1e5):
        raise ValueError(f"MJD {mjd!r} is outside 0..1e5 and cannot be a row key")
    return f"{value:0{MJD_WIDTH}.7f}"


def salt_of(value) -> str:
    """The salt of an id: its last three decimal digits (Fink's)."""
    return f"{int(value) % 10**SALT_DIGITS:0{SALT_DIGITS}d}"


_FORMATTERS = {"jd": format_jd, "pixel": format_pixel, "night": format_night, "id": format_id,
               "uid": format_uid, "mjd": format_mjd}
_PARSERS = {"jd": float, "pixel": int, "night": str, "id": int, "uid": int, "mjd": float}


def _column_ok(kind: str, column) -> bool:
    """Whether a numpy ``column`` of a ``uid`` or ``mjd`` key part is valid as a whole (then
    formatted directly); anything else goes through the part's formatter."""
    if not isinstance(column, np.ndarray) or not len(column):
        return False
    if kind == "uid":
        return column.dtype.kind in "iu" and int(column.min()) >= 0  # int64/uint64 < 2**64
    if kind == "mjd":
        return column.dtype.kind == "f" and bool(np.all((column >= 0) & (column < 1e5)))  # NaN fails
    return False


def _fixed_width(strings: pa.Array, width: int) -> np.ndarray:
    """An Arrow string array of ASCII values all ``width`` long as an ``(n, width)`` matrix of
    its bytes (a view of its data buffer)."""
    first = int(np.frombuffer(strings.buffers()[1], dtype=np.int32, count=1, offset=4 * strings.offset)[0])
    data = np.frombuffer(strings.buffers()[2], dtype=np.uint8, count=len(strings) * width, offset=first)
    return data.reshape(len(strings), width)


def _uid_text(column: np.ndarray) -> np.ndarray:
    """A valid ``uid`` column's characters, zero-padded to 20 digits (integers cast exactly)."""
    return _fixed_width(pc.utf8_lpad(pc.cast(pa.array(column), pa.string()), UID_WIDTH, "0"), UID_WIDTH)


def _mjd_text(column: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A valid ``mjd`` column's characters, equal to ``f"{v:013.7f}"``, and the rows to
    format one by one: ``v * 1e7`` in float64 is within 2**-14 of the exact product (< 1e12),
    so its nearest integer is the correctly rounded one except near a half (ties included),
    and those rows (and ``-0.0``, which keeps its sign) are left to the f-string. None when a
    value rounds up to 100000 (a wider key): the caller formats the column per value."""
    scaled = column.astype(np.float64) * 1e7
    units = np.rint(scaled)
    if len(units) and units.max() >= 10**12:
        return None
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-3
    digits = _fixed_width(pc.cast(pa.array(units.astype(np.int64) + 10**12), pa.string()), MJD_WIDTH)
    text = np.empty_like(digits)  # "1ddddd" + "fffffff" (a leading 1 keeps the zeros) -> "ddddd.fffffff"
    text[:, :MJD_WIDTH - 8] = digits[:, 1:MJD_WIDTH - 7]
    text[:, MJD_WIDTH - 8] = ord(".")
    text[:, MJD_WIDTH - 7:] = digits[:, MJD_WIDTH - 7:]
    return text, near_half | np.signbit(column)


def mjd_units(column: np.ndarray) -> np.ndarray:
    """The integer a valid key MJD's digits make without the point (``f"{v:013.7f}"``: 60000.5
    -> 600005000000), per value of a float ``column``; -1 where a value is no key MJD's (NaN,
    negative, ``-0.0``, 1e5 or more once rounded). Rows near a rounding half take the f-string."""
    values = np.asarray(column, dtype=np.float64)
    ok = np.isfinite(values) & (values >= 0) & ~np.signbit(values)
    scaled = np.where(ok, values, 0.0) * 1e7
    units = np.rint(scaled)
    near_half = ok & (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-3)
    out = np.where(ok & (units < 10**12), units, -1).astype(np.int64)
    for i in np.flatnonzero(near_half).tolist():
        text = f"{values[i]:0{MJD_WIDTH}.7f}"
        out[i] = int(text.replace(".", "")) if len(text) == MJD_WIDTH else -1
    return out


def _digits_value(keys: pa.Array, chars: np.ndarray, at: int, width: int) -> np.ndarray | None:
    """The unsigned integers the characters ``at:at + width`` of fixed-width ASCII ``keys``
    spell (``chars``: their bytes); None when one of them is not a digit."""
    if width and int((chars[:, at:at + width] - np.uint8(48)).max()) > 9:
        return None
    return pc.cast(pc.binary_slice(keys, at, at + width), pa.uint64()).to_numpy(zero_copy_only=False)


class RowKey:
    """Builds and parses the row keys of one table."""

    def __init__(self, spec: TableSpec, sep: str = "_", salted: bool = False):
        self.spec = spec
        self.sep = sep
        self.salted = salted and any(p.kind == "salt" for p in spec.row_key)
        self.parts = tuple(p for p in spec.row_key if p.kind != "salt")  # the parts callers give
        self._formatters = [self._formatter(p.kind) for p in self.parts]
        if self.salted:  # the salt goes before the first part, computed from it
            first = self._formatters[0]
            self._formatters[0] = lambda v: salt_of(v) + self.sep + first(v)

    def _formatter(self, kind: str):
        if kind == "string":
            return lambda v: escape(v, self.sep)
        return _FORMATTERS[kind]

    def _part(self, kind: str, value) -> str:
        if value is None:
            raise ValueError("a row-key part cannot be None")
        return self._formatter(kind)(value)

    def build(self, *values) -> str:
        """The row key of ``values``, given in the order of the schema's parts."""
        if len(values) != len(self.parts):
            names = ", ".join(p.name for p in self.parts)
            raise ValueError(f"{self.spec.logical} row key takes {len(self.parts)} parts ({names}), got {len(values)}")
        if None in values:
            raise ValueError("a row-key part cannot be None")
        return self.sep.join([f(v) for f, v in zip(self._formatters, values)])

    def build_columns(self, *columns) -> tuple[list, dict]:
        """The keys of many rows, each part given as a column (a sequence or numpy array per
        part, in the schema's order): ``(keys, errors)``, ``errors`` mapping a row whose key
        cannot be built to the ValueError :meth:`build` raises (its key is None). Integer
        ids and MJDs are checked as whole columns, then formatted without a call per value."""
        if len(columns) != len(self.parts):
            self.build(*columns)  # raises, naming the parts
        n = len(columns[0]) if columns else 0
        keys = self._fixed_width_keys(columns)
        if keys is not None:
            return keys, {}
        pieces = []
        for i, (part, column) in enumerate(zip(self.parts, columns)):
            fast = not (i == 0 and self.salted) and _column_ok(part.kind, column)
            values = column.tolist() if hasattr(column, "tolist") else list(column)
            if fast and part.kind == "uid":
                pieces.append([f"{v:0{UID_WIDTH}d}" for v in values])
            elif fast and part.kind == "mjd":
                pieces.append([f"{v:0{MJD_WIDTH}.7f}" for v in values])
            else:
                try:
                    pieces.append([self._formatters[i](v) if v is not None else None for v in values])
                except (ValueError, TypeError, OverflowError):
                    break
                if None in pieces[-1]:
                    break
        else:
            return list(map(self.sep.join, zip(*pieces))) if n else [], {}
        keys, errors = [], {}  # a value that cannot be a key part: row by row, for its reason
        rows = [c.tolist() if hasattr(c, "tolist") else list(c) for c in columns]
        for i, values in enumerate(zip(*rows)):
            try:
                keys.append(self.build(*values))
            except (ValueError, TypeError, OverflowError) as exc:
                keys.append(None)
                errors[i] = exc if isinstance(exc, ValueError) else ValueError(str(exc))
        return keys, errors

    def _fixed_width_keys(self, columns) -> list[str] | None:
        """The keys of valid ``uid``/``mjd`` columns (a salt before the first part when
        salted) built column-wise in Arrow, byte for byte :meth:`build`'s; None when a part is
        of another kind or a column is not valid as a whole (the caller's path then)."""
        if not self.sep.isascii() or len(self.sep) != 1 or not all(
                p.kind in ("uid", "mjd") and _column_ok(p.kind, c) for p, c in zip(self.parts, columns)):
            return None
        pieces, exact = [], np.zeros(len(columns[0]), dtype=bool)
        for part, column in zip(self.parts, columns):
            if part.kind == "uid":
                pieces.append(_uid_text(column))
                continue
            got = _mjd_text(column)
            if got is None:
                return None
            pieces.append(got[0])
            exact |= got[1]
        if self.salted:
            pieces.insert(0, pieces[0][:, UID_WIDTH - SALT_DIGITS:])
        width = sum(p.shape[1] for p in pieces) + len(pieces) - 1
        chars = np.full((len(exact), width), ord(self.sep), dtype=np.uint32)
        at = 0
        for piece in pieces:
            chars[:, at:at + piece.shape[1]] = piece
            at += piece.shape[1] + 1
        keys = chars.view(f"U{width}").ravel().tolist()
        for i in np.flatnonzero(exact).tolist():  # near a rounding half: the f-string's digits
            keys[i] = self.build(*(c[i].item() for c in columns))
        return keys

    def numeric_columns(self, keys) -> list[np.ndarray] | None:
        """The parts of many keys (a list of strings or an Arrow string array) of a table whose
        parts are all ``uid``/``mjd`` (a salt is dropped), as numbers: a ``uid`` as uint64, an
        ``mjd`` as :func:`mjd_units` gives it (so keys are equal exactly when their numbers
        are); None when a key is not of that fixed form (then compare the strings)."""
        if not len(keys) or not all(p.kind in ("uid", "mjd") for p in self.parts) or not self.sep.isascii() \
                or len(self.sep) != 1:
            return None
        widths = [UID_WIDTH if p.kind == "uid" else MJD_WIDTH for p in self.parts]
        if self.salted:
            widths.insert(0, SALT_DIGITS)
        width = sum(widths) + len(widths) - 1
        try:
            strings = keys if isinstance(keys, pa.StringArray) else pa.array(keys, type=pa.string())
        except (pa.ArrowException, TypeError):
            return None
        offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32, count=len(strings) + 1, offset=4 * strings.offset)
        if strings.null_count or np.any(np.diff(offsets) != width):
            return None
        chars = _fixed_width(strings, width)
        binary = strings.cast(pa.binary())
        out, at = [], 0
        for i, w in enumerate(widths):
            if at and not np.all(chars[:, at - 1] == ord(self.sep)):
                return None
            kind = "salt" if self.salted and i == 0 else self.parts[i - self.salted].kind
            if kind == "mjd":  # ddddd.fffffff
                point = at + w - 8
                whole, fraction = _digits_value(binary, chars, at, w - 8), _digits_value(binary, chars, point + 1, 7)
                if whole is None or fraction is None or not np.all(chars[:, point] == ord(".")):
                    return None
                out.append((whole * np.uint64(10**7) + fraction).astype(np.int64))
            elif kind == "uid":
                if not np.all(chars[:, at] == 48):  # 20 digits from 1e19 up may pass 2**64: compare the strings
                    return None
                got = _digits_value(binary, chars, at, w)
                if got is None:
                    return None
                out.append(got)
            elif _digits_value(binary, chars, at, w) is None:  # the salt
                return None
            at += w + 1
        return out

    def prefix(self, *values) -> str:
        """A scan prefix for the first ``len(values)`` parts, ending with the separator."""
        if not 0 < len(values) <= len(self.parts):
            raise ValueError(f"{self.spec.logical} prefix takes 1..{len(self.parts)} parts")
        if None in values:
            raise ValueError("a row-key part cannot be None")
        return self.sep.join(f(v) for f, v in zip(self._formatters, values)) + self.sep

    def span(self, *values) -> tuple[str, bytes | None]:
        """The key range ``[start, stop)`` of the keys starting with ``prefix(*values)``, for
        :meth:`Table.read`."""
        start = self.prefix(*values)
        return start, successor(start.encode("utf-8"))

    def first_prefixes(self, values) -> list[str]:
        """``prefix(v)`` for many values of the first part at once (pixels: checked as a
        whole, then formatted without a call per value)."""
        fmt, sep = self._formatters[0], self.sep
        if self.parts[0].kind == "pixel" and values:
            values = [int(v) for v in values]
            bad = next((v for v in (min(values), max(values)) if not 0 <= v < 10**PIXEL_WIDTH), None)
            if bad is not None:
                fmt(bad)  # raises, naming the value
            return [f"{v:0{PIXEL_WIDTH}d}{sep}" for v in values]
        return [fmt(v) + sep for v in values]

    def first_prefix_bytes(self, values) -> list[bytes]:
        """:meth:`first_prefixes` as bytes, the range bounds a read takes; pixels' digits are
        made in numpy, not formatted one value at a time (a 10,000-source cross-match bounds
        ~20,000 ranges)."""
        if self.parts[0].kind != "pixel" or not len(values):
            return [p.encode("utf-8") for p in self.first_prefixes(values)]
        v = np.asarray(values, dtype=np.int64)
        lo, hi = int(v.min()), int(v.max())
        if lo < 0 or hi >= 10**PIXEL_WIDTH:
            self.first_prefixes([lo if lo < 0 else hi])  # raises, naming the value
        sep = np.frombuffer(self.sep.encode("utf-8"), dtype=np.uint8)
        width = PIXEL_WIDTH + len(sep)
        buf = np.empty((len(v), width), dtype=np.uint8)
        buf[:, :PIXEL_WIDTH] = v[:, None] // 10 ** np.arange(PIXEL_WIDTH - 1, -1, -1, dtype=np.int64) % 10 + 48
        buf[:, PIXEL_WIDTH:] = sep
        raw = buf.tobytes()
        return [raw[i:i + width] for i in range(0, len(raw), width)]

    def parse(self, key: str) -> dict:
        """The parts of ``key`` as a dict of typed values (a salt is dropped)."""
        pieces = key.split(self.sep)
        if self.salted:
            pieces = pieces[1:]
        if len(pieces) != len(self.parts):
            raise ValueError(f"{key!r} is not a {self.spec.logical} row key")
        return {
            p.name: unescape(v, self.sep) if p.kind == "string" else _PARSERS[p.kind](v)
            for p, v in zip(self.parts, pieces)
        }


def successor(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix`` (None: no bound)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])
