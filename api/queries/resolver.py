"""Fink's name resolver, from what the store holds: ``tns`` from the internal names given
to objects (the annotations' ``internal_name`` table), ``simbad`` reverse from the alerts'
SIMBAD cross-match, ``ssodnet`` from the ``ssnamenr`` index. Rows carry Fink's column names.

Resolving a name with SIMBAD (CDS Sesame) or the live TNS is not possible offline: the
route answers those with an error that says so.
"""
from __future__ import annotations

import pandas as pd

from store import Store, TableMissing
from store.keys import escape

from .budget import check
from .solar_system import UnknownName, name_rows, spellings, ssnamenrs_starting_with

TNS_COLUMNS = ["d:fullname", "d:internalname", "d:ra", "d:declination", "d:type", "d:redshift"]


def _latest(store: Store, object_id: str) -> dict:
    main = store.table("main")
    found = next(main.scan(row_prefix=main.keys.prefix(object_id), columns=["i:ra", "i:dec", "d:tnsclass"],
                           reverse=True, limit=1), None)
    return found[1] if found else {}


def _tns_row(store: Store, name: str, object_id: str) -> dict:
    cells = _latest(store, object_id)
    tns = cells.get("d:tnsclass")
    return {"d:fullname": name, "d:internalname": object_id, "d:ra": cells.get("i:ra"),
            "d:declination": cells.get("i:dec"), "d:type": None if tns in (None, "", "Unknown", "nan") else tns,
            "d:redshift": None}


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame()


def tns(store: Store, name: str, nmax: int) -> pd.DataFrame:
    """Names starting with ``name`` (any case; every name when empty), at most ``nmax``."""
    try:
        table = store.table("internal_name")
        rows = []
        for _, cells in table.scan(row_prefix=escape(name.lower(), table.keys.sep) if name else None, limit=nmax):
            check("ask for fewer names (nmax)")
            rows.append(_tns_row(store, cells.get("n:name", ""), cells.get("n:objectId", "")))
    except TableMissing:
        rows = []
    return _frame(rows, TNS_COLUMNS)


def tns_reverse(store: Store, object_id: str, nmax: int) -> pd.DataFrame:
    """The internal names given to ``object_id``."""
    try:
        table = store.table("annotations")
        given = [cells.get("a:internal_name") for _, cells in table.scan(row_prefix=table.keys.prefix(object_id),
                                                                          columns=["a:internal_name"])]
    except TableMissing:
        given = []
    names = [n for n in dict.fromkeys(n for n in given if n) if _designates(store, n, object_id)]
    return _frame([_tns_row(store, n, object_id) for n in names[:nmax]], TNS_COLUMNS)


def _designates(store: Store, name: str, object_id: str) -> bool:
    """Whether ``name`` still designates ``object_id`` (a deleted annotation's name may have moved)."""
    table = store.table("internal_name")
    return table.row(table.keys.build(name.lower())).get("n:objectId") == object_id


def simbad_reverse(store: Store, object_id: str, nmax: int) -> pd.DataFrame:
    """The alerts of ``object_id`` with their SIMBAD cross-match, oldest first, at most ``nmax``."""
    main = store.table("main")
    columns = ["i:objectId", "d:cdsxmatch", "i:ra", "i:dec", "i:candid", "i:jd"]
    rows = [{c: cells.get(c) for c in columns}
            for _, cells in main.scan(row_prefix=main.keys.prefix(object_id), columns=columns, limit=nmax)]
    return _frame(rows, columns)


def ssodnet(store: Store, name: str, nmax: int) -> pd.DataFrame:
    """Solar-system objects whose ``ssnamenr`` is ``name`` (nmax 1) or starts with it."""
    try:
        forms = spellings(name)
    except UnknownName:
        forms = [name.replace(" ", "")]
    table = store.table("ssnamenr")
    found: list[str] = []
    for form in forms:
        if nmax == 1:
            if next(table.scan(row_prefix=table.keys.prefix(form), columns=["i:ssnamenr"], limit=1), None):
                found.append(form)
        else:
            found.extend(ssnamenrs_starting_with(store, form, nmax))
    return name_rows(list(dict.fromkeys(found))[:nmax])


def ssodnet_reverse(store: Store, object_id: str, nmax: int) -> pd.DataFrame:
    """The solar-system objects the alerts of ``object_id`` were matched to."""
    main = store.table("main")
    values = [cells.get("i:ssnamenr") for _, cells in main.scan(row_prefix=main.keys.prefix(object_id),
                                                                 columns=["i:ssnamenr"])]
    found = [v for v in dict.fromkeys(values) if v not in (None, "", "null", "None")]
    return name_rows(found[:nmax])
