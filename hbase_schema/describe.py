"""The schema as text, one line per column: what ``python -m hbase_schema describe`` prints."""
from __future__ import annotations

from .model import Schema


def describe(schema: Schema, prefix: str, only: str | None = None, existing: set | None = None) -> str:
    """The schema as text, one line per column.

    :param only: a table's logical name, to describe that table alone (KeyError if unknown).
    :param existing: the logical names of the tables the store holds, to mark each table
        ``[exists]`` or ``[missing]``; None marks nothing.
    """
    lines = [f"schema version {schema.version}; table prefix {prefix!r}; HEALPix order {schema.pixel_order}"]
    tables = [schema.table(only)] if only else schema.tables.values()
    for spec in tables:
        state = "" if existing is None else ("  [exists]" if spec.logical in existing else "  [missing]")
        key = schema.separator.join(f"<{p.name}:{p.kind}>" if p.kind != "salt" else "[<salt>, HBase only]"
                                    for p in spec.row_key)
        lines += ["", f"{spec.physical_name(prefix)}  ({spec.logical}){state}", f"  {spec.description}",
                  f"  row key: {key}"]
        for family in spec.families.values():
            lines.append(f"  family {family.name}: {family.description}")
            for col in family.columns.values():
                lines.append(f"    {col.name:<36} {col.type:<8} {col.description}")
            if family.open_type:
                lines.append(f"    {family.name}:<any>{'':<30} {family.open_type:<8} (one column per label)")
    return "\n".join(lines)
