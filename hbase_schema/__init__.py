"""Nocturne's declarative table schema (``schema.yml``).

``get_schema()`` returns the schema loaded once per process. The table admin
(``python -m hbase_schema create|describe|drop``) is ``store/admin.py``: it opens the store,
and this package imports nothing above it.
"""
from functools import lru_cache

from .model import (COLUMN_TYPES, SCHEMA_FILE, ColumnSpec, FamilySpec, KeyPart, Schema,
                    SchemaError, TableSpec, load_schema)

__all__ = ["COLUMN_TYPES", "SCHEMA_FILE", "ColumnSpec", "FamilySpec", "KeyPart", "Schema",
           "SchemaError", "TableSpec", "load_schema", "get_schema"]


@lru_cache(maxsize=1)
def get_schema() -> Schema:
    """The project's schema, read from ``hbase_schema/schema.yml`` once."""
    return load_schema(SCHEMA_FILE)
