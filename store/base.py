"""The storage interface every backend implements, with happybase's verbs.

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
  raises, whatever is still buffered is dropped, never half-applied.
"""
from __future__ import annotations

from typing import Iterator

from hbase_schema import Schema, TableSpec

from .codec import FamilyCodec, check_value
from .keys import RowKey, successor

DEFAULT_BATCH_SIZE = 1000


class Layout:
    """A table's families and columns, with the checks both backends share."""

    def __init__(self, spec: TableSpec):
        self.spec = spec
        self.family_names = tuple(spec.families)
        self.codecs = {name: FamilyCodec(f) for name, f in spec.families.items()}
        self._split_cache: dict[tuple, list] = {}

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
    """One table of a store. Backends implement ``_get``, ``_scan`` and ``_apply``."""

    def __init__(self, store: "Store", spec: TableSpec):
        self.store = store
        self.spec = spec
        self.name = spec.physical_name(store.prefix)
        self.layout = Layout(spec)
        self.keys = RowKey(spec, store.schema.separator, salted=store.salted)

    # -- reads ---------------------------------------------------------------------------
    def row(self, row: str, columns=None) -> dict:
        """The cells of one row (an empty dict when it does not exist)."""
        found = self.rows([row], columns)
        return found[0][1] if found else {}

    def rows(self, rows, columns=None) -> list[tuple[str, dict]]:
        """``(key, cells)`` for each of ``rows`` that exists, in the order asked."""
        keys = [_key(r) for r in rows]
        return self._get(keys, self.layout.projection(columns))

    def scan(self, row_start=None, row_stop=None, row_prefix=None, columns=None,
             limit=None, reverse=False, batch_size=1000) -> Iterator[tuple[str, dict]]:
        """Rows in key order over ``[row_start, row_stop)`` or with ``row_prefix``.

        :param limit: at most this many rows.
        :param reverse: walk the same range from its end.
        :param batch_size: rows fetched per round trip (HBase caching).
        """
        if row_prefix is not None:
            if row_start is not None or row_stop is not None:
                raise TypeError("row_prefix cannot be combined with row_start or row_stop")
            start = _key(row_prefix)
            stop = successor(start)
        else:
            start = _key(row_start) if row_start is not None else None
            stop = _key(row_stop) if row_stop is not None else None
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        if start is not None and stop is not None and start >= stop:
            return iter(())
        return self._scan(start, stop, self.layout.projection(columns), limit, bool(reverse), batch_size)

    def rows_columns(self, rows, columns=None) -> tuple[list[str], dict]:
        """``rows`` that exist, column-wise: ``(keys in the order asked, {name: values})``,
        each value sequence as long as the keys (None, or NaN in a numpy float array, where a
        row lacks the cell). For queries that turn many rows into one table."""
        found = self.rows(rows, columns)
        return [k for k, _ in found], pivot([cells for _, cells in found])

    def scan_columns(self, row_prefix: str, columns=None) -> tuple[list[str], dict]:
        """The rows with ``row_prefix``, column-wise as in :meth:`rows_columns`."""
        found = list(self.scan(row_prefix=row_prefix, columns=columns))
        return [k for k, _ in found], pivot([cells for _, cells in found])

    def scan_values(self, columns: list[str], row_start=None, row_stop=None, batch_size=1000):
        """``(key, tuple of values)`` over ``[row_start, row_stop)`` for full column names
        ``columns`` of one family (None where a row lacks one): a lean scan for queries that
        read many rows. Rows without any of the columns are skipped, as in ``scan``."""
        names = tuple(columns)
        for key, cells in self.scan(row_start=row_start, row_stop=row_stop, columns=list(names),
                                    batch_size=batch_size):
            yield key, tuple(cells.get(n) for n in names)

    def scan_values_ranges(self, columns: list[str], ranges: list[tuple[str, str]], batch_size=1000):
        """``scan_values`` over many ``[start, stop)`` ranges at once (e.g. the pixels around
        thousands of catalogue sources); rows come range by range."""
        for start, stop in ranges:
            yield from self.scan_values(columns, start, stop, batch_size)

    def scan_ranges_columns(self, columns: list[str], ranges: list[tuple[str, str]], batch_size=5000,
                            on_batch=None, keys: bool = True) -> tuple[list[str] | None, dict]:
        """``scan_values_ranges`` column-wise: ``(keys, {name: values})`` for every name in
        ``columns`` (None, or NaN in a numpy float array, where a row lacks it). ``on_batch``,
        if given, is called after every ``batch_size`` rows read (e.g. to enforce a time budget);
        ``keys=False`` leaves the keys out (None), for callers that need only the values."""
        found, rows = [], []
        for key, values in self.scan_values_ranges(columns, ranges, batch_size):
            found.append(key)
            rows.append(values)
            if on_batch is not None and len(rows) % batch_size == 0:
                on_batch()
        return (found if keys else None), {name: [r[i] for r in rows] for i, name in enumerate(columns)}

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

    def batch(self, batch_size: int = DEFAULT_BATCH_SIZE) -> "Batch":
        """A context manager that buffers puts and deletes and sends them every ``batch_size``."""
        return Batch(self, batch_size)

    def count(self) -> int:
        """The number of rows (a full key scan)."""
        return sum(1 for _ in self._scan(None, None, {self.layout.family_names[0]: None}, None, False, 5000,
                                          keys_only=True))

    # -- backend hooks -------------------------------------------------------------------
    def _get(self, keys: list[bytes], wanted) -> list[tuple[str, dict]]:
        raise NotImplementedError

    def _scan(self, start, stop, wanted, limit, reverse, batch_size, keys_only=False):
        raise NotImplementedError

    def _prepare(self, data: dict, groups: list) -> object:
        """Encode one put (``data`` and its ``(family, names, mask)`` groups) for ``_apply``;
        raise, naming the column, on a value that does not fit its type."""
        raise NotImplementedError

    def _apply(self, ops: list) -> None:
        """Apply ``("put", key, prepared)`` / ``("delete", key, projection)`` in order."""
        raise NotImplementedError


class Batch:
    """Buffered mutations of one table; see :meth:`Table.batch`."""

    def __init__(self, table: Table, batch_size: int):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.table = table
        self.batch_size = batch_size
        self._ops: list = []

    def put(self, row: str, data: dict) -> None:
        """Buffer a put; a value that does not fit its column raises here, naming it."""
        payload = self.table._prepare(*self.table.layout.split(data))
        self._ops.append(("put", _key(row), payload))
        if len(self._ops) >= self.batch_size:
            self.send()

    def put_encoded(self, row: str, payload: object) -> None:
        """Buffer a put encoded beforehand by :meth:`Table.encode` (of the same backend)."""
        self._ops.append(("put", _key(row), payload))
        if len(self._ops) >= self.batch_size:
            self.send()

    def delete(self, row: str, columns=None) -> None:
        self._ops.append(("delete", _key(row), self.table.layout.projection(columns)))
        if len(self._ops) >= self.batch_size:
            self.send()

    def send(self) -> None:
        """Apply what is buffered now."""
        ops, self._ops = self._ops, []
        if ops:
            self.table._apply(ops)

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.send()
        else:
            self._ops = []


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

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _key(row) -> bytes:
    if isinstance(row, bytes):
        return row
    if not isinstance(row, str):
        raise TypeError(f"row keys are strings, got {type(row).__name__}")
    return row.encode("utf-8")
