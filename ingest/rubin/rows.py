"""One Rubin alert packet → its rows for every Rubin table (``hbase_schema/rubin.yml``).

Column lists come from the schema: ``r:`` takes Rubin's fields by name (the diaSource, its
ssSource, the packet root), ``f:`` Fink's added values (``xm`` → ``xm_<name>``, ``clf`` →
``clf_<name>``, ``pred`` and ``misc`` by name). A field the packet lacks is no cell, a field
the schema lacks is not stored, so schema versions 9.x-11.x all fill what they have.

What an alert gives:
- its own diaSource: a ``sources`` row (with Fink's values), or for a solar-system source
  (diaObjectId 0) an ``sso`` row, and its index rows (time, pixel, tag, ssoname) and cutouts;
- its diaObject: the ``objects`` row candidate, written by the writer only when newer than the
  stored one (``order``);
- each previous diaSource (``prvDiaSources``): a ``sources`` row with Rubin's fields only, so an
  object's light curve is complete even for sources whose own alert we never received; keys
  are deterministic, so a source carried by many packets is one row;
- each forced source (``prvDiaForcedSources``): an ``fp`` row, one per forced source however
  many packets repeat it.

The last two are most of a night's rows: ``ingest.rubin.lists`` builds them column-wise;
:meth:`RubinRowBuilder.list_rows` gives the same rows one by one, for lists Arrow cannot hold.
"""
from __future__ import annotations

from dataclasses import dataclass

from hbase_schema import Schema
from science.rubin_tags import tags_of

CUTOUTS = ("cutoutScience", "cutoutTemplate", "cutoutDifference")
ROOT_FIELDS = ("observation_reason", "target_name")
PREFIXED = (("xm", "xm_"), ("clf", "clf_"))
FLAT = ("pred", "misc")
FINK_ROOT = ("brokerIngestMjd", "fink_broker_version", "fink_science_version", "lsst_schema_version")


@dataclass
class RubinRows:
    """The rows of one alert; keys are given as the values of the tables' key parts."""
    source_id: int
    object_id: int          # 0 for a solar-system source
    ss_id: int | None
    mjd: float
    band: str
    ra: float
    dec: float
    visit: int | None
    alert_table: str        # sources, or sso for a solar-system source
    alert_cells: dict
    light: dict
    tags: list
    names: list             # a solar-system source's designations (ssoname rows)
    cutouts: dict
    obj: tuple | None = None                   # (order, cells) of the packet's diaObject


class RubinRowBuilder:
    def __init__(self, schema: Schema):
        sources = schema.table("sources")
        self.r_cols = list(sources.families["r"].columns)
        self.f_cols = set(sources.families["f"].columns)
        self.prv_cols = [q for q in self.r_cols if q not in ROOT_FIELDS]
        self.fp_cols = list(schema.table("fp").families["r"].columns)
        objects = schema.table("objects")
        self.obj_r = list(objects.families["r"].columns)
        self.obj_f = [f"f:{q}" for q in objects.families["f"].columns]
        light = schema.table("time")
        self.light_cols = [f"{f}:{q}" for f, fam in light.families.items() for q in fam.columns]

    def build(self, record: dict) -> RubinRows:
        src = record["diaSource"]
        ss = record.get("ssSource") or {}
        orbit = record.get("mpc_orbits") or {}
        cells = {}
        for q in self.r_cols:
            value = src.get(q)
            if value is None:
                value = ss.get(q) if q not in ROOT_FIELDS else record.get(q)
            cells[f"r:{q}"] = value
        cells["r:mpcDesignation"] = orbit.get("packed_primary_provisional_designation")
        cells.update(self.fink_cells(record))
        tags = tags_of(record.get("xm"), record.get("pred"))
        cells["f:tags"] = tags
        object_id = int(src.get("diaObjectId") or 0)
        ss_id = src.get("ssObjectId") or ss.get("ssObjectId")
        names = [n for n in dict.fromkeys((cells.get("r:designation"), cells["r:mpcDesignation"])) if n]
        rows = RubinRows(
            source_id=src["diaSourceId"], object_id=object_id, ss_id=int(ss_id) if ss_id else None,
            mjd=float(src["midpointMjdTai"]), band=src["band"], ra=float(src["ra"]), dec=float(src["dec"]),
            visit=src.get("visit"), alert_table="sources" if object_id > 0 else "sso", alert_cells=cells,
            light={c: cells[c] for c in self.light_cols if cells.get(c) is not None}, tags=tags,
            names=names if object_id <= 0 else [],
            cutouts={f"b:{n}": record.get(n) for n in CUTOUTS if record.get(n) is not None},
        )
        obj = record.get("diaObject")
        if object_id > 0 and isinstance(obj, dict):
            ocells = {f"r:{q}": obj.get(q) for q in self.obj_r}
            ocells.update({"r:diaObjectId": object_id, "r:diaSourceId": rows.source_id, "r:midpointMjdTai": rows.mjd,
                           "r:observation_reason": record.get("observation_reason"),
                           "r:target_name": record.get("target_name")})
            ocells.update({c: cells.get(c) for c in self.obj_f})
            rows.obj = ((rows.mjd, rows.source_id), ocells)
        return rows

    def list_columns(self, field: str) -> list:
        """The columns stored of each row of list ``field`` (prvDiaSources, prvDiaForcedSources)."""
        return self.prv_cols if field == "prvDiaSources" else self.fp_cols

    def list_rows(self, record: dict, field: str, object_id: int, source_id: int) -> list:
        """The rows of list ``field`` of ``record`` one by one, as (diaObjectId, mjd, id, cells):
        what ``ingest.rubin.lists`` computes column-wise, for lists Arrow cannot hold."""
        items = record.get(field)
        if hasattr(items, "to_pylist"):
            items = items.to_pylist()
        previous = field == "prvDiaSources"
        id_name = "diaSourceId" if previous else "diaForcedSourceId"
        columns = self.list_columns(field)
        out = []
        for item in items or ():
            if item is None or item.get(id_name) is None or item.get("midpointMjdTai") is None:
                continue
            oid = item.get("diaObjectId") or object_id
            if not oid or (previous and item[id_name] == source_id):
                continue  # the alert's own source is written with its added values
            out.append((oid, item["midpointMjdTai"], item[id_name], {f"r:{q}": item.get(q) for q in columns}))
        return out

    def fink_cells(self, record: dict) -> dict:
        """Fink's added values of the packet, flattened to the ``f:`` columns the schema has."""
        out = {}
        for struct, prefix in PREFIXED:
            for name, value in (record.get(struct) or {}).items():
                if prefix + name in self.f_cols:
                    out["f:" + prefix + name] = value
        for struct in FLAT:
            for name, value in (record.get(struct) or {}).items():
                if name in self.f_cols:
                    out["f:" + name] = value
        for name in FINK_ROOT:
            out["f:" + name] = record.get(name)
        features = record.get("lc_features")
        if isinstance(features, list):  # an Arrow map read as (key, value) pairs
            features = {str(k): v for k, v in features}
        out["f:lc_features"] = features
        return out
