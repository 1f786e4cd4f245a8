"""A column family's cells of one row packed into one blob, and back (the embedded backend
stores a blob per family), with the column types of :mod:`store.column_types`. Layout::

    version byte | presence bitmap (1 bit per declared column) |
    fixed-width values (struct, little-endian, in schema order) |
    lengths of the variable-width values (uint32 each) | their bytes

A family with a dictionary in ``store/dictionaries/`` stores that blob compressed
(:mod:`store.compression`: first byte 0x02); decoding takes either kind.

Only present cells take room: a float32 magnitude costs 4 bytes and a missing one 1
bit. A general serialiser (msgpack, pickle) would store every float as 8 bytes and
every column name; the packed form keeps the store near the raw size of the values.
Plans (the struct for one set of present columns) are cached, so a night of alerts
with the same shape encodes with one ``struct.pack`` per family.

``None`` means "no cell" (HBase has no null): a put of ``None`` stores nothing. NaN is a
value and round-trips.
"""
from __future__ import annotations

import json
import struct

import numpy as np

from hbase_schema import FamilySpec

from . import compression
from .column_types import (FIXED, NUMPY, VAR_DECODE, VAR_PACK, cast_fixed, check_value, encode_var,
                           from_text)

VERSION = b"\x01"


_LENS = "__var_lengths__"


class _Plan:
    """How to pack/unpack one set of present columns of a family."""

    __slots__ = ("fixed_names", "fixed", "var_names", "var_enc", "var_dec", "lens", "size", "records_dtype")

    def __init__(self, columns: list, mask: int, family: str):
        present = [c for i, c in enumerate(columns) if mask >> i & 1]
        fixed = [c for c in present if c.type in FIXED]
        var = [c for c in present if c.type not in FIXED]
        self.fixed_names = tuple(f"{family}:{c.qualifier}" for c in fixed)
        self.fixed = struct.Struct("<" + "".join(FIXED[c.type] for c in fixed))
        self.var_names = tuple(f"{family}:{c.qualifier}" for c in var)
        self.var_enc = tuple(VAR_PACK[c.type] for c in var)
        self.var_dec = tuple(VAR_DECODE[c.type] for c in var)
        self.lens = struct.Struct(f"<{len(var)}I")
        # the fixed part and the var lengths as a packed numpy record (no padding, like the
        # structs), for column-wise decoding
        self.records_dtype = np.dtype({"names": [*self.fixed_names, _LENS],
                                       "formats": [*(NUMPY[FIXED[c.type]] for c in fixed), ("<u4", (len(var),))]})


