"""The schema as Python objects, loaded from ``schema.yml`` and validated once.

A :class:`Schema` holds :class:`TableSpec` objects keyed by logical name (``main``,
``jd``, ``pixel``...). Each table has families, each family its typed columns. Index
tables may borrow a family's columns from another table (``from: main``), so a column's
type and description are written once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

COLUMN_TYPES = ("float32", "float64", "int32", "int64", "bool", "string", "bytes", "json")
OPEN_TYPES = ("int64", "float64", "string", "bytes")  # bytes: a records table's blocks (``records:``)
KEY_PART_KINDS = ("string", "jd", "pixel", "night", "id", "uid", "mjd", "salt")
SCHEMA_FILE = Path(__file__).with_name("schema.yml")
RUBIN_SCHEMA_FILE = Path(__file__).with_name("rubin.yml")


class SchemaError(ValueError):
    """The schema file is malformed; the message names the table, family or column."""


@dataclass(frozen=True)
class ColumnSpec:
    family: str
    qualifier: str
    type: str
    description: str
    default: object = None

    @property
    def name(self) -> str:
        """The full column name, ``family:qualifier``."""
        return f"{self.family}:{self.qualifier}"


# a family's ``compression``: unset, each blob zstd-compressed with the family's shipped
# dictionary where it has one and the storage engine's block compression (HBase); ``block``:
# the engine's only; ``none``: neither (already-compressed data such as cutouts)
COMPRESSION = {"none": "nothing compressed", "block": "the storage engine's block compression only"}


@dataclass(frozen=True)
class FamilySpec:
    name: str
    description: str
    columns: dict[str, ColumnSpec]
    open_type: str | None = None
    compression: str | None = None
    borrowed_from: str | None = None  # the table whose columns it borrows (``from:``), if any

    @property
    def stored_raw(self) -> bool:
        """``compression: none``: stored as it comes (already-compressed data such as cutouts):
        no zstd a blob, no block compression, not kept in HBase's block cache."""
        return (self.compression or "").lower() == "none"

    @property
    def zstd_blobs(self) -> bool:
        """Whether each blob is compressed with the family's shipped dictionary (where it has one):
        ``compression`` unset."""
        return (self.compression or "").lower() not in COMPRESSION

    def column(self, qualifier: str) -> ColumnSpec:
        """The spec of ``qualifier``; open families type any qualifier with ``open_type``."""
        spec = self.columns.get(qualifier)
        if spec is not None:
            return spec
        if self.open_type is not None:
            return ColumnSpec(self.name, qualifier, self.open_type, "")
        raise KeyError(f"{self.name}:{qualifier}")


@dataclass(frozen=True)
class KeyPart:
    name: str
    kind: str


@dataclass(frozen=True)
class RecordsSpec:
    """A table whose rows are blocks of records (``records:`` in the schema): the records of one
    value of the row key's leading parts and one period of ``days`` days of their time (the row
    key's last part: the period's first day), one cell each in the open family ``family``,
    qualifier the record's own key parts (``key``, ``_``-joined), value the record's columns
    (family ``of``) packed by :class:`store.codec.FamilyCodec`. A record's key (the leading parts,
    then ``key``) is the row key it would have as a row of its own."""
    family: str
    of: str
    key: tuple[KeyPart, ...]
    days: int


@dataclass(frozen=True)
class TableSpec:
    logical: str
    name: str
    description: str
    row_key: tuple[KeyPart, ...]
    families: dict[str, FamilySpec]
    records: RecordsSpec | None = None

    def physical_name(self, prefix: str) -> str:
        """The table's name in the store: ``prefix`` or ``prefix.name``."""
        return f"{prefix}.{self.name}" if self.name else prefix

    def column(self, name: str) -> ColumnSpec:
        """The spec of a full column name ``family:qualifier``; KeyError if unknown."""
        family, sep, qualifier = name.partition(":")
        if not sep or family not in self.families:
            raise KeyError(name)
        return self.families[family].column(qualifier)

    def columns(self) -> list[ColumnSpec]:
        return [c for f in self.families.values() for c in f.columns.values()]

    def borrows_from(self, logical: str) -> bool:
        """True when the table's families borrow their columns from table ``logical``."""
        return any(f.borrowed_from == logical for f in self.families.values())


@dataclass(frozen=True)
class Schema:
    version: int
    pixel_order: int
    separator: str
    tables: dict[str, TableSpec] = field(default_factory=dict)
    survey: str = "ztf"          # the survey whose alerts the schema holds
    prefix: str | None = None    # its fixed table prefix (None: the configured one, ZTF's)
    upgrade: dict = field(default_factory=dict)  # an older version -> what its stores need (``upgrade:``)

    def table(self, logical: str) -> TableSpec:
        try:
            return self.tables[logical]
        except KeyError:
            known = ", ".join(self.tables)
            raise KeyError(f"no table {logical!r} in the schema (known: {known})") from None


