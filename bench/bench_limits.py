"""What the shared rate limits and the sign-in cost: the time of one ``RateLimits.take``
(the SQLite window in ``<data_dir>/limits.sqlite3``) alone and with other processes taking at
the same moment, an API request with and without the limit, and a password check for a
known and an unknown user.

    python bench/bench_limits.py [--keys 5] [--procs 2] [--no-write-doc]
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.rate_limits import RateLimits  # noqa: E402
from bench.report import machine, publish, today  # noqa: E402


LIMIT = 600  # the default api_rate_limit, the largest window a key holds by default


def per_call_us(path: str, keys: int, prefix: str) -> tuple[float, float]:
    """Mean time of a take on keys filling up to LIMIT hits (accepted), then at LIMIT (refused)."""
    limits = RateLimits(path)
    limits.take("warm-up", 1)
    below = at = 0.0
    for k in range(keys):
        t0 = time.perf_counter()
        for _ in range(LIMIT):
            assert limits.take(f"{prefix}{k}", LIMIT) == 0
        t1 = time.perf_counter()
        for _ in range(LIMIT):
            assert limits.take(f"{prefix}{k}", LIMIT) > 0
        below, at = below + t1 - t0, at + time.perf_counter() - t1
    return below / (keys * LIMIT) * 1e6, at / (keys * LIMIT) * 1e6


def _worker(args) -> float:
    path, keys, prefix = args
    return per_call_us(path, keys, prefix)[0]


def request_ms(data_dir: Path, limit: int, n: int) -> float:
    from api import create_api_app
    from settings import Config
    from store import open_store
    cfg = Config().replace(data_dir=data_dir, api_rate_limit=limit)
    open_store(cfg, create=True).close()
    client = create_api_app(cfg).test_client()
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        client.get("/api/v1/classes", environ_base={"REMOTE_ADDR": f"10.0.{i % 200}.1"})
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def sign_in_ms(data_dir: Path, repeats: int) -> tuple[float, float]:
    from api import auth
    from settings import Config
    from store import open_store
    with open_store(Config().replace(data_dir=data_dir), create=True) as store:
        auth.add_user(store, "ada", password="analytical engine")
        auth.password_identity(store, "warm-up", "a wrong password")

        def timed(user):
            t0 = time.perf_counter()
            auth.password_identity(store, user, "a wrong password")
            return (time.perf_counter() - t0) * 1e3
        return (statistics.median(timed("ada") for _ in range(repeats)),
                statistics.median(timed("nobody") for _ in range(repeats)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--keys", type=int, default=5, help=f"keys filled to {LIMIT} hits, then refused {LIMIT} times")
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--no-write-doc", action="store_true")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "limits.sqlite3")
        below, at = per_call_us(path, args.keys, "api|alone")
        with multiprocessing.get_context("fork").Pool(args.procs) as pool:
            shared = pool.map(_worker, [(path, args.keys, f"api|p{i}.") for i in range(args.procs)])
        off = request_ms(Path(tmp) / "off", 0, 400)
        on = request_ms(Path(tmp) / "on", 600, 400)
        known, unknown = sign_in_ms(Path(tmp) / "users", 15)
    text = f"""### Rate limits and sign-in

{today()}, {machine()}; `python bench/bench_limits.py --keys {args.keys} --procs {args.procs}`.

| measure | time |
|---|---|
| one `take` while the key fills up to {LIMIT} hits (accepted; mean over {args.keys * LIMIT}) | {below:.0f} µs |
| one `take` on a key holding its {LIMIT} hits (refused; mean over {args.keys * LIMIT}) | {at:.0f} µs |
| one `take` while the key fills, {args.procs} processes taking at once (mean) | {statistics.mean(shared):.0f} µs |
| `GET /api/v1/classes` in-process, limit off / on (median of 400) | {off:.2f} / {on:.2f} ms |
| password check, existing user / unknown user (median of 15) | {known:.1f} / {unknown:.1f} ms |
"""
    publish("limits", text, write=not args.no_write_doc)


if __name__ == "__main__":
    main()
