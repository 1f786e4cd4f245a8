"""The storage interface: one read and one write primitive per backend, and views on them.

A :class:`Store` opens tables by their logical schema name (``main``, ``jd``, ``pixel``...).
A :class:`Table` reads and writes rows: keys are ``str``; values are dicts of full column
names (``"i:magpsf"``) to Python values typed per the schema.

Semantics every backend honours (pinned by ``tests/test_store_contract.py``):

* keys sort as their UTF-8 bytes; scans run over ``[row_start, row_stop)``; ``row_prefix``
  is the range of keys starting with it; ``reverse=True`` walks the same range backwards;
* ``columns`` selects families (``"i"``) and/or single columns (``"i:ra"``); a row that has
  none of the selected cells is not returned;
* ``put`` adds or overwrites cells and keeps the others; a ``None`` value stores nothing;
* ``delete(key)`` removes the row, ``delete(key, columns)`` only those cells;
* ``batch()`` buffers mutations and sends them every ``batch_size``; if the ``with`` block
  raises, whatever is still buffered is dropped, never half-applied. A backend may send a
  full buffer in the background (:meth:`Table.submit`): a batch keeps at most one such send
  in flight, so its mutations still apply in order, and ``send()`` (and leaving the ``with``
  block) returns only once everything is applied, raising the error of any send.
"""
from __future__ import annotations

from itertools import chain
from typing import Iterator

from hbase_schema import Schema, TableSpec

from .batch import ColumnBatch
from .codec import FamilyCodec
from .column_types import FIXED as FIXED_TYPES, check_value
from .keys import RowKey, successor

DEFAULT_BATCH_SIZE = 1000
META_ROW = "store"  # the row of table ``meta`` holding the store's own facts (schema version...)


class Layout:
    """A table's families and columns, with the checks both backends share."""

    def __init__(self, spec: TableSpec):
        self.spec = spec
        self.family_names = tuple(spec.families)
        self.codecs = {name: FamilyCodec(f) for name, f in spec.families.items()}
        self._split_cache: dict[tuple, list] = {}
        fixed = FIXED_TYPES
        self.rank = {f"{f}:{c.qualifier}": (i, c.type not in fixed, j)
                     for i, (f, fam) in enumerate(spec.families.items()) for j, c in enumerate(fam.columns.values())}
        self.family_rank = {f: (i, False, -1) for i, f in enumerate(spec.families)}

    def cell_order(self, name: str) -> tuple:
        """Where column ``name`` goes in a row's cells: by family, then the fixed-width columns
        before the others, each in schema order (an open family's names keep their order)."""
        return self.rank.get(name) or self.family_rank[name.partition(":")[0]]

    def split(self, data: dict) -> tuple[dict, list[tuple[str, tuple, int]]]:
        """``data`` without its ``None`` values, and its columns grouped per family as
        ``(family, names, presence mask)``; unknown columns raise, naming them."""
        if not isinstance(data, dict):
            raise TypeError(f"put data for {self.spec.logical} must be a dict of column -> value")
        values = data.values()
        try:
            has_none = None in values
        except ValueError:  # an array among the values compares elementwise
            has_none = any(v is None for v in values)
        if has_none:
            data = {k: v for k, v in data.items() if v is not None}
        signature = tuple(data)
        groups = self._split_cache.get(signature)
        if groups is None:
            groups = self._group(signature)
            if len(self._split_cache) < 4096:
                self._split_cache[signature] = groups
        return data, groups

    def _group(self, names: tuple) -> list:
        per_family: dict[str, list] = {}
        for name in names:
            family, sep, qualifier = str(name).partition(":")
            if not sep or family not in self.codecs:
                raise ValueError(self._unknown(name))
            try:
                self.spec.families[family].column(qualifier)
            except KeyError:
                raise ValueError(self._unknown(name)) from None
            per_family.setdefault(family, []).append(name)
        return [(f, tuple(n), self.codecs[f].mask_of(n)) for f, n in per_family.items()]

    def check(self, cells: dict) -> None:
        """Raise a ValueError naming the first column whose value does not fit its type."""
        for name, value in cells.items():
            check_value(name, self.spec.column(name).type, value)

    def projection(self, columns) -> dict[str, set | None] | None:
        """``columns`` as family -> wanted full names (None: the whole family); None: all."""
        if columns is None:
            return None
        if isinstance(columns, str):
            raise TypeError("columns must be a list of 'family' or 'family:qualifier' names, not a string")
        wanted: dict[str, set | None] = {}
        for col in columns:
            family, sep, qualifier = str(col).partition(":")
            if family not in self.codecs:
                raise ValueError(self._unknown(col))
            if not sep:
                wanted[family] = None
                continue
            try:
                self.spec.families[family].column(qualifier)
            except KeyError:
                raise ValueError(self._unknown(col)) from None
            if family not in wanted:
                wanted[family] = set()
            if wanted[family] is not None:
                wanted[family].add(f"{family}:{qualifier}")
        if not wanted:
            raise ValueError("columns is empty: name at least one family or column")
        return wanted

    def _unknown(self, name) -> str:
        return (f"unknown column {name!r} in table {self.spec.logical}; families: "
                f"{', '.join(self.family_names)} (see `python -m hbase_schema describe {self.spec.logical}`)")


