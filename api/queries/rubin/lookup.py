"""Rubin lookups: cutouts of an alert, solar-system objects by name or id, the latest alerts
of a tag, the nightly statistics, the schema, and the names the store holds (resolver)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from hbase_schema import get_schema
from science.rubin_tags import TAGS
from store import Store

from ..budget import check
from .cone import _from_sources
from .frame import column_types, frame

CUTOUT_KINDS = ("Science", "Template", "Difference")


def find_cutouts(store: Store, object_id: int, source_id: int | None, kinds) -> dict | None:
    """``{"diaSourceId", "b:cutout<Kind>"...}`` of the object's alert ``source_id``, else of its
    newest alert; None when there is none."""
    table = store.table("cutouts")
    span = table.keys.span(object_id)
    columns = [f"b:cutout{k}" for k in kinds]
    if source_id is None:
        batch = table.read(ranges=[span], columns=columns, limit=1, reverse=True)
    else:
        keys = [k for k in table.read(ranges=[span], columns=[]).keys
                if table.keys.parse(k)["diaSourceId"] == source_id]
        batch = table.read(keys=keys[:1], columns=columns)
    rows = batch.rows()
    if not rows:
        return None
    key, cells = rows[0]
    return {"diaSourceId": table.keys.parse(key)["diaSourceId"], **cells}


def cutout_sources(store: Store, object_id: int) -> list[int]:
    """The diaSourceIds of the object's alerts that have cutouts, newest first (a keys-only read)."""
    table = store.table("cutouts")
    keys = table.read(ranges=[table.keys.span(object_id)], columns=[]).keys
    return [table.keys.parse(k)["diaSourceId"] for k in reversed(keys)]


_YEAR_LETTERS = re.compile(r"^(\d{4})([A-Z]{2}\d*)$")


def name_spellings(name: str) -> list[str]:
    """The spellings of a designation to look up: as given, and ``2010 JO69`` for ``2010JO69``."""
    name = " ".join(str(name).split())
    out = [name]
    m = _YEAR_LETTERS.match(name.replace(" ", "").upper())
    if m:
        out.append(f"{m.group(1)} {m.group(2)}")
    return list(dict.fromkeys(out))


def sso(store: Store, names: list[str], columns: list[str] | None = None) -> pd.DataFrame:
    """Every source of the solar-system objects named (designation, packed MPC designation, or
    ssObjectId), with ``f:sso_name`` (the name asked), newest first."""
    index, table = store.table("ssoname"), store.table("sso")
    keys, asked = [], {}
    for name in names:
        found = []
        for spelling in name_spellings(name):
            batch = index.read(ranges=[index.keys.span(spelling)], columns=["r:ssObjectId", "r:midpointMjdTai",
                                                                           "r:diaSourceId"])
            found = [table.keys.build(o, m, s) for o, m, s in zip(batch["r:ssObjectId"], batch["r:midpointMjdTai"],
                                                                  batch["r:diaSourceId"])]
            if found:
                break
        if not found and name.strip().isdigit() and int(name) < 2**64:
            found = table.read(ranges=[table.keys.span(int(name))], columns=[]).keys
        for key in found:
            asked.setdefault(key, name)
        keys.extend(found)
        check("ask for fewer objects at once")
    keys = list(dict.fromkeys(keys))
    read = None if columns is None else list(dict.fromkeys([*columns, "r:midpointMjdTai"]))
    batch = table.read(keys=keys, columns=read)
    df = frame(batch, "sso", columns, newest_first=False)
    if df.empty:
        return df
    df["f:sso_name"] = [asked[k] for k in batch.keys]
    mjd = np.asarray(batch["r:midpointMjdTai"], dtype=float)
    return df.iloc[np.argsort(-mjd, kind="stable")].reset_index(drop=True)


def tag_list() -> dict[str, str]:
    return dict(TAGS)


def tagged(store: Store, tag: str, n: int, start_mjd: float, stop_mjd: float,
           columns: list[str] | None = None) -> pd.DataFrame:
    """The newest ``n`` alerts carrying ``tag`` in ``[start_mjd, stop_mjd)``, newest first;
    columns the tag index lacks are read from ``sources``."""
    index = store.table("tag")
    light = column_types("tag")
    wanted = list(light) if columns is None else list(dict.fromkeys(columns))
    span = (index.keys.prefix(tag, start_mjd), index.keys.prefix(tag, stop_mjd))
    keys = ["r:diaObjectId", "r:diaSourceId", "r:midpointMjdTai"]
    batch = index.read(ranges=[span], columns=sorted(set(keys) | {c for c in wanted if c in light}),
                       limit=n, reverse=True)
    if not len(batch):
        return pd.DataFrame()
    data = {c: batch.columns.get(c) for c in wanted if c in light}
    extra = [c for c in wanted if c not in light]
    if extra:
        data.update(_from_sources(store, batch.columns, np.arange(len(batch)), extra))
    return frame(data, "sources", wanted, n=len(batch), newest_first=False)


