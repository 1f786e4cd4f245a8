"""How the HBase backend lays a table's rows out: one cell a column, or one cell a family.

``cells`` (every store made before 2026-11-30): each schema column is one HBase cell, encoded
big-endian by :func:`store.column_types.encode_cell`, so the HBase shell shows the numbers.

``packed``: each family of a row is ONE cell, qualifier empty (``i:``), holding the blob the
embedded store keeps for that family (:class:`store.codec.FamilyCodec`, zstd-compressed with
the shipped dictionary where the family has one, :mod:`store.compression`). A ZTF alert's
main row is 3 cells instead of ~150; HBase's CPU goes per cell (docs/benchmarks.md, "HBase
path"), and so does the client's Thrift decoding.

HBase merges a put into a row cell by cell; a packed family is one cell, so a put into an
existing row is made a merge here: :meth:`PackedTable.resolve` reads the stored family cells of
the rows a batch touches (a multi-get per set of families) and merges each put into them, as
the embedded store's ``nocturne_merge`` does. Only what a merge needs is read
(:meth:`PackedTable.to_read`): not a family a put carries whole (every column: the cutouts,
a light index row), nor one the batch does not touch. Read, merge and write are not atomic: two writers updating the
same row at once could lose one's cells. So only tables with one writer are packed: those the
ingest writes under its lock (:data:`PACKABLE`). The tables the API and the portal write
(annotations, users, tokens, sessions, analyses...), which gunicorn workers update a few
columns at a time concurrently, the ingest's statistics (an open family whose stale columns
are deleted), and ``meta`` (read before the layout is known) stay one cell a column.

Which tables of a store are packed is recorded in the store, in its ``meta`` row
(``m:hbase_packed``), when it is created; a store without that cell is a per-cell store of an
older version and is read and written as before.
"""
from __future__ import annotations

import numpy as np

from . import compression
from .batch import ColumnBatch
from .column_types import decode_cell, encode_cell
from .family_blobs import blobs_batch

PACKED, CELLS = "packed", "cells"
RECORD = "m:hbase_packed"  # meta cell: the logical names of the packed tables

# Tables only the ingest writes (under its lock), per survey: packed in a store created "packed".
PACKABLE = {
    "ztf": ("main", "jd", "pixel", "objects_sky", "class", "tns", "anomaly", "ssnamenr",
            "upper", "uppervalid", "fp"),
    # (not fp: its rows are blocks of forced sources, one cell each, that puts add to: HBase's
    # own cell-by-cell merge, safe when a distributed night's workers write one block at once)
    "rubin": ("sources", "objects", "time", "pixel", "tag", "sso", "ssoname", "cutouts"),
}


def packed_tables(schema, layout: str) -> list[str]:
    """The tables a new store of ``schema`` packs under the configured ``layout``."""
    if layout == CELLS:
        return []
    return [t for t in PACKABLE.get(schema.survey, ()) if t in schema.tables]


def family_cell(family: str) -> bytes:
    return family.encode() + b":"


def is_packed_payload(payload: dict) -> bool:
    """Whether an encoded put holds family cells (``b"i:"``) rather than column cells."""
    return next(iter(payload)).endswith(b":")


def as_cells(layout, payload: dict, type_of) -> dict:
    """A packed put as one cell a column (for a per-cell table fed by a packed encoder)."""
    out = {}
    for cell, blob in payload.items():
        for name, value in layout.codecs[cell[:-1].decode()].decode(blob).items():
            column = name.encode()
            out[column] = encode_cell(type_of(column), value)
    return out


