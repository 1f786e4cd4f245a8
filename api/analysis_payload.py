"""What an analysis service is sent about an object: the data types it declared, as JSON.

``photometry.detections`` (the alerts: jd, band, magnitude, error, position, candid),
``photometry.upper_limits`` (jd, band, 5-sigma limit) and ``photometry.forced_photometry``
(the fp table's points: flux in µJy, magnitudes where detected), ``cutouts`` (the latest
alert's three stamps, gzipped FITS in base64) and ``annotations`` (what users wrote).

For a Rubin object (:func:`rubin_payload`): ``photometry.detections`` are its diaSources and
``photometry.forced_photometry`` its forced sources (Rubin's fields by name, fluxes in nJy,
plus ``jd``); Rubin alerts carry no upper limits, and cutouts and annotations are not sent yet.
"""
from __future__ import annotations

import base64
import math

from science.bands import ZTF_FID
from store import Store, TableMissing

from . import annotations as notes
from .queries.cutouts import find_alert
from .queries.forced import forced_points
from .queries.objects import objects
from .queries.rubin.objects import history

RUBIN_SOURCE_COLUMNS = ["r:diaSourceId", "r:midpointMjdTai", "r:band", "r:psfFlux", "r:psfFluxErr", "r:scienceFlux",
                        "r:scienceFluxErr", "r:snr", "r:ra", "r:dec"]
RUBIN_FORCED_COLUMNS = ["r:diaForcedSourceId", "r:midpointMjdTai", "r:band", "r:psfFlux", "r:psfFluxErr",
                        "r:scienceFlux", "r:scienceFluxErr"]
MJD_TO_JD = 2400000.5

DETECTION_COLUMNS = ["i:jd", "i:fid", "i:magpsf", "i:sigmapsf", "i:diffmaglim", "i:ra", "i:dec", "i:candid",
                     "i:isdiffpos"]
FORCED_COLUMNS = ["jd", "band", "flux", "flux_err", "snr", "mag", "magerr", "maglim", "detected"]


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def _records(frame, columns) -> list[dict]:
    present = [c for c in columns if c in frame.columns]
    return [{c.split(":", 1)[-1]: _clean(v) for c, v in zip(present, row)}
            for row in frame[present].itertuples(index=False, name=None)]


def _band(fid) -> str:
    return ZTF_FID.get(int(fid), str(fid)) if fid is not None else None


def payload(store: Store, object_id: str, data_types) -> dict:
    """The data of ``object_id`` that a service declared (``data_types``), JSON-ready."""
    out: dict = {}
    if {"detections", "upper_limits"} & set(data_types):
        frame = objects(store, [object_id], columns=DETECTION_COLUMNS, withupperlim="upper_limits" in data_types)
        tags = frame["d:tag"] if "d:tag" in frame.columns else None
        photometry = out.setdefault("photometry", {})
        for name, tag in (("detections", "valid"), ("upper_limits", "upperlim")):
            if name in data_types:
                rows = frame if tags is None else frame[tags == tag]
                records = _records(rows, DETECTION_COLUMNS if name == "detections" else ["i:jd", "i:fid", "i:diffmaglim"])
                for r in records:
                    r["band"] = _band(r.pop("fid", None))
                photometry[name] = records
    if "forced_photometry" in data_types:
        try:
            points = forced_points(store, object_id, missing_ok=True)
        except TableMissing:
            points = None
        out.setdefault("photometry", {})["forced_photometry"] = [] if points is None else _records(points, FORCED_COLUMNS)
    if "cutouts" in data_types:
        kinds = ("Science", "Template", "Difference")
        cells = find_alert(store, object_id, None, kinds) or {}
        out["cutouts"] = {"candid": cells.get("i:candid"), "format": "fits.gz", **{
            k.lower(): base64.b64encode(cells[f"b:cutout{k}_stampData"]).decode()
            for k in kinds if cells.get(f"b:cutout{k}_stampData")}}
    if "annotations" in data_types:
        out["annotations"] = [{k: a[k] for k in ("author", "time", "text", "tags", "internal_name")}
                              for a in notes.for_object(store, object_id)]
    return out


def rubin_payload(store: Store, dia_object_id: int, data_types) -> dict:
    """The data of the Rubin object ``dia_object_id`` (``store``: the Rubin tables) that a
    service declared, JSON-ready, oldest first."""
    photometry: dict = {}
    for name, table, columns in (("detections", "sources", RUBIN_SOURCE_COLUMNS),
                                 ("forced_photometry", "fp", RUBIN_FORCED_COLUMNS)):
        if name in data_types:
            rows = _records(history(store, table, [dia_object_id], columns), columns)
            for r in rows:
                r["jd"] = r["midpointMjdTai"] + MJD_TO_JD if r.get("midpointMjdTai") is not None else None
            photometry[name] = sorted(rows, key=lambda r: r["midpointMjdTai"] or 0.0)
    return {"photometry": photometry} if photometry else {}
