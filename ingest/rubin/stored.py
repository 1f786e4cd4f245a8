"""The history keys the store holds for a unit's objects, matched on numbers (issue 19).

On a later night most of an alert's previous and forced sources are stored already; their
keys (``[salt_]diaObjectId_midpointMjdTai_id``) are read once per object and unit
(``RubinPreparer.stored_keys``). Instead of formatting every row's key to look it up, the
stored keys are parsed once into numbers (``RowKey.numeric_columns``: each id, the MJD as
the integer its key digits make) and a row's ``(object, MJD, id)`` is compared with them
(:func:`store.keys.mjd_units` rounds the MJD as the key's f-string does), so
only the rows the store lacks get a key. Two keys are equal exactly when their numbers are,
so the rows left out are those the string comparison would leave out; a row whose values
are no key's (negative, NaN: the key path refuses it with its reason) is never matched, and
the key strings stay the check of every row a number did not match (:meth:`__contains__`).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from store.keys import mjd_units


class StoredKeys:
    def __init__(self, keys, row_key):
        """``keys``: a list of key strings or an Arrow string array (``Records.key_array``)."""
        self.keys, self.row_key = keys, row_key
        self._set: set | None = None
        self._ids = None         # the stored keys' last part (an id), sorted, when each is unique
        self._parts = None       # the other parts' numbers, in the ids' order
        parts = row_key.numeric_columns(keys) if len(keys) else None
        if parts is not None:
            order = np.argsort(parts[-1])
            ids = parts[-1][order]
            if not np.any(ids[1:] == ids[:-1]):  # (each source id once: a key's id tells it apart)
                self._ids, self._parts = ids, [p[order] for p in parts[:-1]]

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key) -> bool:
        if self._set is None:
            self._set = set(self.keys.to_pylist() if isinstance(self.keys, pa.Array) else self.keys)
        return key in self._set

    def held(self, *columns) -> tuple[np.ndarray, np.ndarray] | None:
        """Per row, whether the store holds its key, and whether the numbers tell (False for
        a value no key part takes, e.g. ``-0.0``: compare its key string), the parts given as
        columns in the key's order (numpy: integer ids, float MJDs); None when the stored keys
        cannot be compared as numbers (then compare the key strings)."""
        if self._ids is None:
            return None
        numbers, valid = [], np.ones(len(columns[0]), dtype=bool)
        for part, column in zip(self.row_key.parts, columns):
            column = np.asarray(column)
            if part.kind == "mjd":
                units = mjd_units(column)
                valid &= units >= 0
                numbers.append(units)
            elif column.dtype.kind == "i":
                valid &= column >= 0
                numbers.append(column.astype(np.uint64))
            elif column.dtype.kind == "u":
                numbers.append(column.astype(np.uint64))
            else:
                return None
        mine = numbers[-1]
        order = np.argsort(mine)  # (sorted needles: searchsorted walks the ids once, ~2x faster)
        at = np.empty(len(mine), dtype=np.intp)
        at[order] = np.searchsorted(self._ids, mine[order])
        np.minimum(at, len(self._ids) - 1, out=at)
        hit = valid & (self._ids[at] == mine)
        where = at[hit]
        ok = np.ones(len(where), dtype=bool)
        for stored, mine in zip(self._parts, numbers[:-1]):
            ok &= stored[where] == mine[hit]
        hit[np.flatnonzero(hit)[~ok]] = False
        return hit, valid
