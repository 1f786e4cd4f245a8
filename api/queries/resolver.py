"""Fink's name resolver, from what the store holds: ``tns`` from the internal names given
to objects (the annotations' ``internal_name`` table), ``simbad`` reverse from the alerts'
SIMBAD cross-match, ``ssodnet`` from the ``ssnamenr`` index. Rows carry Fink's column names.

Resolving a name with SIMBAD (CDS Sesame) or the live TNS is not possible offline: the
route answers those with an error that says so. The portal's search bar resolves a name
with :func:`name_target` (what the store holds) and else tries :func:`online_position`
(CDS Sesame through astropy, bounded in time).
"""
from __future__ import annotations

import re
import threading

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


# -- the search bar's names ------------------------------------------------------------------
ONLINE_TIMEOUT_S = 3.0
TNS_NAME = re.compile(r"^(?:(SN|AT|TDE|FRB)\s*)?(\d{4}[a-z]{1,4})$", re.IGNORECASE)


class Unresolved(LookupError):
    """No position for a name; ``str(exc)`` says why (no resolver reachable, unknown name)."""


def _name_spellings(name: str) -> list[str]:
    """``name``, and for a TNS name its other usual spellings (2023abc, SN 2023abc, AT 2023abc)."""
    m = TNS_NAME.match(name)
    forms = [name]
    if m:
        forms += [m.group(2), f"SN {m.group(2)}", f"AT {m.group(2)}", f"SN{m.group(2)}", f"AT{m.group(2)}"]
    return list(dict.fromkeys(forms))


def name_target(store: Store, name: str) -> tuple[str, str, str] | None:
    """What ``name`` designates among what the store holds, offline: ``("objectId", id, how)``
    for an internal or TNS name given to an object (the ``internal_name`` table),
    ``("sso", name, how)`` for a solar-system number, designation or comet with alerts here
    (the ``ssnamenr`` index); None when the store knows no such name."""
    name = " ".join(name.split())
    try:
        table = store.table("internal_name")
        for form in _name_spellings(name):
            cells = table.row(table.keys.build(form.lower()))
            if cells.get("n:objectId"):
                return "objectId", cells["n:objectId"], f"{cells.get('n:name', form)!r} is the name of"
    except TableMissing:
        pass
    try:
        forms = spellings(name)
    except UnknownName:
        return None
    index = store.table("ssnamenr")
    for form in forms:
        if next(index.scan(row_prefix=index.keys.prefix(form), columns=["i:ssnamenr"], limit=1), None):
            return "sso", form, "solar-system object"
    return None


def _sesame(name: str) -> tuple[float, float]:
    from astropy.coordinates import SkyCoord
    found = SkyCoord.from_name(name)
    return float(found.icrs.ra.deg), float(found.icrs.dec.deg)


def online_position(name: str, timeout_s: float | None = None) -> tuple[float, float]:
    """(ra, dec) in degrees of ``name`` from CDS Sesame (SIMBAD, NED, VizieR), given up after
    ``timeout_s`` (default :data:`ONLINE_TIMEOUT_S`); :class:`Unresolved` says why when there is none."""
    timeout_s = ONLINE_TIMEOUT_S if timeout_s is None else timeout_s
    answer: dict = {}

    def ask():
        try:
            answer["position"] = _sesame(name)
        except Exception as exc:  # noqa: BLE001 - any failure of the online service is "unresolved"
            answer["error"] = exc

    worker = threading.Thread(target=ask, daemon=True, name="sesame")
    worker.start()
    worker.join(timeout_s)
    if "position" in answer:
        return answer["position"]
    if worker.is_alive():
        raise Unresolved(f"CDS Sesame did not answer within {timeout_s:g} s")
    text = str(answer.get("error", "no answer"))
    if "Unable to find coordinates" in text or "Unable to find" in text:
        raise Unresolved(f"CDS Sesame knows no object named {name!r}")
    raise Unresolved("CDS Sesame, the online name resolver, is not reachable from this server")
