"""Solar-system objects: their alerts (Fink's ``sso``), and their names (``resolver`` ssodnet).

ZTF's ``ssnamenr`` holds an MPC number (``8467``), a packed-looking provisional
designation (``2010JO69``) or a comet (``10P``, ``C/2020V2``). Fink asks the quaero
service (IMCCE) for an object's IAU name and every ``ssnamenr`` spelling of it; offline we
hold only the ``ssnamenr`` values, so a name is read as a number or designation, the
spellings of one designation with and without a zero-padded number are both looked up, and
``sso_name`` is the designation written with its space (``2010 JO69``) or the number.
"""
from __future__ import annotations

import re

import pandas as pd

from store import Store
from store.keys import escape

from .budget import check
from .cutouts import decode_stamp
from .frame import select
from .listing import full_frame

DESIGNATION = re.compile(r"^(\d{4})([A-Z]{2})(\d*)$")
COMET = re.compile(r"^(\d+[PDI]|[PCDXAI]/\d{4}[A-Z]{1,2}\d*)$")


class UnknownName(ValueError):
    """A name that only an online resolver could turn into a number or designation."""


def spellings(name: str) -> list[str]:
    """The ``ssnamenr`` spellings to look up for a number, designation or comet."""
    text = name.replace(" ", "").upper() if not name.isdigit() else name.lstrip("0") or "0"
    m = DESIGNATION.match(text)
    if m:
        year, letters, num = m.groups()
        forms = [text] + ([f"{year}{letters}{int(num)}", f"{year}{letters}{int(num):02d}"] if num else [])
        return list(dict.fromkeys(forms))
    if text.isdigit() or COMET.match(text):
        return [text]
    raise UnknownName(name)


def sso_name(ssnamenr: str) -> str:
    """A readable name from an ``ssnamenr``: ``2010JO69`` -> ``2010 JO69``; numbers and comets as they are."""
    m = DESIGNATION.match(ssnamenr)
    if m:
        year, letters, num = m.groups()
        return f"{year} {letters}{int(num) if num else ''}"
    return ssnamenr


def sso_number(ssnamenr: str) -> int | None:
    return int(ssnamenr) if ssnamenr.isdigit() else None


def sso_alerts(store: Store, names: list[str], columns: list[str] | None = None,
               cutout_kinds: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every alert of the objects ``names``, per object oldest first, with ``sso_name``,
    ``sso_number`` and, for ``cutout_kinds``, ``b:cutout<Kind>_stampData`` as 2-D arrays.
    Raises :class:`UnknownName` for a name that is not a number, designation or comet."""
    table = store.table("ssnamenr")
    rows = []
    for name in names:
        for spelling in spellings(name):
            check("ask for fewer objects per request")
            rows.extend(cells for _, cells in table.scan(row_prefix=table.keys.prefix(spelling)))
    df = full_frame(store, rows)
    if df.empty:
        return df
    if cutout_kinds:
        _add_cutouts(store, df, cutout_kinds)
    df = select(df, None if columns is None else list(dict.fromkeys([*columns, "i:ssnamenr"])))
    ssn = df["i:ssnamenr"].astype(str)
    df["sso_name"] = ssn.map(sso_name)
    df["sso_number"] = pd.array(ssn.map(sso_number).tolist(), dtype="Int64")
    if columns is not None and "i:ssnamenr" not in columns:
        df = df.drop(columns=["i:ssnamenr"])
    return df


def _add_cutouts(store: Store, df: pd.DataFrame, kinds: tuple[str, ...]) -> None:
    main = store.table("main")
    keys = [main.keys.build(o, j, c) for o, j, c in zip(df["i:objectId"], df["i:jd"], df["i:candid"])]
    names = [f"b:cutout{k}_stampData" for k in kinds]
    found = {}
    for lo in range(0, len(keys), 50):
        check("leave out the cutouts, or ask for one object at a time")
        found.update(main.rows(keys[lo:lo + 50], columns=names))
    for name in names:
        df[name] = [decode_stamp(found[k][name]).tolist() if found.get(k, {}).get(name) else None for k in keys]


def ssnamenrs_starting_with(store: Store, prefix: str, limit: int) -> list[str]:
    """Distinct ``ssnamenr`` values beginning with ``prefix`` (text order), at most ``limit``."""
    table = store.table("ssnamenr")
    sep = table.keys.sep
    found: list[str] = []
    start = escape(prefix, sep)
    while len(found) < limit:
        check("ask for fewer names (nmax)")
        row = next(table.scan(row_start=start, columns=["i:ssnamenr"], limit=1), None)
        if row is None or not row[0].startswith(escape(prefix, sep)):
            break
        value = table.keys.parse(row[0])["ssnamenr"]
        found.append(value)
        start = table.keys.prefix(value)[:-1] + chr(ord(sep) + 1)
    return found


def name_rows(ssnamenrs: list[str]) -> pd.DataFrame:
    """Fink's ssodnet resolver rows: ``i:ssnamenr``, ``i:name``, ``i:number``."""
    if not ssnamenrs:
        return pd.DataFrame()
    return pd.DataFrame({"i:ssnamenr": ssnamenrs, "i:name": [sso_name(s) for s in ssnamenrs],
                         "i:number": pd.array([sso_number(s) for s in ssnamenrs], dtype="Int64")})