def pivot(rows: list[dict]) -> dict:
    """Row dicts -> {name: list of values}, None where a row lacks the name."""
    names = dict.fromkeys(name for cells in rows for name in cells)
    return {name: [cells.get(name) for cells in rows] for name in names}


class Table:
    """One table of a store.

    Backends implement one read primitive, :meth:`_read` (behind :meth:`read`), and one write
    primitive, :meth:`apply` (with :meth:`_prepare`, the encoding of a put). Everything else
    here is a view built on them, the same for every backend.
    """

    batch_class = None  # the Batch class of :meth:`batch` (None: Batch; store.embedded_batch.RunBatch: the embedded store's)

    def __init__(self, store: "Store", spec: TableSpec):
        self.store = store
        self.spec = spec
        self.name = spec.physical_name(store.prefix)
        self.layout = Layout(spec)
        self.keys = RowKey(spec, store.schema.separator, salted=store.salted)
        self._records = None

    @property
    def records(self):
        """The table's records (``store.records.Records``) when its rows are blocks of them
        (``records:`` in the schema), else None."""
        if self._records is None and self.spec.records is not None:
            from .records import Records
            self._records = Records(self)
        return self._records

    # -- the read primitive ----------------------------------------------------------------
    def read(self, keys=None, ranges=None, columns=None, limit: int | None = None, reverse: bool = False,
             on_batch=None, batch_size: int = 5000) -> ColumnBatch:
        """Rows column-wise: by ``keys`` (those that exist, in the order asked), or over
        ``ranges`` (``[start, stop)`` each, ``None`` for an open end; range by range, each in
        key order, or from its end with ``reverse``, which takes one range).

        :param columns: families (``"i"``) and/or columns (``"i:ra"``); None: every family;
            ``[]``: no column, the keys of the rows that exist. A row without any selected cell
            is not returned.
        :param limit: at most this many rows (range reads).
        :param on_batch: called after every ``batch_size`` rows read (e.g. a time budget's check).
        """
        if (keys is None) == (ranges is None):
            raise TypeError("read takes keys or ranges (one of them)")
        _check_limit(limit)
        wanted = {} if columns is not None and not isinstance(columns, str) and len(columns) == 0 \
            else self.layout.projection(columns)
        if keys is not None:
            if limit is not None or reverse:
                raise TypeError("limit and reverse apply to range reads, not to reads by key")
            return self._read([_key(k) for k in keys], None, wanted, None, False, on_batch, batch_size)
        spans = _spans(ranges)
        if reverse and len(spans) > 1:
            raise ValueError("reverse reads take one range")
        if not spans:
            return ColumnBatch([], {})
        return self._read(None, spans, wanted, limit, bool(reverse), on_batch, batch_size)

    def keys_in(self, ranges) -> list[str]:
        """The keys of the rows of ``ranges`` (as :meth:`read` takes them), in any order: the
        keys ``read(ranges=ranges, columns=[])`` gives, which a backend may read faster when
        their order does not matter (the embedded store: one string a statement)."""
        return self.read(ranges=ranges, columns=[]).keys

    # -- views: rows as dicts ---------------------------------------------------------------
    def row(self, row: str, columns=None) -> dict:
        """The cells of one row (an empty dict when it does not exist)."""
        found = self.rows([row], columns)
        return found[0][1] if found else {}

    def rows(self, rows, columns=None) -> list[tuple[str, dict]]:
        """``(key, cells)`` for each of ``rows`` that exists, in the order asked."""
        return self.read(keys=rows, columns=columns).rows()

    def scan(self, row_start=None, row_stop=None, row_prefix=None, columns=None,
             limit=None, reverse=False, batch_size=1000) -> Iterator[tuple[str, dict]]:
        """Rows in key order over ``[row_start, row_stop)`` or with ``row_prefix``, read
        ``batch_size`` rows at a time.

        :param limit: at most this many rows.
        :param reverse: walk the same range from its end.
        """
        if row_prefix is not None:
            if row_start is not None or row_stop is not None:
                raise TypeError("row_prefix cannot be combined with row_start or row_stop")
            row_start = _key(row_prefix)
            row_stop = successor(row_start)
        self.layout.projection(columns)  # errors now, not at the first row
        _check_limit(limit)
        return self._pages(row_start, row_stop, columns, limit, bool(reverse), max(1, int(batch_size)))

    def _pages(self, start, stop, columns, limit, reverse, size):
        """The rows over ``[start, stop)``, read page after page, each after the last."""
        n = 0
        while True:
            page = size if limit is None else min(size, limit - n)
            batch = self.read(ranges=[(start, stop)], columns=columns, limit=page, reverse=reverse)
            for item in batch.rows():
                yield item
            n += len(batch)
            if len(batch) < page or (limit is not None and n >= limit):
                return
            last = batch.raw_keys[-1]
            if reverse:
                stop = last
            else:
                start = last + b"\x00"  # the smallest key after it

    def count(self) -> int:
        """The number of rows (a full key scan)."""
        return len(self.read(ranges=[(None, None)], columns=[]))

    # -- writes --------------------------------------------------------------------------
    def put(self, row: str, data: dict) -> None:
        """Store ``data`` (column -> value) in ``row``, overwriting those cells only."""
        with self.batch() as b:
            b.put(row, data)

    def delete(self, row: str, columns=None) -> None:
        """Delete the row, or only ``columns`` of it."""
        with self.batch() as b:
            b.delete(row, columns)

    def encode(self, data: dict) -> object:
        """``data`` encoded for :meth:`Batch.put_encoded` (checked and typed as ``put`` does).

        Lets a process that holds no connection (an ingest worker) do the encoding, and
        the writer only send the bytes."""
        return self._prepare(*self.layout.split(data))

    def encode_family(self, family: str, qualifiers: list, values: list) -> object:
        """A put of one open family of bytes (``qualifiers``: bytes, sorted, distinct; their
        ``values``), encoded as :meth:`encode` would (without the per-name bookkeeping of a
        row's usual shape: each such put has names of its own)."""
        prefix = family + ":"
        cells = {prefix + q.decode(): v for q, v in zip(qualifiers, values)}
        return self._prepare(cells, [(family, tuple(cells), 0)])

    def encode_columns(self, columns: dict, n: int) -> tuple[list, dict]:
        """Many rows given column-wise encoded as :meth:`encode` encodes each (for ingest
        workers with thousands of rows of one shape).

        :param columns: full column name -> ``(values, present)`` over ``n`` rows: values as a
            numpy array or a list, ``present`` a boolean array (no cell where False).
        :returns: ``(payloads, errors)``: a payload per row (None for a row in ``errors``),
            and row index -> the exception :meth:`encode` raises for that row.
        """
        self.layout.split(dict.fromkeys(columns, 0))  # an unknown column raises here, naming it
        return self._prepare_columns(columns, n)

    def check_columns(self, columns: dict, n: int) -> dict:
        """The rows of ``columns`` :meth:`encode_columns` would refuse, each with its exception,
        without encoding the others (to check rows that are not sent, as an ingest that
        skips repeated rows must)."""
        self.layout.split(dict.fromkeys(columns, 0))
        return self._check_columns(columns, n)

    def _check_columns(self, columns: dict, n: int) -> dict:
        return self._prepare_columns(columns, n)[1]

    def _prepare_columns(self, columns: dict, n: int, rows=None) -> tuple[list, dict]:
        """``encode`` row by row (of ``rows`` only, if given; the others' payloads are None):
        the backends' common path, and their fallback for rows a faster path leaves."""
        plain = {name: (values.tolist() if hasattr(values, "tolist") else values,
                        present.tolist() if hasattr(present, "tolist") else present)
                 for name, (values, present) in columns.items()}
        payloads: list = [None] * n
        errors: dict = {}
        for i in (range(n) if rows is None else rows):
            try:
                payloads[i] = self.encode({name: v[i] for name, (v, ok) in plain.items() if ok[i]})
            except (ValueError, TypeError) as exc:  # ColumnValueError is a ValueError
                errors[i] = exc
        return payloads, errors

    def batch(self, batch_size: int = DEFAULT_BATCH_SIZE) -> "Batch":
        """A context manager that buffers puts and deletes and sends them every ``batch_size``."""
        return (self.batch_class or Batch)(self, batch_size)

    # -- backend hooks -------------------------------------------------------------------
    def _read(self, keys: list[bytes] | None, ranges: list[tuple] | None, wanted, limit, reverse,
              on_batch, batch_size) -> ColumnBatch:
        """The read primitive, its arguments checked: ``keys`` (bytes) or ``ranges`` (non-empty
        ``(start, stop)``, each bound str, bytes or None: see :func:`as_bytes`), ``wanted`` as :meth:`Layout.projection` gives it
        (``{}``: keys only)."""
        raise NotImplementedError

    def _prepare(self, data: dict, groups: list) -> object:
        """Encode one put (``data`` and its ``(family, names, mask)`` groups) for ``_apply``;
        raise, naming the column, on a value that does not fit its type."""
        raise NotImplementedError

    def apply(self, ops: list) -> None:
        """The write primitive: apply ``("put", key, prepared)`` / ``("delete", key,
        projection)`` in order (what :class:`Batch` sends)."""
        raise NotImplementedError

    def submit(self, ops: list):
        """:meth:`apply` ``ops``, possibly in the background: returns None once applied, or a
        future whose ``result()`` waits for them (and raises their error). Backends whose
        writes wait on a server (HBase) send in the background, so the caller prepares the
        next buffer meanwhile and several tables' buffers travel at once."""
        self.apply(ops)
        return None


