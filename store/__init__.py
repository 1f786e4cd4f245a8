"""Nocturne's storage: one interface, two backends. Each backend implements one read
primitive (``Table.read`` -> a column-wise :class:`~store.batch.ColumnBatch`) and one write
primitive (``Table.apply``); ``row``, ``rows``, ``scan``, ``put``, ``delete``, ``batch`` are
views on them.

>>> from store import open_store
>>> with open_store() as s:                      # the configured backend
...     main = s.table("main")
...     batch = main.read(ranges=[main.keys.span("ZTF23abcdefg")], columns=["i:jd", "i:magpsf"])
...     batch["i:magpsf"]                         # one array for every row read
...     for key, cells in main.scan(row_prefix="ZTF23abcdefg_", columns=["i:magpsf"]):
...         ...

``open_store(create=True)`` makes the data directory and any missing table (never
touching existing data); without it a missing store is an error naming the path.
Opening checks that the store was created with the schema version the configuration
expects.
"""
from __future__ import annotations

import datetime as _dt

from hbase_schema import Schema, get_schema
from settings import Config, get_config

from .base import META_ROW, Batch, Store, Table
from .batch import ColumnBatch
from .errors import DataDirError, SchemaVersionError, StoreError, StoreUnavailable, TableMissing
from .filled import DERIVED, mark_filled

__all__ = ["open_store", "encoder_store", "table_prefix", "Store", "Table", "Batch", "ColumnBatch", "StoreError", "DataDirError",
           "SchemaVersionError", "StoreUnavailable", "TableMissing"]


def open_store(config: Config | None = None, create: bool = False, schema: Schema | None = None,
               any_version: bool = False) -> Store:
    """Open the store ``config`` describes (default: the process configuration); ``any_version``:
    also a store of another schema version (only to drop its tables)."""
    config = config or get_config()
    schema = schema or get_schema()
    prefix = table_prefix(config, schema)
    if schema.prefix is None and config.schema_version != schema.version:
        raise SchemaVersionError(
            f"config expects schema version {config.schema_version} but hbase_schema/schema.yml is version "
            f"{schema.version}; update schema_version in the configuration or the code")
    if config.backend == "embedded":
        from .embedded import EmbeddedStore
        store = EmbeddedStore(schema, prefix, config.data_dir, create=create)
    else:
        from .hbase import HBaseStore
        store = HBaseStore(schema, prefix, config.hbase_host, config.hbase_port,
                           config.hbase_timeout_ms, config.hbase_pool_size, config.hbase_layout,
                           config.hbase_thrift2_port)
    try:
        if create:
            store.create_tables()
            _stamp(store)
        if not any_version:
            _check_version(store, schema.version, schema.upgrade)
        if config.backend == "hbase" and not create:
            store.warn_if_uncached()
    except BaseException:
        store.close()
        raise
    return store


def encoder_store(config: Config, schema: Schema | None = None) -> Store:
    """A store object of the configured backend that never connects: its tables only
    ``encode`` rows (for ingest workers; the writer sends what they encoded)."""
    schema = schema or get_schema()
    prefix = table_prefix(config, schema)
    if config.backend == "embedded":
        from .embedded import EmbeddedStore
        return EmbeddedStore.encoder(schema, prefix)
    from .hbase import HBaseStore
    return HBaseStore.encoder(schema, prefix, config.hbase_layout)


def table_prefix(config: Config, schema: Schema) -> str:
    """The prefix of ``schema``'s tables: the configured one for ZTF's schema; a second survey's
    schema names its own (``rubin``), under the configured prefix when that is not the default
    (``<table_prefix>_rubin``), so two stores sharing an HBase keep their Rubin tables apart."""
    if schema.prefix is None:
        return config.table_prefix
    return schema.prefix if config.table_prefix == "ztf" else f"{config.table_prefix}_{schema.prefix}"


def _stamp(store: Store) -> None:
    meta = store.table("meta")
    if not meta.row(META_ROW):
        meta.put(META_ROW, {"m:schema_version": store.schema.version, "m:prefix": store.prefix,
                            "m:created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                            **store.stamp_cells()})
        for table in DERIVED:  # a new store: its derived tables get every alert from the first one
            if table in store.schema.tables:
                mark_filled(store, table)


def _check_version(store: Store, expected: int, upgrade: dict | None = None) -> None:
    try:
        found = store.table("meta").row(META_ROW).get("m:schema_version")
    except TableMissing:
        raise DataDirError(f"the store at {_where(store)} has no tables under prefix {store.prefix!r}; "
                           f"create them with `python -m hbase_schema create`") from None
    if found is None:
        raise DataDirError(f"the store at {_where(store)} has no schema stamp under prefix {store.prefix!r}; "
                           f"create it with `python -m hbase_schema create`")
    if found != expected:
        advice = (upgrade or {}).get(found, "migrate the store")
        raise SchemaVersionError(
            f"the store at {_where(store)} was created with schema version {found}, but this Nocturne uses "
            f"version {expected}; {advice}, or point NOCTURNE_DATA_DIR/NOCTURNE_TABLE_PREFIX elsewhere "
            f"(nothing was changed)")


def _where(store: Store) -> str:
    return str(getattr(store, "data_dir", None) or getattr(store, "where", lambda: "?")())
