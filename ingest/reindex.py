"""``python -m ingest reindex-sky``: fill the object-level sky index from the stored alerts.

A store made before ``objects_sky`` existed gets the table empty (``python -m hbase_schema
create``, or the next ingest), and cone searches keep to the alert index until it is filled.
This reads the alert sky index (``pixel``: every alert's pixel, time and position) page after
page, offers each alert's row with the ingest's own rule (``ingest.newest``: a row replaced
only by a newer alert), then marks the table complete (``store.filled``). Under the ingest
lock, so no ingest writes meanwhile. Idempotent: killed at any point, run it again; a second
run writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from settings import Config
from store import open_store
from store.filled import mark_filled

from .lock import IngestLock
from .newest import sky_writer
from .rows import SKY, sky_order

PAGE = 50_000


@dataclass
class Reindexed:
    alerts: int = 0     # alert index rows read
    written: int = 0    # object-level rows sent (new, or replaced by a newer alert)


def reindex_sky(config: Config, page: int = PAGE, batch_size: int = 2000, progress=None) -> Reindexed:
    """Fill ``objects_sky`` from the alert index of the store ``config`` names; ``progress``
    (optional) is called with the running :class:`Reindexed` after each page."""
    done = Reindexed()
    config = config.for_ingest()
    with IngestLock(Path(config.data_dir) / "ingest.lock"), open_store(config, create=True) as store:
        pixel, sky = store.table("pixel"), store.table(SKY)
        columns = [f"{f}:{q}" for f, fam in sky.spec.families.items() for q in fam.columns]
        width = len(pixel.keys.prefix(0)) - 1
        with sky.batch(batch_size) as batch:
            rows = sky_writer(store, {SKY: batch})
            start = None
            while True:
                data = pixel.read(ranges=[(start, None)], columns=columns, limit=page)
                candidates = []
                for key, cells in data.rows():
                    candidates.append((sky.keys.build(int(key[:width]), cells["i:objectId"]),
                                       sky_order(cells["i:jd"], cells["i:candid"]), sky.encode(cells),
                                       len(cells) == len(columns)))
                done.alerts += len(candidates)
                done.written += rows.offer(candidates)
                if progress is not None:
                    progress(done)
                if len(data) < page:
                    break
                start = data.raw_keys[-1] + b"\x00"
        mark_filled(store, SKY)
    return done
