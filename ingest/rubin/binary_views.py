"""The values of an Arrow binary column as memoryviews into its data buffer: no copy.

Rubin's three stamps are ~115 KB an alert; ``to_pylist`` copied each into a Python ``bytes``
twice (to check it, then to pack the cutouts row). The stamp check (``science.stamps``) and
the store's packing (``store.codec``: the cutouts row's one ``bytes.join``) both take
memoryviews, so the bytes are copied once, into the packed row. A view keeps the Arrow buffer
alive; none leaves the worker (the packed rows are ``bytes``)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa


def binary_views(array) -> list | None:
    """``array``'s values as memoryviews (None where null); None when ``array`` is not a
    binary Arrow array (the caller then takes ``to_pylist``)."""
    if not isinstance(array, (pa.BinaryArray, pa.LargeBinaryArray)):
        return None
    n = len(array)
    _, offsets, data = array.buffers()
    width = np.int64 if isinstance(array, pa.LargeBinaryArray) else np.int32
    bounds = np.frombuffer(offsets, dtype=width, count=array.offset + n + 1)[array.offset:].tolist()
    view = memoryview(data).cast("B") if data is not None else memoryview(b"")  # Arrow exports signed chars
    valid = array.is_valid().to_numpy(zero_copy_only=False).tolist() if array.null_count else [True] * n
    return [view[bounds[i]:bounds[i + 1]] if valid[i] else None for i in range(n)]