def load_schema(path: str | Path = SCHEMA_FILE) -> Schema:
    """Read and validate a schema file; raise :class:`SchemaError` naming what is wrong."""
    try:
        # libyaml's parser when PyYAML has it (the same safe constructor): 10x faster, and the
        # schema is read on the first request of each server process
        raw = yaml.load(Path(path).read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise SchemaError(f"cannot read schema file {path}: {exc}") from exc
    if not isinstance(raw, dict) or "tables" not in raw:
        raise SchemaError(f"{path}: expected a mapping with 'version' and 'tables'")
    version = raw.get("version")
    if not isinstance(version, int):
        raise SchemaError(f"{path}: 'version' must be an integer")
    declared = {name: t.get("families", {}) for name, t in raw["tables"].items()}
    tables = {}
    for logical, traw in raw["tables"].items():
        families = {
            fname: _family(logical, fname, fraw, declared)
            for fname, fraw in (traw.get("families") or {}).items()
        }
        if not families:
            raise SchemaError(f"table {logical}: no families")
        tables[logical] = TableSpec(
            logical=logical,
            name=str(traw.get("name", logical)),
            description=str(traw.get("description", "")),
            row_key=tuple(_key_part(logical, p) for p in traw.get("row_key", [])),
            families=families,
            records=_records(logical, traw.get("records"), families),
        )
        if not tables[logical].row_key:
            raise SchemaError(f"table {logical}: empty row_key")
    for spec in tables.values():
        kinds = [p.kind for p in spec.row_key]
        if spec.records is not None and (kinds[-1] != "mjd" or spec.records.key[0].kind != "mjd"):
            raise SchemaError(f"table {spec.logical}: a records table's row key ends with its period (an mjd part), "
                              f"and its records' key starts with their time (an mjd part)")
        if "salt" in kinds and (kinds[0] != "salt" or kinds.count("salt") > 1 or kinds[1:2] != ["uid"]):
            raise SchemaError(f"table {spec.logical}: a salt part must be the first part, before a uid part (it salts it)")
    prefix = raw.get("prefix")
    upgrade = raw.get("upgrade") or {}
    if not isinstance(upgrade, dict) or not all(isinstance(k, int) and isinstance(v, str) for k, v in upgrade.items()):
        raise SchemaError(f"{path}: 'upgrade' must map an older version (an integer) to what its stores need (a text)")
    return Schema(version, int(raw.get("pixel_order", 14)), str(raw.get("key_separator", "_")), tables,
                  str(raw.get("survey", "ztf")), None if prefix is None else str(prefix), upgrade)


def _records(table: str, raw, families: dict) -> RecordsSpec | None:
    if raw is None:
        return None
    where = f"table {table}: records"
    if not isinstance(raw, dict) or not {"family", "of", "key", "days"} <= set(raw):
        raise SchemaError(f"{where} must give family, of, key and days")
    family, of = families.get(raw["family"]), families.get(raw["of"])
    if family is None or family.open_type != "bytes" or family.columns:
        raise SchemaError(f"{where}: family {raw['family']!r} must be an open family of bytes")
    if of is None or not of.columns:
        raise SchemaError(f"{where}: family {raw['of']!r} must be a family with columns (the records')")
    days = raw["days"]
    if not isinstance(days, int) or days < 1:
        raise SchemaError(f"{where}: days must be a positive integer")
    return RecordsSpec(family.name, of.name, tuple(_key_part(table, p) for p in raw["key"]), days)


def _key_part(table: str, text: str) -> KeyPart:
    name, _, kind = str(text).partition(":")
    if kind not in KEY_PART_KINDS:
        raise SchemaError(f"table {table}: row-key part {text!r} has kind {kind!r}; expected one of {KEY_PART_KINDS}")
    return KeyPart(name, kind)


def _family(table: str, fname: str, fraw: dict, declared: dict) -> FamilySpec:
    if "from" in fraw:
        source = fraw["from"]
        try:
            src_cols = declared[source][fname]["columns"]
        except (KeyError, TypeError):
            raise SchemaError(f"table {table}: family {fname} borrows from {source}:{fname}, which does not exist") from None
        cols = {}
        wanted = fraw.get("columns", [])
        for q in (list(src_cols) if wanted == "*" else wanted):  # "*": every column of the source family
            if q not in src_cols:
                raise SchemaError(f"table {table}: column {fname}:{q} is not in {source}")
            cols[q] = src_cols[q]
        description = fraw.get("description") or declared[source][fname].get("description", "")
    else:
        source = None
        cols = fraw.get("columns") or {}
        description = fraw.get("description", "")
    columns = {q: _column(table, fname, q, c) for q, c in cols.items()}
    open_type = fraw.get("open_type")
    if open_type is not None and open_type not in OPEN_TYPES:
        raise SchemaError(f"table {table}: family {fname} open_type must be one of {OPEN_TYPES}")
    compression = fraw.get("compression")
    if compression is not None and str(compression).lower() not in COMPRESSION:
        raise SchemaError(f"table {table}: family {fname} compression must be one of {sorted(COMPRESSION)}")
    return FamilySpec(fname, description, columns, open_type, compression, source)


def _column(table: str, family: str, qualifier: str, c: dict) -> ColumnSpec:
    where = f"table {table}: column {family}:{qualifier}"
    if not isinstance(c, dict) or c.get("type") not in COLUMN_TYPES:
        raise SchemaError(f"{where}: type must be one of {COLUMN_TYPES}")
    if not c.get("description"):
        raise SchemaError(f"{where}: missing description")
    return ColumnSpec(family, qualifier, c["type"], c["description"], c.get("default"))
