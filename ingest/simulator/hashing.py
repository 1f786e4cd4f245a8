"""Counter-based random numbers: the same keys give the same values in any process.

Quantities shared by objects simulated in different chunks (the zero point of
an exposure's quadrant, the depth of a reference image) must not depend on
which chunk computes them, so they come from a hash of their keys
(SplitMix64 finaliser) rather than from a sequential generator.
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def hash64(*keys) -> np.ndarray:
    """A 64-bit hash of integer keys (arrays broadcast together)."""
    with np.errstate(over="ignore"):
        h = np.uint64(0x243F6A8885A308D3)
        for k in keys:
            k = np.asarray(k).astype(np.int64).view(np.uint64) if np.ndim(k) else \
                np.uint64(np.int64(k).view(np.uint64))
            h = _mix(h ^ (k + _GOLDEN))
        return np.asarray(h)


def uniform(*keys) -> np.ndarray:
    """Uniform floats in [0, 1) keyed by integers."""
    return (hash64(*keys) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def normal(*keys) -> np.ndarray:
    """Standard normal floats keyed by integers (Box-Muller on two hashes)."""
    u1 = uniform(*keys, 1)
    u2 = uniform(*keys, 2)
    return np.sqrt(-2 * np.log1p(-u1)) * np.cos(2 * np.pi * u2)