class Batch:
    """Buffered mutations of one table; see :meth:`Table.batch`."""

    def __init__(self, table: Table, batch_size: int):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.table = table
        self.batch_size = batch_size
        self._ops: list = []
        self._flight = None  # the future of the send in the background, if any

    def put(self, row: str, data: dict) -> None:
        """Buffer a put; a value that does not fit its column raises here, naming it."""
        payload = self.table._prepare(*self.table.layout.split(data))
        self._ops.append(("put", _key(row), payload))
        if len(self._ops) >= self.batch_size:
            self._full()

    def put_encoded(self, row: str, payload: object) -> None:
        """Buffer a put encoded beforehand by :meth:`Table.encode` (of the same backend)."""
        self._ops.append(("put", _key(row), payload))
        if len(self._ops) >= self.batch_size:
            self._full()

    def put_encoded_many(self, rows) -> None:
        """:meth:`put_encoded` of each ``(row, payload)`` of ``rows``, in order (sent every
        ``batch_size`` as well)."""
        ops = self._ops
        ops.extend([("put", k.encode("utf-8") if k.__class__ is str else _key(k), p) for k, p in rows])
        size = self.batch_size
        while len(self._ops) >= size:
            ops, self._ops = self._ops[:size], self._ops[size:]
            self._ship(ops)

    def delete(self, row: str, columns=None) -> None:
        self._ops.append(("delete", _key(row), self.table.layout.projection(columns)))
        if len(self._ops) >= self.batch_size:
            self._full()

    def _full(self) -> None:
        ops, self._ops = self._ops, []
        self._ship(ops)

    def send(self) -> None:
        """Apply what is buffered now; return once every mutation of this batch is applied."""
        ops, self._ops = self._ops, []
        if ops:
            self._ship(ops)
        self._wait()

    def _ship(self, ops: list) -> None:
        """Send ``ops`` after the previous send has landed (one send in flight: in order)."""
        self._wait()
        self._flight = self.table.submit(ops)

    def _wait(self) -> None:
        flight, self._flight = self._flight, None
        if flight is not None:
            flight.result()

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.send()
            return
        self._ops = []
        try:  # a send already under way is let finish (whole), never left running behind us
            self._wait()
        except Exception:
            pass  # the block's own error is the one raised


