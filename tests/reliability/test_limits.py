"""Limits that protect the service: a rate limit per client and a time budget per query."""
import time

import numpy as np

from api import create_api_app
from conftest import make_config
from store import open_store


def _app(tmp_path, **changes):
    cfg = make_config("embedded", tmp_path).replace(**changes)
    open_store(cfg, create=True).close()
    return cfg, create_api_app(cfg).test_client()


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    _, client = _app(tmp_path, api_rate_limit=5)
    codes = [client.get("/api/v1/classes").status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
    r = client.get("/api/v1/classes")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.get_json()["status"] == "error" and "too many requests" in r.get_json()["message"]
    other = client.get("/api/v1/classes", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200  # the limit is per client


def test_rate_limit_is_off_when_zero(tmp_path):
    _, client = _app(tmp_path, api_rate_limit=0)
    assert {client.get("/api/v1/classes").status_code for _ in range(50)} == {200}


def test_a_query_over_its_time_budget_gets_advice_not_a_busy_worker(tmp_path):
    # The shortest budget (0.1 s) against a 1° cone over 400,000 alerts: the query reads and
    # measures every one of them (about 1 s on this machine kind), so it must stop early.
    cfg, client = _app(tmp_path, query_time_budget_s=0.1)
    rng = np.random.default_rng(1)
    n = 400_000
    with open_store(cfg) as store:  # n alerts within a degree of (150, 30)
        pixel = store.table("pixel")
        from store.sky import pixels
        ra, dec = 150 + rng.uniform(-1, 1, n), 30 + rng.uniform(-1, 1, n)
        with pixel.batch(5000) as b:
            for i, (r, d, p) in enumerate(zip(ra, dec, pixels(ra, dec, store.schema.pixel_order).tolist())):
                b.put(pixel.keys.build(p, 2460000.5 + i * 1e-5, f"ZTF25{i:07d}", i),
                      {"i:objectId": f"ZTF25{i:07d}", "i:ra": float(r), "i:dec": float(d), "i:jd": 2460000.5,
                       "i:candid": i})
    t0 = time.monotonic()
    r = client.get("/api/v1/conesearch", query_string={"ra": 150, "dec": 30, "radius": 3600, "n": 10})
    elapsed = time.monotonic() - t0
    assert r.status_code == 422, r.data[:200]
    assert "narrow the cone" in r.get_json()["message"]
    assert elapsed < 0.1 + 1.0, f"the budget did not stop the query ({elapsed:.2f} s)"
    # the same cone completes under the default budget, and a small one under a short budget
    full = create_api_app(cfg.replace(query_time_budget_s=60)).test_client()
    big = full.get("/api/v1/conesearch", query_string={"ra": 150, "dec": 30, "radius": 3600, "n": 10,
                                                         "columns": "i:objectId"})
    assert big.status_code == 200 and len(big.get_json()) == 10
    short = create_api_app(cfg.replace(query_time_budget_s=0.5)).test_client()
    small = short.get("/api/v1/conesearch", query_string={"ra": 150, "dec": 30, "radius": 5,
                                                          "columns": "i:objectId"})
    assert small.status_code == 200


def test_the_window_slides_and_is_shared_by_every_holder_of_the_file(tmp_path):
    from api.rate_limits import RateLimits
    one, other = RateLimits(tmp_path / "limits.sqlite3"), RateLimits(tmp_path / "limits.sqlite3")
    assert [one.take("k", 3, now=t) for t in (0.0, 1.0)] == [0, 0]
    assert other.take("k", 3, now=2.0) == 0          # another connection to the file: the same count
    assert one.take("k", 3, now=3.0) == 57.0          # until the hit of t=0 leaves the window
    assert other.take("k", 3, now=59.9) > 0
    assert other.take("k", 3, now=60.0) == 0 and one.take("k", 3, now=60.5) > 0
    assert one.take("another key", 3, now=60.5) == 0
    assert (tmp_path / "limits.sqlite3").stat().st_mode & 0o077 == 0  # private to the server's user


def test_a_limits_file_that_cannot_be_written_falls_back_to_the_process(tmp_path):
    from api.rate_limits import RateLimits
    blocked = tmp_path / "a file"
    blocked.write_text("not a directory")
    limits = RateLimits(blocked / "limits.sqlite3")
    assert [limits.take("k", 2, now=t) for t in (0.0, 1.0)] == [0, 0]
    assert limits.take("k", 2, now=2.0) == 58.0
