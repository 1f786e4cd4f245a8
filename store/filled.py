"""Tables derived from the alerts that a store made before them must be filled from its alerts.

Such a table (the object-level sky index, ``objects_sky``) is usable only once it holds a row
for every stored alert. A store created with the table has it from its first alert: the stamp
of a new store marks it complete. A store made before gets it empty from
``python -m hbase_schema create`` (and from the next ingest), unmarked, and the readers keep
to the alert tables until ``python -m ingest reindex-sky`` has filled it and marked it: a
``meta`` row named after the table, with the time it was completed.
"""
from __future__ import annotations

import datetime as _dt

DERIVED = ("objects_sky",)  # filled from the alerts by `python -m ingest reindex-sky`


def _key(store, table: str) -> str:
    return store.table("meta").keys.build(f"filled:{table}")


def mark_filled(store, table: str) -> None:
    """Record that ``table`` holds a row for every alert of the store."""
    store.table("meta").put(_key(store, table), {
        "m:created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})


def is_filled(store, table: str) -> bool:
    """Whether ``table`` exists and is complete (``mark_filled``). A yes is kept on the store
    object (a table once complete stays so: the ingest writes it with every alert)."""
    known = store.__dict__.setdefault("_filled", set())
    if table in known:
        return True
    if table not in store.schema.tables or not store.table("meta").row(_key(store, table)):
        return False
    known.add(table)
    return True
