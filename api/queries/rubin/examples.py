"""What the portal's Rubin example searches point at, read from the Rubin store itself (one
short read of the newest alerts of the time index), so that they find something on whatever
store is served: the real sample, the demo's simulated nights, a test's store."""
from __future__ import annotations

from collections import Counter

from store import Store

#: how many of the newest alerts the examples are chosen from
SAMPLE = 2000


def example_targets(store: Store, sample: int = SAMPLE) -> dict:
    """``{"diaObjectId", "ra", "dec"}`` of the object with the most of the ``sample`` newest
    alerts (the newest of them on a tie; solar-system alerts, diaObjectId 0, have no object
    page and are skipped), at the position of its newest alert; empty when the store has no
    object alert."""
    batch = store.table("time").read(ranges=[(None, None)], columns=["r:diaObjectId", "r:ra", "r:dec"],
                                     limit=sample, reverse=True)
    ids = [int(v) if v is not None else 0 for v in batch["r:diaObjectId"]] if batch.keys else []
    counts = Counter(i for i in ids if i)
    if not counts:
        return {}
    best = max(counts, key=lambda oid: (counts[oid], -ids.index(oid)))
    i = ids.index(best)
    return {"diaObjectId": best, "ra": float(batch["r:ra"][i]), "dec": float(batch["r:dec"][i])}
