"""The embedded store's write batch: rows given in bulk kept as SQLite's arguments (issue 19).

A first Rubin night writes ~100 history rows an alert, given to the batch in bulk
(:meth:`Batch.put_encoded_many`: an alert's previous or forced sources). :class:`RunBatch`
keeps the rows of such a call whose payloads share one families' set as one op,
``("rows", families, [(key, *blobs), ...])``, the arguments ``executemany`` binds, made by one
comprehension: not a ``("put", key, payload)`` op a row, turned into those arguments later
(``EmbeddedTable._apply_in_txn`` applies both kinds in order). A call whose rows mix families'
sets is buffered a row an op, as :class:`Batch` does. Rows count as rows for ``batch_size``.
"""
from __future__ import annotations

from itertools import repeat
from operator import eq, itemgetter

from .base import Batch, _key

_first, _second = itemgetter(0), itemgetter(1)


class RunBatch(Batch):
    def __init__(self, table, batch_size: int):
        super().__init__(table, batch_size)
        self._extra = 0  # rows held beyond one an op (the "rows" ops' other rows)

    def put_encoded_many(self, rows) -> None:
        if not rows:
            return
        families = rows[0][1][0]
        if self.table.external or not all(map(eq, repeat(families), map(_first, map(_second, rows)))):
            super().put_encoded_many(rows)  # (blobs bound for the blob file: EmbeddedTable._externalised)
            return
        if not families:  # a put of no cell writes nothing
            return
        args = [(k.encode("utf-8") if k.__class__ is str else _key(k), *p[1]) for k, p in rows]
        size = self.batch_size
        while args:
            room = max(1, size - len(self._ops) - self._extra)
            part, args = args[:room], args[room:]
            self._ops.append(("rows", families, part))
            self._extra += len(part) - 1
            if len(self._ops) + self._extra >= size:
                self._full()

    def put_encoded(self, row: str, payload: object) -> None:
        self._ops.append(("put", _key(row), payload))
        if len(self._ops) + self._extra >= self.batch_size:
            self._full()

    def _ship(self, ops: list) -> None:
        self._extra = 0  # (every caller ships what it took out of ``_ops``: all of it, or rows put one an op)
        super()._ship(ops)
