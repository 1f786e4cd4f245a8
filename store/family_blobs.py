"""The family blobs of a batch of rows read (one packed blob per family and row, as
``store/codec.py`` writes them), decoded when the batch is used. Both the embedded store and
HBase's packed tables (``store/hbase_layout.py``) read rows as such blobs."""
from __future__ import annotations

import numpy as np

from .batch import ColumnBatch


def kept_rows(codecs: dict, blobs: list, families: list[str], wanted: dict,
              groups: dict | None = None) -> list[int] | None:
    """Indices of the rows holding any cell ``wanted`` selects (None: every row does).
    ``blobs`` per family (inflated), ``codecs`` per family; ``groups``, if given, receives each
    family's :meth:`FamilyCodec.group_rows` (what decoding needs next). Rows are judged per
    shape (a blob's header says which columns it holds), not one by one."""
    n = len(blobs[0]) if blobs else 0
    keep = np.zeros(n, dtype=bool)
    for family, column in zip(families, blobs):
        names = wanted[family]
        codec = codecs[family]
        if names is None or codec.spec.open_type is not None:
            if names is None:
                keep |= np.fromiter((b is not None for b in column), dtype=bool, count=n)
                continue
            for i, b in enumerate(column):  # an open family: decode to know its names
                if b is not None and not keep[i] and codec.decode(b, names):
                    keep[i] = True
            continue
        found = codec.group_rows(column)
        if groups is not None:
            groups[family] = found
        for head, idx in found.items():
            if codec.has_any(head, names):
                keep[idx] = True
    return None if keep.all() else np.flatnonzero(keep).tolist()


def blobs_batch(layout, keys: list, families: list[str], wanted: dict | None, blobs: list,
                limit: int | None = None) -> ColumnBatch:
    """Rows read as family blobs (``blobs`` per family, inflated) as a column-wise batch: rows
    without any column ``wanted`` selects left out (:func:`kept_rows`, whose groups decoding
    then reuses), at most ``limit`` rows. Both backends' reads end here."""
    groups: dict = {}
    if wanted is not None and any(n is not None for n in wanted.values()):
        kept = kept_rows(layout.codecs, blobs, families, wanted, groups)
        if kept is not None:
            keys, blobs, groups = [keys[i] for i in kept], [[b[i] for i in kept] for b in blobs], {}
    if limit is not None and len(keys) > limit:
        keys, blobs, groups = keys[:limit], [b[:limit] for b in blobs], {}
    return ColumnBatch(keys, source=FamilyBlobs(layout, families, wanted, blobs, groups))


class FamilyBlobs:
    """The family blobs of the rows read, decoded when the batch is used: column-wise (one
    ``numpy.frombuffer`` per shape of row) or row by row (``struct``, for the dict views)."""

    def __init__(self, layout, families, wanted, blobs, groups):
        self.layout, self.families, self.wanted, self.blobs, self.groups = layout, families, wanted, blobs, groups
        self.order = layout.cell_order  # of a row's cells, for dicts made from the columns

    def blobs_of(self, family: str) -> list | None:
        return self.blobs[self.families.index(family)] if family in self.families else None

    def columns(self) -> tuple[dict, dict]:
        columns, present = {}, {}
        for family, column in zip(self.families, self.blobs):
            names = None if self.wanted is None else self.wanted[family]
            columns.update(self.layout.codecs[family].decode_columns(column, names, self.groups.get(family), present))
        return columns, present

    def rows(self) -> list[dict]:
        decoders = [(self.layout.codecs[f].decode, None if self.wanted is None else self.wanted[f])
                    for f in self.families]
        out = []
        for blobs in zip(*self.blobs):
            cells = {}
            for (decode, names), blob in zip(decoders, blobs):
                if blob is not None:
                    cells.update(decode(blob, names))
            out.append(cells)
        return out