def statistics(store: Store, date: str, columns: list[str] | None = None) -> pd.DataFrame:
    """The statistics rows of the nights starting with ``date`` (YYYY, YYYYMM, YYYYMMDD; ""
    for all), ``f:night`` first."""
    table = store.table("statistics")
    rng = (date, date + "\x7f") if date else (None, None)
    names = None if columns is None else [c for c in columns if c != "f:night"]
    batch = table.read(ranges=[rng], columns=names)
    df = frame(batch, "statistics", names, newest_first=False)
    if df.empty:
        return df
    df.insert(0, "f:night", batch.keys)
    return df if columns is None else df[[c for c in columns if c in df.columns]]


def statistics_schema() -> pd.DataFrame:
    return pd.DataFrame({"schema": ["f:night", *column_types("statistics")]})


#: the table behind each route's answer (Fink's schema route takes the route as ``endpoint``)
SCHEMA_TABLES = {"sources": "sources", "objects": "objects", "fp": "fp", "conesearch": "pixel", "tags": "tag",
                 "sso": "sso", "statistics": "statistics"}
#: columns a route adds to its table's
ROUTE_EXTRA = {"sso": {"f:sso_name": ("string", "The name or id asked")},
               "statistics": {"f:night": ("string", "The night, YYYYMMDD")}}
FAMILY_NAMES = {"r": "Rubin original fields (r:)", "f": "Fink added values (f:)"}


def schema_route(endpoint: str) -> str | None:
    """The route an ``endpoint`` names (``/api/v1/sources``, ``/lsst/api/v1/sources``, ``sources``),
    None if no route has a schema."""
    name = endpoint.strip().rstrip("/").rsplit("/", 1)[-1]
    return name if name in SCHEMA_TABLES else None


def schema(route: str = "sources") -> dict:
    """The columns ``route`` answers with, as Fink's LSST schema route gives them: ``{family
    title: {name without its prefix: {type, doc}}}``, the titles holding ``r:`` and ``f:``."""
    out: dict = {}
    columns = [(c.name, c.type, c.description) for c in get_schema("rubin").table(SCHEMA_TABLES[route]).columns()]
    columns += [(n, t, d) for n, (t, d) in ROUTE_EXTRA.get(route, {}).items()]
    for name, kind, doc in columns:
        family, field = name.split(":", 1)
        out.setdefault(FAMILY_NAMES.get(family, f"{family}:"), {})[field] = {"type": kind, "doc": doc}
    return out


def resolve(store: Store, resolver: str, name: str, reverse: bool, nmax: int) -> pd.DataFrame:
    """Names the store holds: ``tns`` (TNS names of the objects, from Fink's cross-match),
    ``simbad`` reverse (an object's SIMBAD type), ``ssodnet`` (designations <-> ssObjectId).
    Raises ValueError for what needs an online service."""
    if resolver == "simbad":
        if not reverse:
            raise ValueError("resolving a name with SIMBAD needs the online Sesame service, which this server "
                             "cannot reach; reverse=true (a diaObjectId to its SIMBAD type) works")
        return _object_cells(store, name, ["r:diaObjectId", "f:xm_simbad_otype", "r:ra", "r:dec"])
    if resolver == "tns":
        if reverse:
            return _object_cells(store, name, ["r:diaObjectId", "f:xm_tns_fullname", "f:xm_tns_type"])
        return _tns_names(store, name, nmax)
    if reverse:  # ssObjectId -> its designations
        table = store.table("sso")
        if not name.isdigit() or int(name) >= 2**64:
            return pd.DataFrame()
        batch = table.read(ranges=[table.keys.span(int(name))], columns=["r:ssObjectId", "r:mpcDesignation",
                                                                          "r:designation"], limit=1)
        return frame(batch, "sso", ["r:ssObjectId", "r:mpcDesignation", "r:designation"], newest_first=False)
    found = sso(store, [name], ["r:mpcDesignation", "r:ssObjectId", "r:diaSourceId"])
    return found.head(nmax)


def _object_cells(store: Store, name: str, columns: list[str]) -> pd.DataFrame:
    if not name.isdigit() or int(name) >= 2**64:
        return pd.DataFrame()
    table = store.table("objects")
    return frame(table.read(keys=[table.keys.build(int(name))], columns=columns), "objects", columns,
                 newest_first=False)


def _tns_names(store: Store, name: str, nmax: int) -> pd.DataFrame:
    """Objects whose TNS name starts with ``name`` (any case; "" every named object), read from
    the objects table within the time budget."""
    table = store.table("objects")
    batch = table.read(ranges=[(None, None)], columns=["f:xm_tns_fullname", "f:xm_tns_type"],
                       on_batch=lambda: check("give a longer name"))
    names = batch.columns.get("f:xm_tns_fullname") or []
    want = name.lower()
    keep = [i for i, v in enumerate(names) if v and str(v).lower().startswith(want)][:nmax]
    if not keep:
        return pd.DataFrame()
    return pd.DataFrame({"r:diaObjectId": [table.keys.parse(batch.keys[i])["diaObjectId"] for i in keep],
                         "f:xm_tns_fullname": [names[i] for i in keep],
                         "f:xm_tns_type": [(batch.columns.get("f:xm_tns_type") or [None] * len(names))[i]
                                           for i in keep]})
