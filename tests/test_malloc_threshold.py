"""The ingest's fixed mmap threshold (ingest.malloc_threshold): a big block freed and made
again is still mapped apart (returned to the system when freed), where glibc's moving
threshold would have served it from the heap."""
from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

PROBE = """
import ctypes, sys
from ingest.malloc_threshold import fix_mmap_threshold
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
fixed = fix_mmap_threshold() if sys.argv[1] == "fixed" else False
block = bytearray(4 << 20)
del block
block = bytearray(4 << 20)  # after the free, glibc's own threshold would be 4 MB: from the heap
print(int(fixed), libc.mallinfo2().hblkhd)
"""


def _probe(mode: str, **env) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path), **env}).stdout.split()
    return int(out[0]), int(out[1])


def _glibc_with_mallinfo2() -> bool:
    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2")
    except OSError:
        return False


@pytest.mark.skipif(not _glibc_with_mallinfo2(), reason="glibc >= 2.33 only")
def test_a_big_block_made_again_is_still_mapped_apart():
    fixed, mapped = _probe("fixed")
    assert fixed == 1 and mapped >= 4 << 20
    fixed, mapped = _probe("default")  # glibc's moving threshold: the same block from the heap
    assert fixed == 0 and mapped < 4 << 20


@pytest.mark.skipif(not _glibc_with_mallinfo2(), reason="glibc >= 2.33 only")
def test_an_operators_own_threshold_is_kept():
    fixed, _ = _probe("fixed", MALLOC_MMAP_THRESHOLD_="65536")
    assert fixed == 0
