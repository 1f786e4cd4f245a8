"""Limits that protect the service: a rate limit per client and a time budget per query."""
import numpy as np

from api import create_api_app
from api.queries.budget import budget_clock
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


class RowClock:
    """A clock that stands still except when rows are read: each costs ``per_row`` seconds.
    A query's time is then the work it does, whatever the machine's speed."""

    def __init__(self, per_row: float):
        self.now, self.per_row = 0.0, per_row

    def __call__(self) -> float:
        return self.now


class MeteredTable:
    """A table whose reads (the store's one read primitive) advance the clock by the rows
    they read, then call ``on_batch`` (the query's budget check) as the store does after
    each batch."""

    def __init__(self, table, clock: RowClock):
        self._table, self._clock = table, clock

    def __getattr__(self, name):
        return getattr(self._table, name)

    def read(self, *args, on_batch=None, **kwargs):
        batch = self._table.read(*args, **kwargs)
        self._clock.now += self._clock.per_row * len(batch.raw_keys)
        if on_batch is not None:
            on_batch()
        return batch


class MeteredStore:
    def __init__(self, store, clock: RowClock):
        self._store, self._clock = store, clock

    def __getattr__(self, name):
        return getattr(self._store, name)

    def table(self, name: str) -> MeteredTable:
        return MeteredTable(self._store.table(name), self._clock)


def test_a_query_over_its_time_budget_gets_advice_not_a_busy_worker(tmp_path):
    # 2,000 alerts within a degree of (150, 30), each read costing 1 ms of the budget's clock:
    # a 1° cone costs 2 s, a 5" one a few ms, on any machine.
    cfg = make_config("embedded", tmp_path)
    rng = np.random.default_rng(1)
    n = 2_000
    with open_store(cfg, create=True) as store:
        pixel = store.table("pixel")
        from store.sky import pixels
        ra, dec = 150 + rng.uniform(-1, 1, n), 30 + rng.uniform(-1, 1, n)
        sky = store.table("objects_sky")  # as the ingest writes them: the alert index and the object-level one
        with pixel.batch(5000) as b, sky.batch(5000) as o:
            for i, (r, d, p) in enumerate(zip(ra, dec, pixels(ra, dec, store.schema.pixel_order).tolist())):
                cells = {"i:objectId": f"ZTF25{i:07d}", "i:ra": float(r), "i:dec": float(d), "i:jd": 2460000.5,
                         "i:candid": i}
                b.put(pixel.keys.build(p, 2460000.5 + i * 1e-5, f"ZTF25{i:07d}", i), cells)
                o.put(sky.keys.build(p, f"ZTF25{i:07d}"), cells)
    clock = RowClock(per_row=1e-3)
    reader = open_store(cfg)

    def cone(budget_s, radius, **more):
        app = create_api_app(cfg.replace(query_time_budget_s=budget_s))
        app.extensions["nocturne_store"] = MeteredStore(reader, clock)
        clock.now = 0.0
        with budget_clock(clock):
            r = app.test_client().get("/api/v1/conesearch", query_string={"ra": 150, "dec": 30, "radius": radius,
                                                                          "columns": "i:objectId", **more})
        return r, clock.now

    # the shortest budget (0.1 s) against the 1° cone: stopped, with advice
    r, spent = cone(0.1, 3600, n=10)
    assert r.status_code == 422, r.data[:200]
    message = r.get_json()["message"]
    assert "needs more than its 0.1 s budget" in message and "narrow the cone" in message
    assert spent > 0.1  # (the read went over the budget: the stop is the budget's, not an accident)
    # the same cone completes under a long budget, and a small cone under the short one
    big, spent = cone(60, 3600, n=10)
    assert big.status_code == 200 and len(big.get_json()) == 10
    assert 0.1 < spent < 60
    small, spent = cone(0.1, 5)
    assert small.status_code == 200 and spent < 0.1
    reader.close()


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


def test_workers_opening_a_new_limits_file_at_once_both_keep_it_shared(tmp_path):
    """Two gunicorn workers take their first hit at once on a new file: both must count in it
    (the loser of the race to switch it to WAL used to fall back to limits per process, so a
    client got twice the limit). 100 fresh files, two processes each."""
    import os

    from api.rate_limits import RateLimits
    fell_back, full = 0, 0
    for trial in range(100):
        path = tmp_path / f"{trial}" / "limits.sqlite3"
        children = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child reports by its exit code
                limits = RateLimits(path)
                for i in range(5):
                    limits.take("k", 1000, now=float(i))
                os._exit(1 if limits.fallback is not None else 0)
            children.append(pid)
        for pid in children:
            fell_back += os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        full += RateLimits(path).take("k", 10, now=5.0) > 0  # both children's 10 hits are in the file
    assert fell_back == 0 and full == 100