class PackedTable:
    """The packed layout of one table: encodes puts, merges them into stored rows, decodes reads."""

    def __init__(self, layout, survey: str, logical: str):
        self.layout = layout
        self.codecs = layout.codecs
        for codec in self.codecs.values():  # zstd with a shipped dictionary, where there is one
            codec.use_compression(survey, logical)
        self.cell = {f: family_cell(f) for f in layout.family_names}
        self.family_of = {c: f for f, c in self.cell.items()}
        self.whole = {self.cell[f]: (1 << len(c.columns)) - 1 for f, c in self.codecs.items()}

    # -- writes --------------------------------------------------------------------------
    def prepare(self, data: dict, groups: list) -> dict:
        """One put: family cell -> blob (a bad value raises, naming its column)."""
        return {self.cell[f]: self.codecs[f].encode(data, mask) for f, _, mask in groups}

    def prepare_columns(self, columns: dict, n: int) -> tuple[list, list]:
        """Many rows given column-wise, each family packed at once (``FamilyCodec.encode_columns``):
        the payloads, and the rows this path left (for the row-by-row path)."""
        per_family: dict = {}
        for name, column in columns.items():
            per_family.setdefault(name.partition(":")[0], {})[name] = column
        payloads: list = [{} for _ in range(n)]
        bad = np.zeros(n, dtype=bool)
        for family, cols in per_family.items():
            blobs, left = self.codecs[family].encode_columns(cols, n)
            cell = self.cell[family]
            for payload, blob in zip(payloads, blobs):
                if blob is not None:
                    payload[cell] = blob
            bad |= left
        return payloads, np.flatnonzero(bad).tolist()

    def from_cells(self, payload: dict, type_of) -> dict:
        """A put encoded one cell a column, packed (for a packed table fed by a per-cell encoder)."""
        data = {c.decode(): decode_cell(type_of(c), v) for c, v in payload.items()}
        return self.prepare(*self.layout.split(data))

    def is_whole(self, cell: bytes, blob: bytes) -> bool:
        """Whether a put's family blob holds every column of its family: merged into any stored
        cell, it gives itself (an open family never is: its columns are not listed)."""
        codec = self.codecs[self.family_of[cell]]
        if codec.spec.open_type is not None:
            return False
        if blob[:1] == compression.COMPRESSED_BYTE:
            blob = compression.decompress(blob)
        return int.from_bytes(blob[1:1 + codec.nbytes], "little") == self.whole[cell]

    def to_read(self, ops: list) -> dict[bytes, frozenset]:
        """Row key -> the family cells whose stored value ``resolve`` needs to merge ``ops``:
        those a row's first op on them is a partial put or a cell delete of. Not read: a family
        the row's ops do not touch (cutouts beside a put of the candidate's fields), one whose
        first put holds every column (it replaces the stored cell whatever it was), and anything
        after a delete of the whole row (the row is empty from there on)."""
        need: dict = {}
        settled: dict = {}  # key -> cells an earlier op of the batch decided; None: the whole row
        for op, key, arg in ops:
            done = settled.get(key, ())
            if done is None:
                continue
            if op == "put":
                cells = [(c, not self.is_whole(c, blob)) for c, blob in arg.items() if c not in done]
            elif arg is None:
                settled[key] = None
                continue
            else:
                cells = [(self.cell[f], True) for f in arg if self.cell[f] not in done]
            if cells:
                done = settled.setdefault(key, set())
                for cell, read in cells:
                    done.add(cell)
                    if read:
                        need.setdefault(key, set()).add(cell)
        return {key: frozenset(cells) for key, cells in need.items()}

    def resolve(self, ops: list, stored: dict) -> list:
        """``ops`` (puts of family cells, deletes by projection) as HBase mutations on family
        cells, each put merged cell by cell into what the row holds (``stored``: key -> its
        family cells, as read before; updated here as the ops apply, in order)."""
        out = []
        for op, key, arg in ops:
            row = stored.setdefault(key, {})
            if op == "put":
                cells = {}
                for cell, blob in arg.items():
                    old = row.get(cell)
                    cells[cell] = blob if old is None else self.codecs[self.family_of[cell]].merge(old, blob)
                row.update(cells)
                out.append(("put", key, cells))
            elif arg is None:
                row.clear()
                out.append(("delete", key, None))
            else:
                out.extend(self._delete_cells(key, row, arg))
        return out

    def _delete_cells(self, key: bytes, row: dict, wanted: dict) -> list:
        gone, kept = [], {}
        for family, names in wanted.items():
            cell = self.cell[family]
            blob = row.get(cell)
            if blob is None:
                continue
            codec = self.codecs[family]
            rest = {} if names is None else {k: v for k, v in codec.decode(blob).items() if k not in names}
            if rest:
                kept[cell] = row[cell] = codec.encode(rest, codec.mask_of(rest))
            else:
                del row[cell]
                gone.append(cell)
        return ([("delete", key, gone)] if gone else []) + ([("put", key, kept)] if kept else [])

    # -- reads ---------------------------------------------------------------------------
    def has_any(self, cells: dict, wanted: dict) -> bool:
        """Whether a row's family cells hold any column ``wanted`` asks for."""
        for cell, blob in cells.items():
            family = self.family_of.get(cell)
            if family is None or family not in wanted:
                continue
            names = wanted[family]
            if names is None:
                return True
            codec = self.codecs[family]
            if codec.spec.open_type is not None:
                if codec.decode(blob, names):
                    return True
                continue
            if blob[:1] == compression.COMPRESSED_BYTE:
                blob = compression.decompress(blob)
            if codec.has_any(blob[:1 + codec.nbytes], names):
                return True
        return False

    def batch(self, found: list, wanted: dict | None) -> ColumnBatch:
        """``(key, family cells)`` rows as a column-wise batch (decoded on first use, as the
        embedded store's, by :func:`family_blobs.blobs_batch`); rows without any wanted column
        are left out."""
        families = [f for f in self.layout.family_names if wanted is None or f in wanted]
        blobs = [compression.decompress_all([cells.get(self.cell[f]) for _, cells in found]) for f in families]
        return blobs_batch(self.layout, [k for k, _ in found], families, wanted, blobs)
