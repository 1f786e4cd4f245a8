"""The family blobs of a batch of rows read (one packed blob per family and row, as
``store/codec.py`` writes them), decoded when the batch is used. Both the embedded store and
HBase's packed tables (``store/hbase_layout.py``) read rows as such blobs."""
from __future__ import annotations


class FamilyBlobs:
    """The family blobs of the rows read, decoded when the batch is used: column-wise (one
    ``numpy.frombuffer`` per shape of row) or row by row (``struct``, for the dict views)."""

    def __init__(self, layout, families, wanted, blobs, groups):
        self.layout, self.families, self.wanted, self.blobs, self.groups = layout, families, wanted, blobs, groups
        self.order = layout.cell_order  # of a row's cells, for dicts made from the columns

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
