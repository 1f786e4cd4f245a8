"""Fink's tags of a Rubin alert, from the values Fink added to it (no Flask, no store).

A tag is the name of one of Fink's Rubin livestream filters that selects the alert; the
API's ``/lsst/api/v1/tags?tag=NAME`` lists the alerts carrying it. The rules below are the
ones that read only what the alert packet holds; each is our own reading of the filter's
published description.
"""
from __future__ import annotations

import numpy as np

# tag -> one-line description (what /tags lists)
TAGS = {
    "in_tns": "Alerts with a known counterpart in TNS when Rubin emitted them",
    "in_simbad": "Alerts with a known counterpart in SIMBAD when Rubin emitted them",
    "cataloged": "Alerts with a counterpart in SIMBAD or Gaia DR3",
    "is_solar_system": "Alerts associated with a known solar-system object (Minor Planet Center)",
    "is_first": "Alerts that are not solar-system objects and have no history (first detection)",
}
SIMBAD_UNKNOWN = {None, "", "Unknown", "Fail", "Fail 504", "Fail 500", "nan"}


def tags_of(xm: dict | None, pred: dict | None) -> list[str]:
    """The tags of an alert given its ``xm`` (cross-matches) and ``pred`` (Fink's flags), in TAGS order."""
    xm, pred = xm or {}, pred or {}
    found = {
        "in_tns": xm.get("tns_type") not in (None, ""),
        "in_simbad": xm.get("simbad_otype") not in SIMBAD_UNKNOWN,
        "cataloged": pred.get("is_cataloged") is True,
        "is_solar_system": pred.get("is_sso") is True,
        "is_first": pred.get("is_first") is True,
    }
    return [tag for tag in TAGS if found[tag]]


def tags_of_alerts(per_alert) -> list[str]:
    """The tags any of an object's alerts carries (``per_alert``: each alert's list or array
    of tags, or a missing value), in TAGS order, then any other tag alphabetically: what an
    object page shows, the same wherever it is shown."""
    found = {str(t) for tags in per_alert if isinstance(tags, (list, tuple, np.ndarray)) for t in tags}
    return [t for t in TAGS if t in found] + sorted(found - set(TAGS))
