"""Nocturne's declarative table schemas: ``schema.yml`` (ZTF) and ``rubin.yml`` (Rubin/LSST).

``get_schema()`` returns the schema loaded once per process. The table admin
(``python -m hbase_schema create|describe|drop``) is ``store/admin.py``: it opens the store,
and this package imports nothing above it.
"""
from functools import lru_cache

from .model import (COLUMN_TYPES, RUBIN_SCHEMA_FILE, SCHEMA_FILE, ColumnSpec, FamilySpec, KeyPart, Schema,
                    SchemaError, TableSpec, load_schema)

__all__ = ["COLUMN_TYPES", "SCHEMA_FILE", "RUBIN_SCHEMA_FILE", "SURVEYS", "ColumnSpec", "FamilySpec", "KeyPart",
           "Schema", "SchemaError", "TableSpec", "load_schema", "get_schema"]

SURVEYS = {"ztf": SCHEMA_FILE, "rubin": RUBIN_SCHEMA_FILE}  # survey -> its schema file


def get_schema(survey: str = "ztf") -> Schema:
    """The schema of ``survey`` (``ztf``: ``schema.yml``; ``rubin``: ``rubin.yml``), read once
    (``get_schema()`` and ``get_schema("ztf")`` share it)."""
    return _read(survey)


@lru_cache(maxsize=None)
def _read(survey: str) -> Schema:
    try:
        path = SURVEYS[survey]
    except KeyError:
        raise KeyError(f"no schema for survey {survey!r} (known: {', '.join(SURVEYS)})") from None
    return load_schema(path)
