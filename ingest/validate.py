"""Per-packet checks before anything is written. A failed check quarantines the packet.

:func:`problem` returns ``None`` for a packet that can be stored, else a one-line reason.
"""
from __future__ import annotations

import math

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


def problem(record: dict) -> str | None:
    """Why ``record`` cannot be ingested, or None."""
    version = record.get("schemavsn")
    parsed = schema_version(version)
    if version is None:
        return "missing schemavsn (alert schema version)"
    if parsed is None or parsed > MAX_VERSION:
        return f"unknown alert schema version {version!r} (supported: 3.3 to 4.02)"
    if parsed < MIN_VERSION:
        return f"unsupported alert schema version {version!r} (older than 3.3)"
    object_id = record.get("objectId")
    if not isinstance(object_id, str) or not object_id.strip():
        return "missing objectId"
    if not isinstance(record.get("candid"), int):
        return "missing candid"
    candidate = record.get("candidate")
    if not isinstance(candidate, dict):
        return "missing candidate record"
    for name in REQUIRED_CANDIDATE:
        value = candidate.get(name)
        if value is None:
            return f"missing candidate.{name}"
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