class Store:
    """A set of tables under one prefix; see :func:`store.open_store`."""

    backend = "base"
    salted = False  # row keys carry their schema's salt parts (see store.keys)

    def __init__(self, schema: Schema, prefix: str):
        self.schema = schema
        self.prefix = prefix
        self._tables: dict[str, Table] = {}

    def table(self, name: str) -> Table:
        """The table with logical schema name ``name`` (``main``, ``jd``, ``pixel``...)."""
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = self._open_table(self.schema.table(name))
        return table

    def _open_table(self, spec: TableSpec) -> Table:
        raise NotImplementedError

    def existing_tables(self) -> list[str]:
        """Logical names of the schema's tables that exist in the store."""
        raise NotImplementedError

    def create_tables(self) -> list[str]:
        """Create the schema's missing tables (never touching existing ones); return those made."""
        raise NotImplementedError

    def drop_tables(self) -> list[str]:
        """Drop every table of the schema under this prefix; return those dropped."""
        raise NotImplementedError

    def stamp_cells(self) -> dict:
        """Cells this backend adds to a new store's ``meta`` row (HBase: its layout)."""
        return {}

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_BOUNDS = {str, bytes, type(None)}


def as_bytes(bound):
    """A range bound (str, bytes or None) as bytes or None."""
    return bound.encode("utf-8") if bound.__class__ is str else bound


def _check_limit(limit) -> None:
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}")


def _spans(ranges) -> list:
    """``ranges`` checked, without the empty ones. Bounds stay str or bytes (UTF-8 keeps code
    point order, so str bounds compare as their bytes do): a cross-match passes tens of
    thousands of ranges, converted once, by the backend."""
    if not set(map(type, chain.from_iterable(ranges))) <= _BOUNDS:
        raise TypeError("range bounds are strings, bytes or None")
    return [(lo, hi) for lo, hi in ranges
            if lo is None or hi is None or (lo < hi if lo.__class__ is hi.__class__ else _key(lo) < _key(hi))]


def _key(row) -> bytes:
    if isinstance(row, bytes):
        return row
    if not isinstance(row, str):
        raise TypeError(f"row keys are strings, got {type(row).__name__}")
    return row.encode("utf-8")
