"""Per-packet checks of a Rubin alert. :func:`problem` returns None for a packet that can be
stored, else a one-line reason naming the field; it never raises (a packet of any shape gets
a reason), so one bad packet cannot stop a night. Types are checked by the store's encoder
(a value out of its column's type is quarantined by name, as for ZTF)."""
from __future__ import annotations

import math
import re

import pyarrow as pa

MIN_MAJOR, MAX_MAJOR = 9, 11
MJD_RANGE = (15020.0, 88069.0)  # 1900 to 2100
BANDS = ("u", "g", "r", "i", "z", "y")
_VERSION = re.compile(r"(?:lsst\.)?v?(\d+)[._](\d+)$")


def schema_version(text) -> tuple[int, int] | None:
    """'lsst.v10_0' or '10.0' -> (10, 0); None when it is not a version."""
    m = _VERSION.match(str(text).strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def source_id(record) -> int | None:
    """The alert's diaSourceId, when readable (for quarantine lines)."""
    try:
        value = (record.get("diaSource") or {}).get("diaSourceId", record.get("diaSourceId"))
        return int(value) if value is not None else None
    except Exception:
        return None


def problem(record) -> str | None:
    """Why ``record`` cannot be ingested, or None."""
    try:
        return _problem(record)
    except Exception as exc:  # a shape no check foresaw: refuse the packet, never the night
        return f"malformed packet ({type(exc).__name__}: {exc})"


def _problem(record) -> str | None:
    if not isinstance(record, dict):
        return f"the packet is a {type(record).__name__}, expected a record"
    version = record.get("lsst_schema_version")
    if version is not None:  # Fink's packets say it; Rubin's own carry it in the writer schema's name only
        parsed = schema_version(version)
        if parsed is None or not MIN_MAJOR <= parsed[0] <= MAX_MAJOR:
            return f"unsupported Rubin alert schema version {version!r} (supported: {MIN_MAJOR}.x to {MAX_MAJOR}.x)"
    source = record.get("diaSource")
    if not isinstance(source, dict):
        return "missing diaSource record"
    for name in ("diaSourceId", "midpointMjdTai", "ra", "dec"):
        value = source.get(name)
        if value is None:
            return f"missing diaSource.{name}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"diaSource.{name} is a {type(value).__name__} ({value!r:.40}), expected a number"
        if isinstance(value, float) and not math.isfinite(value):
            return f"diaSource.{name} is {value}"
    if not isinstance(source["diaSourceId"], int) or source["diaSourceId"] < 0:
        return f"diaSource.diaSourceId {source['diaSourceId']!r} is not a non-negative integer"
    root = record.get("diaSourceId")
    if root is not None and root != source["diaSourceId"]:
        return f"diaSourceId {root} differs from diaSource.diaSourceId {source['diaSourceId']}"
    object_id, ss_id = source.get("diaObjectId"), source.get("ssObjectId")
    if not (isinstance(object_id, int) and object_id > 0) and not (isinstance(ss_id, int) and ss_id > 0):
        return "neither diaSource.diaObjectId nor diaSource.ssObjectId is a positive integer"
    ra, dec, mjd = source["ra"], source["dec"], source["midpointMjdTai"]
    if not 0 <= ra < 360:
        return f"diaSource.ra {ra} outside [0, 360)"
    if not -90 <= dec <= 90:
        return f"diaSource.dec {dec} outside [-90, 90]"
    if not MJD_RANGE[0] <= mjd <= MJD_RANGE[1]:
        return f"diaSource.midpointMjdTai {mjd} is not a date between 1900 and 2100"
    if source.get("band") not in BANDS:
        return f"diaSource.band {source.get('band')!r} is not one of {', '.join(BANDS)}"
    for name in ("prvDiaSources", "prvDiaForcedSources"):
        items = record.get(name)
        if items is not None and not isinstance(items, (list, tuple, pa.Array)):  # (Arrow: from Parquet)
            return f"{name} is a {type(items).__name__}, expected a list"
    obj = record.get("diaObject")
    if isinstance(obj, dict) and obj.get("diaObjectId") not in (None, object_id):
        return f"diaObject.diaObjectId {obj.get('diaObjectId')} differs from diaSource.diaObjectId {object_id}"
    return None
