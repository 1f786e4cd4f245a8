"""Per-packet checks before anything is written. A failed check quarantines the packet.

:func:`problem` returns ``None`` for a packet that can be stored, else a one-line reason
naming the field. It never raises: a packet of any shape gets a reason, so one bad packet
cannot stop a night.
"""
from __future__ import annotations

import math

from .packet_types import type_problem

MIN_VERSION = (3, 3)
MAX_VERSION = (4, 2)
REQUIRED_CANDIDATE = ("jd", "fid", "ra", "dec", "magpsf", "sigmapsf")
JD_RANGE = (2415020.5, 2488070.5)  # 1900 to 2100


def schema_version(text) -> tuple[int, int] | None:
    """'4.02' -> (4, 2); None when it is not a version number."""
    try:
        major, _, minor = str(text).strip().partition(".")
        return int(major), int(minor or 0)
    except ValueError:
        return None


def candid_of(record: dict):
    """The alert's candid: the packet's top-level ``candid``, else ``candidate.candid``
    (schema-3.3 packets of some archives carry only the latter)."""
    candid = record.get("candid")
    if candid is None and isinstance(record.get("candidate"), dict):
        candid = record["candidate"].get("candid")
    return candid


def problem(record, check_types: bool = True, typed: bool = True) -> str | None:
    """Why ``record`` cannot be ingested, or None.

    :param check_types: check every stored field's type (skip only when the packet's Avro
        writer schema already guarantees them: :func:`ingest.packet_types.schema_is_clean`).
    :param typed: False for Parquet, whose integers may come as integral doubles.
    """
    try:
        return _problem(record, check_types, typed)
    except Exception as exc:  # a shape no check foresaw: refuse the packet, never the night
        return f"malformed packet ({type(exc).__name__}: {exc})"


def _problem(record, check_types: bool, typed: bool) -> str | None:
    if not isinstance(record, dict):
        return f"the packet is a {type(record).__name__}, expected a record"
    version = record.get("schemavsn")
    parsed = schema_version(version)
    if version is None:
        return "missing schemavsn (alert schema version)"
    if parsed is None or parsed > MAX_VERSION:
        return f"unknown alert schema version {version!r} (supported: 3.3 to 4.02)"
    if parsed < MIN_VERSION:
        return f"unsupported alert schema version {version!r} (older than 3.3)"
    if check_types:
        reason = type_problem(record, typed)
        if reason:
            return reason
    object_id = record.get("objectId")
    if not isinstance(object_id, str) or not object_id.strip():
        return "missing objectId"
    candidate = record.get("candidate")
    if not isinstance(candidate, dict):
        return "missing candidate record"
    candid = candid_of(record)
    if not isinstance(candid, int) and not (not typed and isinstance(candid, float) and candid.is_integer()):
        return "missing candid (neither the packet nor its candidate has one)"
    inner = candidate.get("candid")
    if inner is not None and record.get("candid") is not None and inner != record["candid"]:
        return f"candid {record['candid']} differs from candidate.candid {inner}"
    for name in REQUIRED_CANDIDATE:
        value = candidate.get(name)
        if value is None:
            return f"missing candidate.{name}"
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return f"candidate.{name} is a {type(value).__name__} ({value!r:.40}), expected a number"
        if isinstance(value, float) and not math.isfinite(value):
            return f"candidate.{name} is {value}"
    ra, dec, jd = candidate["ra"], candidate["dec"], candidate["jd"]
    if not 0 <= ra < 360:
        return f"candidate.ra {ra} outside [0, 360)"
    if not -90 <= dec <= 90:
        return f"candidate.dec {dec} outside [-90, 90]"
    if not JD_RANGE[0] <= jd <= JD_RANGE[1]:
        return f"candidate.jd {jd} is not a date between 1900 and 2100"
    if candidate.get("fid") not in (1, 2, 3):
        return f"candidate.fid {candidate.get('fid')!r} is not 1, 2 or 3"
    return None
