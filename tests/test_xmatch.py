"""The one-pass cross-match gives exactly what one cone per source gives."""
import numpy as np
import pandas as pd
import pytest

from api.queries.cone import _xmatch_by_cones, _xmatch_by_pixels
from conftest import shared_data
from realdata import source_alerts


@pytest.fixture(scope="module")
def store(module_config):
    from ingest.night import ingest
    from store import open_store
    ingest(shared_data() / "ztf-night-2023-10-18", module_config, show_progress=False)
    with open_store(module_config) as s:
        yield s


def test_one_pass_equals_a_cone_per_source(store):
    alerts = list(source_alerts())[:561]
    rng = np.random.default_rng(3)
    ra = np.r_[[a["candidate"]["ra"] + rng.uniform(-1, 1) / 3600 for a in alerts], rng.uniform(0, 360, 300)]
    dec = np.r_[[a["candidate"]["dec"] + rng.uniform(-1, 1) / 3600 for a in alerts], rng.uniform(-30, 80, 300)]
    jd = np.r_[[a["candidate"]["jd"] for a in alerts], np.full(300, 2460000.5)]
    sources = pd.DataFrame({"ra": ra, "dec": dec, "id": [f"s{i}" for i in range(len(ra))], "time": jd})
    key = lambda c: (c["id_in"], c["i:objectId"], c["i:candid"], round(c["v:separation_degree"], 12))  # noqa: E731
    for radius, window in ((1.5, None), (4.0, None), (2.0, 0.01)):
        fast = _xmatch_by_pixels(store, sources, radius / 3600, window)
        slow = _xmatch_by_cones(store, sources, radius / 3600, window)
        assert sorted(map(key, fast)) == sorted(map(key, slow))
        assert len(fast) > 400
        assert all(set(f) == set(s) for f, s in zip(sorted(fast, key=key), sorted(slow, key=key)))
