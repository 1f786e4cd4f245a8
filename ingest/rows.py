"""One alert packet → the rows it adds to every table of the schema.

Column lists come from the schema: the ``i`` family takes the candidate's fields by
name, ``d`` the added values (with the schema's documented default when the packet
lacks them: a raw ZTF alert gets ``d:cdsxmatch`` = "Unknown"...), ``b`` the cutouts.
Index tables take the light columns the schema lists for them. Keys are deterministic,
so writing the same packet twice writes the same cells. The tables an alert fills are
read from the schema too (:func:`alert_tables`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from hbase_schema import Schema
from science.classification import classify, tns_type
from science.forced_photometry import convert as convert_forced, usable as usable_forced
from store.keys import RowKey

ROOT_FIELDS = ("objectId", "schemavsn", "publisher")
CUTOUTS = ("cutoutScience", "cutoutTemplate", "cutoutDifference")
FORCED = "fp"  # the forced-photometry table, filled from the packets' fp_hists
SKY = "objects_sky"  # the object-level sky index: written only by a newer alert (ingest.newest)


def alert_tables(schema: Schema) -> tuple[str, ...]:
    """The tables an alert adds rows to, in the schema's order: ``main``, every table
    whose families borrow main's columns (the indexes, upper limits, bad-quality detections)
    and the forced photometry (``fp``)."""
    return tuple(name for name, spec in schema.tables.items()
                 if name in ("main", FORCED) or spec.borrows_from("main"))


@dataclass
class AlertRows:
    """The rows of one alert, per logical table: lists of (key, cells)."""
    object_id: str
    jd: float
    candid: int
    fid: int
    classification: str
    ra: float
    dec: float
    main: tuple
    light: dict
    ssnamenr: str | None
    tns: str | None = None
    anomaly: dict | None = None
    upper: list = field(default_factory=list)
    badquality: list = field(default_factory=list)
    forced: list = field(default_factory=list)


class RowBuilder:
    """Builds :class:`AlertRows` from packets, per the schema."""

    def __init__(self, schema: Schema):
        main = schema.table("main")
        self.schema = schema
        self.keys = {name: RowKey(spec, schema.separator) for name, spec in schema.tables.items()}
        self.cand_cols = [(q, f"i:{q}") for q in main.families["i"].columns if q not in ROOT_FIELDS]
        self.added = [(q, f"d:{q}", c.default, c.type) for q, c in main.families["d"].columns.items()
                      if q != "classification"]
        self.anomaly_cols = [f"{f}:{q}" for f, fam in schema.table("anomaly").families.items() for q in fam.columns]
        light = schema.table("jd")
        self.light_cols = [f"{f}:{q}" for f, fam in light.families.items() for q in fam.columns]
        sky = schema.tables.get(SKY)
        self.sky_cols = [] if sky is None else [f"{f}:{q}" for f, fam in sky.families.items() for q in fam.columns]
        self.upper_cols = [(q, f"i:{q}") for q in schema.table("upper").families["i"].columns if q != "objectId"]
        forced = schema.tables.get(FORCED)
        self.forced_cols = [] if forced is None else \
            [(q, f"i:{q}") for q in forced.families["i"].columns if q != "objectId"]
        self.forced_ints = [] if forced is None else \
            [f"i:{q}" for q, c in forced.families["i"].columns.items() if c.type in ("int32", "int64")]
        self.bad_cols = [(q, f"i:{q}") for q in schema.table("uppervalid").families["i"].columns if q != "objectId"]
        itypes = {f"i:{q}": c.type for q, c in main.families["i"].columns.items()}
        self.int_cols = [c for c, t in itypes.items() if t in ("int32", "int64")]
        self.str_cols = [c for c, t in itypes.items() if t == "string"]

    def build(self, record: dict, typed: bool = True) -> AlertRows:
        """The rows of one packet. ``typed=False`` (Parquet) repairs ints written as doubles."""
        cand = record["candidate"]
        object_id = record["objectId"]
        cells = {col: cand.get(q) for q, col in self.cand_cols}
        if not typed:
            _coerce(cells, self.int_cols, self.str_cols)
        cells["i:objectId"] = object_id
        cells["i:schemavsn"] = record.get("schemavsn")
        cells["i:publisher"] = record.get("publisher")
        if cells["i:candid"] is None:
            cells["i:candid"] = record.get("candid")
        for q, col, default, type_ in self.added:
            value = record.get(q)
            cells[col] = _normalise(value, type_) if value is not None else default
        label = classify(record, cand)
        cells["d:classification"] = label
        for name in CUTOUTS:
            cutout = record.get(name)
            if isinstance(cutout, dict) and cutout.get("stampData") is not None:
                cells[f"b:{name}_stampData"] = cutout["stampData"]
        jd = cand["jd"]
        ssnamenr = cand.get("ssnamenr")
        if ssnamenr in ("", "null"):
            ssnamenr = None
        candid = cells["i:candid"]
        rows = AlertRows(
            object_id=object_id, jd=jd, candid=candid, fid=cand["fid"], classification=label, ra=cand["ra"], dec=cand["dec"],
            main=(self.keys["main"].build(object_id, jd, candid), cells),
            light={c: cells[c] for c in self.light_cols if cells.get(c) is not None},
            ssnamenr=None if ssnamenr is None else str(ssnamenr),
            tns=tns_type(cells.get("d:tnsclass")),
        )
        score = cells.get("d:anomaly_score")
        if isinstance(score, (int, float)) and math.isfinite(score):
            rows.anomaly = {c: cells[c] for c in self.anomaly_cols}
        for prv in record.get("prv_candidates") or ():
            if prv is None:  # Spark's schemas allow null items; they carry nothing
                continue
            pjd = prv.get("jd")
            if pjd is None or not math.isfinite(pjd):
                continue
            if prv.get("candid") is None:
                cells = _pick(prv, self.upper_cols, object_id)
                if not typed:
                    _coerce(cells, self.int_cols, self.str_cols)
                rows.upper.append((self.keys["upper"].build(object_id, pjd), cells))
            else:
                cells = _pick(prv, self.bad_cols, object_id)
                if not typed:
                    _coerce(cells, self.int_cols, self.str_cols)
                rows.badquality.append((self.keys["uppervalid"].build(object_id, pjd), cells))
        if self.forced_cols:
            rows.forced = self.forced_rows(object_id, record.get("fp_hists"), typed)
        return rows

    def forced_rows(self, object_id: str, history, typed: bool = True) -> list[tuple[str, dict]]:
        """The usable points of a packet's ``fp_hists`` (a time, a measured flux: not ZTF's
        -99999), each with its ZTF fields and the flux and magnitudes of
        :func:`science.forced_photometry.convert` (``d:``; a value that does not apply is absent)."""
        points = [p for p in history or () if isinstance(p, dict) and isinstance(p.get("jd"), (int, float))
                  and math.isfinite(p["jd"])]
        points = [p for p, ok in zip(points, usable_forced([p.get("forcediffimflux") for p in points])) if ok]
        if not points:
            return []
        derived = convert_forced([p.get("forcediffimflux") for p in points],
                                 [p.get("forcediffimfluxunc") for p in points], [p.get("magzpsci") for p in points])
        out = []
        for n, p in enumerate(points):
            cells = _pick(p, self.forced_cols, object_id)
            if not typed:
                _coerce(cells, self.forced_ints, ("i:procstatus",))
            for name, values in derived.items():
                value = float(values[n])
                if math.isfinite(value):
                    cells[f"d:{name}"] = value
            out.append((self.keys[FORCED].build(object_id, p["jd"]), cells))
        return out

    def index_rows(self, rows: AlertRows, pixel: int) -> dict[str, tuple[str, dict]]:
        """Rows of the index tables for one alert whose HEALPix pixel is ``pixel``."""
        k, jd, oid, candid = self.keys, rows.jd, rows.object_id, rows.candid
        out = {
            "jd": (k["jd"].build(jd, oid, candid), rows.light),
            "pixel": (k["pixel"].build(pixel, jd, oid, candid), rows.light),
            "class": (k["class"].build(rows.classification, jd, oid, candid), rows.light),
        }
        if rows.ssnamenr is not None:
            out["ssnamenr"] = (k["ssnamenr"].build(rows.ssnamenr, jd, oid, candid), rows.light)
        if rows.tns is not None:
            out["tns"] = (k["tns"].build(rows.tns, jd, oid, candid), rows.light)
        if rows.anomaly is not None:
            out["anomaly"] = (k["anomaly"].build(jd, oid, candid), rows.anomaly)
        return out


    def sky_row(self, rows: AlertRows, pixel: int) -> tuple[str, tuple, dict, bool] | None:
        """The alert's row of the object-level sky index, for the writer to send only when it
        is newer than the object's row in that pixel: ``(key, order, cells, full)``, ``order``
        as :func:`sky_order` ranks it, ``full`` when every column of the table has a value
        (a row replacing another without some cell must delete the older one first)."""
        if not self.sky_cols:
            return None
        cells = {c: rows.light[c] for c in self.sky_cols if c in rows.light}
        return (self.keys[SKY].build(pixel, rows.object_id), sky_order(rows.jd, rows.candid), cells,
                len(cells) == len(self.sky_cols))


def sky_order(jd: float, candid) -> tuple[float, str]:
    """How an alert ranks in the object-level sky index: by jd, and at equal jd the alert the
    alert index lists first (its key ends with the candid in decimal: the smaller text)."""
    return float(jd), str(candid)


def sky_newer(a: tuple[float, str], b: tuple[float, str]) -> bool:
    """Whether the alert ranked ``a`` (:func:`sky_order`) replaces the one ranked ``b``."""
    return a[0] > b[0] or (a[0] == b[0] and a[1] < b[1])


def _coerce(cells: dict, int_cols, str_cols) -> None:
    """Fix what writers of Parquet do to ZTF types: ids as doubles, flags as booleans."""
    for col in int_cols:
        value = cells.get(col)
        if isinstance(value, float) and value.is_integer():
            cells[col] = int(value)  # a non-integer stays as is and is refused, by name, on write
    for col in str_cols:
        value = cells.get(col)
        if value is not None and not isinstance(value, str):
            cells[col] = str(value)


def _pick(prv: dict, columns, object_id: str) -> dict:
    cells = {col: prv.get(q) for q, col in columns}
    cells["i:objectId"] = object_id
    return cells


def _normalise(value, type_: str):
    """Added values as the schema types them (Spark may write ints as longs, maps as pairs)."""
    if type_ == "json":
        if isinstance(value, list) and value and all(isinstance(x, tuple) and len(x) == 2 for x in value):
            return {str(k): v for k, v in value}  # an Arrow map read as (key, value) pairs
        return value
    if type_ in ("int32", "int64") and isinstance(value, float) and value.is_integer():
        return int(value)
    if type_ == "string" and not isinstance(value, str):
        return str(value)
    return value