class FamilyCodec:
    """Packs the cells of one family of one row into a blob, and back."""

    def __init__(self, spec: FamilySpec):
        self.spec = spec
        self.family = spec.name
        self.columns = list(spec.columns.values())
        self.bit = {f"{spec.name}:{c.qualifier}": 1 << i for i, c in enumerate(self.columns)}
        self.nbytes = (len(self.columns) + 7) // 8
        self._plans: dict[int, _Plan] = {}
        self._getters: dict = {}
        self._blob_dtypes: dict = {}
        self.compressor: compression.Compressor | None = None  # new blobs compressed with it
        self.inflates = False  # whether blobs read may be compressed (decoders look)

    def use_compression(self, survey: str, table: str) -> None:
        """Compress new blobs with this family's current shipped dictionary, if it has one
        (never an open family, nor one the schema marks ``compression: none`` or ``block``:
        the storage engine's block compression only). Blobs read are
        inflated wherever a dictionary was ever shipped for the family: a family whose schema
        later turned compression off still reads the blobs written before."""
        if self.spec.open_type is not None:
            return
        ident = compression.current(survey, table, self.family)
        if ident is None:
            return
        self.inflates = True
        if self.spec.zstd_blobs:
            self.compressor = compression.Compressor(ident)

    def inflate(self, blobs: list) -> list:
        """``blobs`` as packed blobs (compressed ones decompressed; the same list if none was)."""
        return compression.decompress_all(blobs) if self.inflates else blobs

    def plan(self, mask: int) -> _Plan:
        plan = self._plans.get(mask)
        if plan is None:
            plan = self._plans[mask] = _Plan(self.columns, mask, self.family)
        return plan

    def encode(self, cells: dict, mask: int) -> bytes:
        """Pack the cells of this family whose presence bits are ``mask``, read by full name
        from ``cells`` (which may hold other families' cells too; none of them None)."""
        if self.spec.open_type is not None:
            return self._encode_open({k: v for k, v in cells.items() if k.partition(":")[0] == self.family})
        plan = self.plan(mask)
        try:
            fixed = plan.fixed.pack(*[cells[n] for n in plan.fixed_names])
            var = [enc(cells[n]) for n, enc in zip(plan.var_names, plan.var_enc)]
        except (TypeError, ValueError, struct.error, OverflowError):
            self._raise_bad_value({n: cells[n] for n in plan.fixed_names + plan.var_names})
            raise
        blob = b"".join((VERSION, mask.to_bytes(self.nbytes, "little"), fixed,
                         plan.lens.pack(*map(len, var)), *var))
        return blob if self.compressor is None else self.compressor.compress(blob)

    def encode_columns(self, columns: dict, n: int) -> tuple[list, np.ndarray]:
        """Many rows of this family packed at once, each blob the bytes :meth:`encode` gives.

        ``columns``: full name -> ``(values, present)`` over ``n`` rows: ``values`` a numpy array
        (fixed-width columns) or a list (others), ``present`` a boolean array (a row without
        the cell has no bit; a NaN present is a value). Returns the blobs (None for a row
        without any cell of the family) and a boolean array of the rows not packed here (a
        value this path does not take, or out of its column's type): the caller encodes those
        one by one, which packs them or raises naming the column. One ``numpy`` record array
        per set of present columns, instead of a ``struct.pack`` and a dict per row."""
        blobs: list = [None] * n
        if self.spec.open_type is not None or n == 0:
            return blobs, np.full(n, n > 0, dtype=bool)
        present, ready, bad = self._ready(columns, n)
        masks = np.packbits(present, axis=1, bitorder="little")  # each row's presence bitmap, as encode writes it
        rows = np.flatnonzero(~bad & present.any(axis=1))
        if not len(rows):
            return blobs, bad
        blobs, bad = self._pack(blobs, bad, masks, rows, ready)
        if self.compressor is not None:
            self.compressor.compress_all(blobs)
        return blobs, bad

    def _ready(self, columns: dict, n: int):
        """Presence per row and column, each column's values as they are packed, and the rows
        left to the row-by-row path."""
        bad = np.zeros(n, dtype=bool)
        present = np.zeros((n, len(self.columns)), dtype=bool)
        ready: dict = {}
        for j, column in enumerate(self.columns):
            name = f"{self.family}:{column.qualifier}"
            if name not in columns:
                continue
            values, ok = columns[name]
            ok = np.asarray(ok, dtype=bool)
            present[:, j] = ok
            if column.type in FIXED:
                cast, wrong = cast_fixed(values, column.type, ok)
                if cast is None:
                    bad |= ok
                    continue
                bad |= wrong
                ready[name] = cast
            else:
                ready[name], wrong = encode_var(VAR_PACK[column.type], values, ok)
                bad |= wrong
        return present, ready, bad

    def check_columns(self, columns: dict, n: int) -> np.ndarray:
        """The rows of ``columns`` (as :meth:`encode_columns` takes them) that the column-wise
        path would not pack: a boolean array; nothing is packed."""
        if self.spec.open_type is not None or n == 0:
            return np.full(n, n > 0, dtype=bool)
        return self._ready(columns, n)[2]

    def _pack(self, blobs: list, bad: np.ndarray, masks: np.ndarray, rows: np.ndarray, ready: dict):
        """Pack ``rows`` into ``blobs``: one numpy record array per set of present columns."""
        keys = np.ascontiguousarray(masks[rows]).view(np.dtype((np.void, self.nbytes))).ravel()
        uniq, inverse = np.unique(keys, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.cumsum(np.bincount(inverse, minlength=len(uniq)))[:-1]
        for u, group in zip(uniq, np.split(rows[order], bounds)):
            mask_bytes = u.tobytes()
            plan = self.plan(int.from_bytes(mask_bytes, "little"))
            records = np.zeros(len(group), dtype=self._blob_dtype(mask_bytes, plan))
            records["__head__"] = VERSION + mask_bytes
            for name in plan.fixed_names:
                records[name] = ready[name][group]
            var = [[ready[name][i] for i in group] for name in plan.var_names]
            if var:
                records[_LENS] = np.array([list(map(len, v)) for v in var], dtype="<u4").T
            buf = records.tobytes()
            size = records.dtype.itemsize
            starts = range(0, len(buf), size)
            if not var:
                packed = [buf[s:s + size] for s in starts]
            elif len(var) == 1:
                packed = [buf[s:s + size] + v for s, v in zip(starts, var[0])]
            else:
                packed = [b"".join((buf[s:s + size], *vs)) for s, vs in zip(starts, zip(*var))]
            for i, blob in zip(group.tolist(), packed):
                blobs[i] = blob
        return blobs, bad

    def _blob_dtype(self, mask_bytes: bytes, plan: _Plan) -> np.dtype:
        """A whole blob but its variable-width bytes as one packed numpy record: version and
        presence bitmap, the fixed-width values, the lengths."""
        dtype = self._blob_dtypes.get(mask_bytes)
        if dtype is None:
            fields = plan.records_dtype.fields
            names = list(plan.records_dtype.names)
            dtype = self._blob_dtypes[mask_bytes] = np.dtype({
                "names": ["__head__", *names],
                "formats": [f"V{1 + self.nbytes}", *(fields[n][0] for n in names)]})
        return dtype

    def decode(self, blob: bytes, wanted: set | None = None) -> dict:
        """The cells of ``blob`` as full names -> values, limited to ``wanted`` names if given."""
        if self.spec.open_type is not None:
            return self._decode_open(blob, wanted)
        if blob[:1] == compression.COMPRESSED_BYTE:
            blob = compression.decompress(blob)
        if blob[:1] != VERSION:
            raise ValueError(f"family {self.family}: unknown blob version {blob[:1]!r}")
        nb = self.nbytes
        plan = self.plan(int.from_bytes(blob[1:1 + nb], "little"))
        offset = 1 + nb
        out = dict(zip(plan.fixed_names, plan.fixed.unpack_from(blob, offset)))
        offset += plan.fixed.size
        if plan.var_names:
            lens = plan.lens.unpack_from(blob, offset)
            offset += plan.lens.size
            for name, dec, n in zip(plan.var_names, plan.var_dec, lens):
                if wanted is None or name in wanted:
                    out[name] = dec(blob[offset:offset + n])
                offset += n
        if wanted is not None:
            return {k: v for k, v in out.items() if k in wanted}
        return out

    def group_rows(self, blobs: list) -> dict[bytes, list[int]]:
        """Row indices of ``blobs`` by set of present columns (the blob's version and
        presence bitmap); rows without a blob (None) are left out. ``blobs`` must be packed
        ones (:meth:`inflate`)."""
        head = 1 + self.nbytes
        groups: dict[bytes, list[int]] = {}
        for i, blob in enumerate(blobs):
            if blob is not None:
                groups.setdefault(blob[:head], []).append(i)
        for key in groups:
            if key[:1] != VERSION:
                raise ValueError(f"family {self.family}: unknown blob version {key[:1]!r}")
        return groups

    def has_any(self, group: bytes, names) -> bool:
        """Whether rows of ``group`` (a key of :meth:`group_rows`) hold any of ``names``."""
        return bool(int.from_bytes(group[1:], "little") & sum(self.bit[n] for n in names))

    def decode_columns(self, blobs: list, wanted: set | None = None, groups: dict | None = None,
                       present: dict | None = None) -> dict:
        """Many blobs (None for a row without this family) decoded column-wise: full name ->
        a numpy array for a fixed-width column present in every row (float columns: NaN
        where absent), else a list with None where absent; only ``wanted`` names if given.
        One ``numpy.frombuffer`` per set of present columns instead of one ``struct.unpack``
        and one dict per row. ``groups``: :meth:`group_rows` of ``blobs``, if already known;
        ``present``, if given, receives for each float array with absent cells a boolean mask
        of the rows that have it (a stored NaN is a value)."""
        n = len(blobs)
        if self.spec.open_type is not None:
            rows = [self._decode_open(b, wanted) if b is not None else {} for b in blobs]
            return {name: [r.get(name) for r in rows] for name in dict.fromkeys(k for r in rows for k in r)}
        nb = self.nbytes
        if groups is None:
            blobs = self.inflate(blobs)
            groups = self.group_rows(blobs)
        start = 1 + nb
        out: dict = {}
        for head, idx in groups.items():
            plan = self.plan(int.from_bytes(head[1:], "little"))
            size = plan.fixed.size
            nvar = len(plan.var_names)
            # the fixed-width values and the var lengths of every row, as one numpy record array
            if not plan.records_dtype.itemsize:  # a blob without any column
                continue
            records = np.frombuffer(b"".join([blobs[i][start:start + size + 4 * nvar] for i in idx]),
                                    dtype=plan.records_dtype)
            var_names = [n for n in plan.var_names if wanted is None or n in wanted]
            var_cols: list[list] = []
            if var_names:
                lens = records[_LENS].reshape(len(idx), nvar).astype(np.int64)
                ends = start + size + 4 * nvar + np.cumsum(lens, axis=1)
                rows = [blobs[i] for i in idx]
                for name in var_names:
                    j = plan.var_names.index(name)
                    dec = plan.var_dec[j]
                    b_j, e_j = (ends[:, j] - lens[:, j]).tolist(), ends[:, j].tolist()
                    if dec is from_text:
                        var_cols.append([blob[b:e].decode("utf-8") for blob, b, e in zip(rows, b_j, e_j)])
                    else:
                        var_cols.append([dec(blob[b:e]) for blob, b, e in zip(rows, b_j, e_j)])
            whole = len(idx) == n
            for name in plan.fixed_names:
                if wanted is not None and name not in wanted:
                    continue
                values = records[name]
                if whole:  # integers as int64, as Python ints would become in pandas
                    out[name] = values.astype(np.int64) if values.dtype.kind == "i" else values.copy()
                    continue
                col = out.get(name)
                if col is None:
                    col = out[name] = (np.full(n, np.nan) if values.dtype.kind == "f" else [None] * n)
                    if present is not None and isinstance(col, np.ndarray):
                        present[name] = np.zeros(n, dtype=bool)
                if isinstance(col, np.ndarray):
                    col[idx] = values
                    if present is not None:
                        present[name][idx] = True
                else:
                    for i, v in zip(idx, values.tolist()):
                        col[i] = v
            for name, values in zip(var_names, var_cols):
                if whole:
                    out[name] = values
                    continue
                col = out.setdefault(name, [None] * n)
                for i, v in zip(idx, values):
                    col[i] = v
        return out

    def values(self, blob: bytes, names: tuple) -> tuple:
        """The values of ``names`` (full column names) in ``blob``, None where absent:
        a tuple, without building a dict per row (for scans over many rows)."""
        if blob[:1] == compression.COMPRESSED_BYTE:
            blob = compression.decompress(blob)
        getter = self._getters.get((blob[1:1 + self.nbytes], names))
        if getter is None:
            getter = self._getter(blob[1:1 + self.nbytes], names)
        return getter(blob)

    def _getter(self, mask_bytes: bytes, names: tuple):
        plan = self.plan(int.from_bytes(mask_bytes, "little"))
        fixed = {n: i for i, n in enumerate(plan.fixed_names)}
        var = {n: i for i, n in enumerate(plan.var_names)}
        picks = [("f", fixed[n], None) if n in fixed else ("v", var[n], plan.var_dec[var[n]]) if n in var
                 else ("-", 0, None) for n in names]
        start = 1 + self.nbytes
        var_start = start + plan.fixed.size + plan.lens.size
        need_var = any(kind == "v" for kind, _, _ in picks)

        def get(blob: bytes) -> tuple:
            fixed_values = plan.fixed.unpack_from(blob, start)
            if need_var:
                lens = plan.lens.unpack_from(blob, start + plan.fixed.size)
                offsets = [var_start]
                for n in lens:
                    offsets.append(offsets[-1] + n)
            out = []
            for kind, i, dec in picks:
                if kind == "f":
                    out.append(fixed_values[i])
                elif kind == "v":
                    out.append(dec(blob[offsets[i]:offsets[i + 1]]))
                else:
                    out.append(None)
            return tuple(out)

        if len(self._getters) < 4096:
            self._getters[(mask_bytes, names)] = get
        return get

    def _raise_bad_value(self, cells: dict) -> None:
        for name, value in cells.items():
            check_value(name, self.spec.column(name.partition(":")[2]).type, value)

    # Open families (e.g. statistics per class): any qualifier, one type, stored as JSON; an
    # open family of bytes (a records table's blocks) as ``B``, the cell count (uint32), each
    # qualifier's length (uint16) then each value's (uint32), the qualifiers, the values: cells
    # sorted by qualifier, so a row's blob is a function of its cells alone.
    def _encode_open(self, cells: dict) -> bytes:
        for name, value in cells.items():
            check_value(name, self.spec.open_type, value)
        if self.spec.open_type == "bytes":
            names = sorted(cells)
            return pack_cells([n.partition(":")[2].encode() for n in names], [bytes(cells[n]) for n in names])
        body = {name.partition(":")[2]: value for name, value in cells.items()}
        return b"J" + json.dumps(body, separators=(",", ":")).encode("utf-8")

    def _decode_open(self, blob: bytes, wanted: set | None) -> dict:
        if blob[:1] == b"B":
            prefix = self.family + ":"
            out = {prefix + q.decode(): v for q, v in zip(*unpack_cells(blob))}
            return out if wanted is None else {k: v for k, v in out.items() if k in wanted}
        body = json.loads(blob[1:].decode("utf-8"))
        out = {f"{self.family}:{q}": v for q, v in body.items()}
        if wanted is not None:
            out = {k: v for k, v in out.items() if k in wanted}
        return out

    def merge(self, old: bytes | None, new: bytes | None) -> bytes | None:
        """``old`` overwritten cell by cell with ``new`` (an HBase put into an existing row)."""
        if old is None or new is None:
            return new if old is None else old
        if old == new:  # the same packet ingested again
            return old
        cells = self.decode(old)
        cells.update(self.decode(new))
        return self.encode(cells, self.mask_of(cells))

    def mask_of(self, cells: dict) -> int:
        if self.spec.open_type is not None:
            return 0
        mask = 0
        for name in cells:
            mask |= self.bit[name]
        return mask


def pack_cells(qualifiers: list, values: list) -> bytes:
    """The blob of an open family of bytes: ``qualifiers`` (bytes, sorted, distinct) and their ``values``."""
    n = len(qualifiers)
    head = struct.pack(f"<I{n}H{n}I", n, *map(len, qualifiers), *map(len, values))
    return b"".join((b"B", head, *qualifiers, *values))


def unpack_cells(blob: bytes) -> tuple[list, list]:
    """``(qualifiers, values)`` of a blob :func:`pack_cells` made."""
    n = int.from_bytes(blob[1:5], "little")
    lens = struct.unpack_from(f"<{n}H{n}I", blob, 5)
    at = 5 + 6 * n
    out = []
    for size in lens:
        out.append(blob[at:at + size])
        at += size
    return out[:n], out[n:]


def fixed_width_qualifiers(blob: bytes) -> tuple[int, int, bytes] | None:
    """``(width, count, qualifiers)`` of a blob :func:`pack_cells` made whose qualifiers all
    have one width, the qualifiers as the one bytes string they lie in, end to end (no cell
    unpacked); None for any other blob (not ``B``, no cell, widths that differ)."""
    n = int.from_bytes(blob[1:5], "little")
    if blob[:1] != b"B" or n == 0:
        return None
    lens = blob[5:7]
    if blob[5:5 + 2 * n] != lens * n:
        return None
    width, at = int.from_bytes(lens, "little"), 5 + 6 * n
    return width, n, blob[at:at + n * width]
