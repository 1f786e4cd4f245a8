"""The statistics row of a Rubin night, counted from the store, not from the run that wrote it
(as ``ingest.statistics`` does for ZTF): a night ingested in parts, rerun or resumed ends
with the row of one clean run.

One column-wise scan of the time index over the night's MJD range gives the alerts, per band,
the objects, the visits and the flags (Fink's statistics names); ``quarantined`` and
``duplicates`` are the distinct entries of the night's ledgers; ``raw`` their sum with the alerts.
"""
from __future__ import annotations

import datetime as dt

from store.keys import format_mjd

from .validate import BANDS

VOLATILE = ("f:duration_s", "f:finished")
MJD_UNIX_EPOCH = 40587.0
FLAGS = ("is_sso", "is_first", "is_cataloged")
SOURCE_FLAGS = ("glint_trail", "isDipole", "pixelFlags_cr", "pixelFlags_saturated", "pixelFlags_streak")


def night_span(night: str) -> tuple[float, float]:
    """``[start, end)`` of the UTC date ``night`` (YYYYMMDD) as MJD."""
    day = dt.datetime.strptime(night, "%Y%m%d").replace(tzinfo=dt.timezone.utc)
    start = MJD_UNIX_EPOCH + day.timestamp() / 86400.0
    return start, start + 1.0


def night_counts(store, span: tuple[float, float]) -> dict:
    """The store's cells of the statistics row for the alerts in ``span`` (MJD)."""
    by_time, rng = store.table("time"), [(format_mjd(span[0]), format_mjd(span[1]))]
    source = by_time.read(ranges=rng, columns=["r:diaObjectId", "r:band", "r:visit", *(f"r:{f}" for f in SOURCE_FLAGS)])
    added = by_time.read(ranges=rng, columns=["f:xm_tns_type", *(f"f:{f}" for f in FLAGS)])  # one family per read
    data = {name: (added if name.startswith("f:") else source)[name]
            for name in ("r:diaObjectId", "r:band", "r:visit", "f:xm_tns_type",
                         *(f"r:{f}" for f in SOURCE_FLAGS), *(f"f:{f}" for f in FLAGS))}
    cells = {"f:alerts": len(data["r:band"]),
             "f:objects": len({o for o in data["r:diaObjectId"] if o}),
             "f:visits": len({v for v in data["r:visit"] if v is not None})}
    for band in BANDS:
        cells[f"f:alerts_{band}"] = sum(1 for b in data["r:band"] if b == band)
    for flag in FLAGS:
        cells[f"f:{flag}"] = sum(1 for v in data[f"f:{flag}"] if v is True or v == 1)
    for flag in SOURCE_FLAGS:
        cells[f"f:{flag}"] = sum(1 for v in data[f"r:{flag}"] if v is True or v == 1)
    cells["f:in_tns"] = sum(1 for v in data["f:xm_tns_type"] if v)
    return cells


def write_statistics(store, night: str, span, quarantined: int, duplicates: int, duration: float) -> dict:
    """Write the statistics row of ``night`` (after every alert of the run); a row equal to the
    stored one but for its timings is left as it is, so a rerun changes nothing."""
    table = store.table("statistics")
    key = table.keys.build(night)
    cells = night_counts(store, span)
    cells.update({"f:quarantined": quarantined, "f:duplicates": duplicates,
                  "f:raw": cells["f:alerts"] + quarantined + duplicates})
    old = table.row(key)
    if {k: v for k, v in old.items() if k not in VOLATILE} != cells:
        cells["f:duration_s"] = round(duration, 3)
        cells["f:finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        table.put(key, cells)
    else:
        cells.update({k: old[k] for k in VOLATILE if k in old})
    return cells
