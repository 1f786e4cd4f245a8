"""The statistics row of a night, counted from the store, not from the run that wrote it.

A night ingested in parts, rerun, or resumed after a crash must end with the same row as
one clean run. So the row is derived from what the store holds for the night once every
alert of the run is written:

* alerts (``sci``), objects, alerts per filter and per class: a column-wise scan of the
  time index (``jd``) over the night's range of dates, ``PAGE`` rows at a time, reading only
  ``i:objectId``, ``i:fid`` and ``d:classification``;
* ``upper`` / ``badquality``: the upper limits and bad-quality previous detections on record
  for the night's objects, dated from 31 days before the night (the history a packet
  carries is 30 days) to the day after it; keys only (:func:`_history_rows`: a few objects'
  ranges read by one scan where the store is sparse between them, one by one where not);
* ``quarantined`` and ``duplicates``: the distinct entries of the night's quarantine and
  repeats ledgers (``ingest.quarantine``), which are deduplicated across runs;
* ``raw`` = ``sci`` + ``quarantined`` + ``duplicates``: the packets of the night.
"""
from __future__ import annotations

import datetime as dt
import logging

from science.bands import ZTF_FID
from store.keys import format_jd

log = logging.getLogger("nocturne.ingest")
JD_UNIX_EPOCH = 2440587.5
HISTORY_DAYS = 31
VOLATILE = ("basic:duration_s", "basic:finished")
GROUP = 64  # objects whose ranges one scan reads first (_history_rows)
GROUP_ROWS = 4096  # keys that scan reads at most
FILTERS = {fid: f"basic:n_{band}" for fid, band in ZTF_FID.items()}  # fid -> column of the count
PAGE = 50_000  # rows of the time index read at a time (_pages)


def night_span(night: str) -> tuple[float, float]:
    """``[start, end)`` of the UTC date ``night`` (YYYYMMDD) as Julian Dates."""
    day = dt.datetime.strptime(night, "%Y%m%d").replace(tzinfo=dt.timezone.utc)
    start = JD_UNIX_EPOCH + day.timestamp() / 86400.0
    return start, start + 1.0


def night_counts(store, night: str, span: tuple[float, float] | None = None) -> dict:
    """The store's cells of the statistics row of ``night`` (without quarantine and repeats).

    :param span: ``[start, end)`` in JD of the alerts filed under the night; default its UTC date.
    """
    lo, hi = span or night_span(night)
    by_jd = store.table("jd")
    cells = {"basic:sci": 0, **{column: 0 for column in FILTERS.values()}}
    objects: set = set()
    for light in _pages(by_jd, format_jd(lo), format_jd(hi), ["i:objectId", "i:fid"]):
        cells["basic:sci"] += len(light)
        objects.update(light["i:objectId"])
        for fid in light["i:fid"]:
            column = FILTERS.get(int(fid)) if fid is not None else None
            if column:
                cells[column] += 1
    for added in _pages(by_jd, format_jd(lo), format_jd(hi), ["d:classification"]):
        for label in added["d:classification"]:
            if label is not None:
                cells[f"class:{label}"] = cells.get(f"class:{label}", 0) + 1
    objects = sorted(objects)
    cells["basic:n_objects"] = len(objects)
    cells["basic:upper"] = _history_rows(store.table("upper"), objects, lo - HISTORY_DAYS, hi + 1)
    cells["basic:badquality"] = _history_rows(store.table("uppervalid"), objects, lo - HISTORY_DAYS, hi + 1)
    return cells


def _pages(table, start: str, stop: str, columns: list[str]):
    """The rows of ``[start, stop)`` with a cell of ``columns``, ``PAGE`` at a time (as ``Table.scan``
    pages, column-wise): a night's time index read whole held ~300 MB at the end of a big night."""
    while True:
        batch = table.read(ranges=[(start, stop)], columns=columns, limit=PAGE)
        yield batch
        if len(batch) < PAGE:
            return
        start = batch.raw_keys[-1] + b"\x00"  # the smallest key after it


def _history_rows(table, objects: list[str], lo: float, hi: float) -> int:
    """Rows of ``table`` (keyed objectId, jd) of ``objects`` dated in ``[lo, hi)``, counted
    from their keys (no cell is read: a history row always holds its ``i:jd``, a part of its key).

    One range an object would be one scanner an object on HBase (three Thrift round trips,
    7,750 objects a 10,000-alert night), so the ranges of ``GROUP`` objects adjacent in key
    order are first read as ONE range, keys only, up to ``GROUP_ROWS`` keys, and the keys of
    other objects or dates in it are left out here. Where the store holds more between them
    (a store of many nights), the scan stops at ``GROUP_ROWS`` keys and the objects after its
    last key are read one range each, as before: the count is the same either way.
    """
    if not objects:
        return 0
    start, stop = format_jd(lo), format_jd(hi)
    sep = table.keys.sep
    prefixes = sorted(set(table.keys.first_prefixes(objects)))  # str order is the keys' byte order
    wanted = set(prefixes)
    count, rest = 0, []
    for i in range(0, len(prefixes), GROUP):
        group = prefixes[i:i + GROUP]
        if len(group) == 1:
            rest.append((group[0] + start, group[0] + stop))
            continue
        keys = table.read(ranges=[(group[0] + start, group[-1] + stop)], columns=[], limit=GROUP_ROWS).keys
        full = len(keys) == GROUP_ROWS  # stopped early: from its last key on, the objects one by one
        for key in keys[:-1] if full else keys:
            head, _, jd = key.rpartition(sep)
            if start <= jd < stop and head + sep in wanted:
                count += 1
        if full:
            last = keys[-1]
            rest.extend((max(p + start, last), p + stop) for p in group if p + stop > last)
    if rest:
        count += len(table.read(ranges=rest, columns=[]))
    return count


def write_statistics(store, night: str, span, quarantined: int, duplicates: int, duration: float) -> dict:
    """Write the statistics row of ``night`` (after every alert of the run): counted from the
    store, the quarantined and repeated packets from the night's ledgers. A row equal to the
    existing one but for its timings is left as it is, so a rerun changes nothing."""
    table = store.table("statistics")
    key = table.keys.build(store.prefix, night)
    cells = night_counts(store, night, span)
    cells.update({"basic:quarantined": quarantined, "basic:duplicates": duplicates, "basic:date": night,
                  "basic:raw": cells["basic:sci"] + quarantined + duplicates})
    old = table.row(key)
    same = {k: v for k, v in old.items() if k not in VOLATILE} == cells
    if not same:
        stale = [k for k in old if k.startswith("class:") and k not in cells]
        if stale:
            table.delete(key, stale)
        cells["basic:duration_s"] = round(duration, 3)
        cells["basic:finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        table.put(key, cells)
    else:
        cells.update({k: old[k] for k in VOLATILE if k in old})
    return cells
