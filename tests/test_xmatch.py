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
        assert all(same(f, s) for f, s in zip(sorted(fast, key=key), sorted(slow, key=key)))


def same(a: dict, b: dict) -> bool:
    """Equal cells, NaN equal to NaN, separations to 1e-12 degree."""
    if set(a) != set(b):
        return False
    for k in a:
        x, y = a[k], b[k]
        if k == "v:separation_degree":
            if abs(x - y) > 1e-12:
                return False
        elif not (x == y or (isinstance(x, float) and isinstance(y, float) and np.isnan(x) and np.isnan(y))):
            return False
    return True


def test_each_match_carries_the_cells_of_the_latest_alert_even_when_read_last_but_one(store):
    """An object's newest alert lies in a lower-numbered pixel than an older one, so it is
    read first: the match must still carry the newest alert's cells (its class too)."""
    from store.sky import pixels
    pixel = store.table("pixel")
    rng = np.random.default_rng(5)
    ra0, dec0 = 200.0, 45.0
    ra = ra0 + rng.uniform(-6, 6, 4000) / 3600
    dec = dec0 + rng.uniform(-6, 6, 4000) / 3600
    pix = pixels(ra, dec, store.schema.pixel_order)
    low = int(pix.min())
    i_new = int(np.flatnonzero(pix == low)[0])
    i_old = int(np.flatnonzero(pix > low)[0])
    src_ra, src_dec = (ra[i_new] + ra[i_old]) / 2, (dec[i_new] + dec[i_old]) / 2
    with pixel.batch() as b:
        for i, jd, label in ((i_new, 2460300.5, "SN candidate"), (i_old, 2460100.5, "Unknown")):
            b.put(pixel.keys.build(int(pix[i]), jd, "ZTF99zzzzzzz", int(jd * 10)),
                  {"i:objectId": "ZTF99zzzzzzz", "i:ra": float(ra[i]), "i:dec": float(dec[i]), "i:jd": jd,
                   "i:candid": int(jd * 10), "d:classification": label})
    sources = pd.DataFrame({"ra": [src_ra, 10.0], "dec": [src_dec, 10.0], "id": ["a", "b"]})
    radius = float(np.degrees(np.hypot(np.radians(ra[i_new] - ra[i_old]) * np.cos(np.radians(dec0)),
                                       np.radians(dec[i_new] - dec[i_old])))) * 0.6 + 0.1 / 3600
    assert radius * 3600 <= 5.0
    fast = _xmatch_by_pixels(store, sources, radius, None)
    slow = _xmatch_by_cones(store, sources, radius, None)
    assert [(m["i:jd"], m["d:classification"]) for m in fast] == [(2460300.5, "SN candidate")]
    assert same(fast[0], slow[0])
