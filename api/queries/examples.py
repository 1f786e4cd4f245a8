"""What the portal's example searches point at, read from the store itself (one short read
of the newest alerts), so that every example finds something on whatever store is served."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from store import Store

#: how many of the newest alerts the examples are chosen from
SAMPLE = 2000
NO_SSO = (None, "", "null", "None", "nan")
NO_CLASS = (None, "", "Unknown", "nan")
SOLAR_SYSTEM = ("Solar System MPC", "Solar System candidate")  # the asteroid example shows those
JD_2000 = 2451544.5  # 2000-01-01 00:00 UTC


def utc_date(jd: float) -> str:
    """YYYY-MM-DD: the UTC date of a Julian Date (the night an alert is filed under)."""
    return (dt.datetime(2000, 1, 1) + dt.timedelta(days=jd - JD_2000)).strftime("%Y-%m-%d")


def example_targets(store: Store, sample: int = SAMPLE) -> dict:
    """``{"objectId", "ra", "dec", "date", "class", "sso"}`` from the ``sample`` newest alerts
    of the time index: the object with the most of them (its newest position), the UTC date
    of the newest alert, their most frequent class other than Unknown (a solar-system class
    only when there is no other), and a solar-system object among them (else the first of
    the ssnamenr index). A key is absent when the store has nothing for it; the dict is
    empty for an empty store."""
    columns = ["i:objectId", "i:jd", "i:ra", "i:dec", "i:ssnamenr", "d:classification"]
    batch = store.table("jd").read(ranges=[(None, None)], columns=columns, limit=sample, reverse=True)
    if not batch.keys:
        return {}
    ids = list(batch["i:objectId"])
    counts = Counter(ids)
    best = max(counts, key=lambda oid: (counts[oid], -ids.index(oid)))  # the newest of the most frequent
    i = ids.index(best)
    out = {"objectId": best, "ra": float(batch["i:ra"][i]), "dec": float(batch["i:dec"][i]),
           "date": utc_date(float(batch["i:jd"][0]))}
    classes = Counter(c for c in batch["d:classification"] if c not in NO_CLASS)
    ranked = sorted(classes, key=lambda c: (c in SOLAR_SYSTEM, -classes[c]))
    if ranked:
        out["class"] = ranked[0]
    sso = next((s for s in batch["i:ssnamenr"] if s not in NO_SSO), None)
    if sso is None:
        first = next(store.table("ssnamenr").scan(columns=["i:ssnamenr"], limit=1), None)
        sso = first[1].get("i:ssnamenr") if first else None
    if sso not in NO_SSO:
        out["sso"] = str(sso)
    return out
