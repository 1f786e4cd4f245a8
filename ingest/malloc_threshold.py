"""A fixed mmap threshold for the Rubin ingest's writer (issue 19: a first night's memory).

glibc's ``malloc`` serves a block of 128 KB or more with its own ``mmap``, returned to the
system when freed, but then raises that threshold to the size freed (up to 32 MB): every later
block of that size comes from the heap, whose freed pages stay resident when anything newer
sits above them. The writer's big blocks come and go by the unit: each unit arrives pickled
(~9 MB on a first night, ``ingest.prepare.run_unit``). Measured on a first night
(docs/benchmarks.md, "Rubin first night: the writer"), the writer's peak RSS was ~100 MB lower
with the threshold fixed at 1 MB. The workers keep glibc's moving threshold (set after they
are forked): fixed, theirs was ~25 MB lower each but cost them 2-5 % more CPU (numpy's
temporaries mapped and zeroed each time). An operator's own ``MALLOC_MMAP_THRESHOLD_`` is kept;
elsewhere than glibc, nothing changes.
"""
from __future__ import annotations

import ctypes
import os

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
THRESHOLD_BYTES = 1 << 20


def fix_mmap_threshold(size: int = THRESHOLD_BYTES) -> bool:
    """Blocks of ``size`` bytes or more from ``mmap``, always; True when set."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        return ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, int(size)) == 1
    except (OSError, AttributeError):
        return False
