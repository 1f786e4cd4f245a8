"""The Dask cluster a distributed ingest runs on (``--cluster``): a running scheduler's address,
or ``local:N`` for a cluster of N worker processes on this machine, started and stopped here.

Workers on other machines need the repository importable (``PYTHONPATH=/path/to/nocturne dask
worker tcp://SCHEDULER:8786``, with the same Python environment) and the night's files at the
same path (a shared file system); see README.md, "A night across machines".
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

LOCAL = re.compile(r"^local:(\d+)$")
WORKER_MEMORY = "2GiB"  # a ZTF unit (~8 MB of packets) prepares in well under 1 GB


class ClusterError(ValueError):
    """The --cluster value is not an address or local:N, or the scheduler does not answer."""


def check(address: str) -> int | None:
    """N for ``local:N``, None for a scheduler's address; ClusterError for anything else."""
    local = LOCAL.match(address.strip())
    if local:
        n = int(local.group(1))
        if not 1 <= n <= 64:
            raise ClusterError(f"--cluster {address!r}: local:N needs 1 ≤ N ≤ 64")
        return n
    if "://" not in address:
        raise ClusterError(f"--cluster {address!r}: give the scheduler's address (tcp://HOST:8786) or local:N")
    return None


@contextmanager
def connect(address: str, timeout_s: float = 30) -> Iterator:
    """A ``distributed.Client`` on ``address`` (``tcp://HOST:PORT`` or ``local:N``)."""
    from distributed import Client, LocalCluster

    n = check(address)
    if n is not None:
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=WORKER_MEMORY,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address, timeout=timeout_s)
    except OSError as exc:
        raise ClusterError(f"no Dask scheduler answers at {address} within {timeout_s:.0f} s ({exc}); "
                           f"start one with `dask scheduler` and workers with `dask worker {address}`") from None
    with client:
        yield client
