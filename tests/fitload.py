"""Synthetic variable stars written straight into a store, for the fit budget tests."""
from __future__ import annotations

import numpy as np


def put_variable_star(store, object_id: str, n: int, days: float, seed: int = 1, period: float = 0.57) -> None:
    """``n`` alerts of a sinusoidal variable (g and r alternating) over ``days`` days."""
    rng = np.random.default_rng(seed)
    jd = np.sort(2460200.5 + rng.uniform(0, days, n))
    fid = np.where(np.arange(n) % 2 == 0, 1, 2)
    mag = 18.0 + 0.3 * np.sin(2 * np.pi * jd / period) + rng.normal(0, 0.05, n)
    main = store.table("main")
    with main.batch(500) as b:
        for i in range(n):
            candid = seed * 100_000 + i
            b.put(main.keys.build(object_id, float(jd[i]), candid),
                  {"i:objectId": object_id, "i:jd": float(jd[i]), "i:candid": candid, "i:fid": int(fid[i]),
                   "i:magpsf": float(mag[i]), "i:sigmapsf": 0.05, "i:isdiffpos": "t"})
