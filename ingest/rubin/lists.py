"""The previous sources and forced sources of a unit's alerts, column-wise.

An alert carries hundreds of them (``prvDiaSources``, ``prvDiaForcedSources``), so they are
most of what a Rubin night writes. Instead of a dict and a ``struct.pack`` per row, each list
field of every packet of a unit is gathered into one Arrow array per shape (Parquet gives the
arrays; Avro's lists of dicts are converted packet by packet, so that two writer schemas in
one unit never mix a field's types), then filtered, keyed, deduplicated and
encoded as columns (``RowKey.build_columns``, ``Table.encode_columns``). The rows are those
:meth:`ingest.rubin.rows.RubinRowBuilder.list_rows` gives one by one, which stays the path for
a packet whose lists Arrow cannot hold.

Every row's values are checked (``Table.check_columns``), so a packet with a value out of
type is refused whether or not its rows repeat earlier ones; then deduplication keeps what
the writer would send, before encoding: a row goes when its key is first met in input
order (the alert's own source comes before its previous sources; a key sent by one of this
worker's last ``WORKER_SEEN_UNITS`` units is not sent again: older ones are in the store by
then, or the writer drops them). The writer still checks every key, so rows dropped here are
only rows it would have dropped.

Before its key is even built, a row whose key the store already holds is left out
(``stored``: the keys of the unit's objects in the row's table, one key-only range read per
object, compared on numbers: ``ingest.rubin.stored``; the key strings check the rest after
the dedupe): in a nightly stream an alert's previous and forced sources were nearly all
stored by its object's earlier alerts, on earlier nights. A stored row is whole (a row is one put,
committed with its batch), and its cells are those a rerun would write (keys and values are
deterministic), so leaving it out changes nothing stored: the ingest stays idempotent and a
run killed mid-night resumes by skipping what it had committed. ``rewrite_history`` (the
ingest's ``--rewrite-history``) turns the read off, for a re-delivery whose history rows
carry changed values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..sent_keys import SentKeys
from .py_values import py_values
from .stored import StoredKeys

# This worker's units whose keys are remembered exactly (issue 19: a set of every key sent,
# up to 500 k, was ~150 MB a worker on a whole night). An older unit's rows are committed by
# the time this worker reads the store for a later unit (at most 2 x workers units wait for
# the writer), so the stored-key read skips them; if not, the writer drops them.
WORKER_SEEN_UNITS = 4


class MalformedList(ValueError):
    """A list whose items the row-by-row path cannot read (the packet is malformed)."""


@dataclass(frozen=True)
class ListField:
    field: str            # the packet's list field
    table: str            # the table its rows go to
    id_name: str          # the row's own id (the key's last part)
    own: bool             # skip the row that is the alert's own source


FIELDS = (ListField("prvDiaSources", "sources", "diaSourceId", True),
          ListField("prvDiaForcedSources", "fp", "diaForcedSourceId", False))


@dataclass
class Owner:
    """What a list row needs of the packet carrying it."""
    items: object          # a pyarrow StructArray, a list of dicts, or None
    record: dict           # the packet (for the row-by-row path)
    object_id: int
    source_id: int
    own_key: str | None    # the alert's own sources-row key (previous sources: not sent again)
    place: tuple | None = None  # (Arrow list column, row) ``items`` is the slice of, when it is one


def arrow_columns(struct: pa.StructArray, names) -> dict:
    """``r:<name>`` -> ``(values, present)`` for each of ``names`` the struct has: numpy values
    for numbers and booleans (nulls filled, ``present`` False there), lists otherwise."""
    out = {}
    index = {f.name: i for i, f in enumerate(struct.type)}
    for name in names:
        i = index.get(name)
        if i is None:
            continue
        array = struct.field(i)
        kind = array.type
        if pa.types.is_null(kind):
            continue
        present = array.is_valid().to_numpy(zero_copy_only=False)
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            values = array.fill_null(0).to_numpy(zero_copy_only=False)
        elif pa.types.is_boolean(kind):
            values = array.fill_null(False).to_numpy(zero_copy_only=False)
        else:
            values = py_values(array)
        out[f"r:{name}"] = (values, present)
    return out


_FITS = {  # store type -> Arrow types whose every value it takes (struct.pack, str/bytes encoders)
    "int64": (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32()),
    "int32": (pa.int8(), pa.int16(), pa.int32(), pa.uint8(), pa.uint16()),
    "float64": (pa.float32(), pa.float64(), pa.int8(), pa.int16(), pa.int32(), pa.int64()),
    "float32": (pa.float32(), pa.int8(), pa.int16(), pa.int32(), pa.int64()),
    "bool": (pa.bool_(),),
    "string": (pa.string(), pa.large_string()),
    "bytes": (pa.binary(), pa.large_binary()),
}


def _always_fits(arrow_type: pa.DataType, column_type: str) -> bool:
    return pa.types.is_null(arrow_type) or arrow_type in _FITS.get(column_type, ())


class ListRows:
    """Rows of one list field for the packets of a unit, in one worker."""

    def __init__(self, spec: ListField, table, columns: list, builder, stored=None):
        """``stored``: (table name, object ids) -> the keys the store holds in that table for
        those objects (None: every row is sent, as for ``--rewrite-history``)."""
        self.spec, self.table, self.columns, self.builder = spec, table, columns, builder
        self.stored = stored
        self.types = {f"{f}:{q}": c.type for f, fam in table.layout.spec.families.items()
                      for q, c in fam.columns.items()}
        self._checks: dict = {}   # (struct type, field) -> whether its values need a check
        self.seen = SentKeys(WORKER_SEEN_UNITS)  # exact keys of this worker's last units
        self.skipped = 0   # rows left out because the store held their keys (before the dedupe, when matched on numbers)

    def rows(self, owners: list[Owner]) -> tuple[list[list], dict]:
        """For each owner, its ``(key, payload)`` rows to send; and owner index -> the error
        that refuses its packet (a value out of its column's type, a key that cannot be)."""
        spec = self.spec
        errors: dict = {}
        parts = []   # (owner per row, key per row, gathered array or None, its rows or their payloads)
        decided = []  # per part, per row: the numbers told it is not stored (no string check)
        slow = []
        known = self._known(owners)
        for kind, members in self._gather(owners):
            if kind is None:
                slow.extend(members)
                continue
            struct, owner = members
            got = self._keys(struct, owner, owners, known)
            if got is None:
                slow.extend(dict.fromkeys(owner.tolist()))
                continue
            rows, keys, key_errors, every, fresh = got
            for r, exc in key_errors.items():
                errors.setdefault(int(owner[rows[r]]), exc)
            # every row is checked, also those deduplicated below: a packet is refused for a
            # bad value whether or not its row was sent before (as when each row was encoded);
            # a column whose Arrow type always fits its store type needs no look at its values
            # (``every``: also the rows the store holds, left out before their keys were built)
            doubtful = [q for q in self.columns if self._doubtful(struct.type, q)]
            checked = self.table.check_columns(arrow_columns(struct.take(pa.array(every)), doubtful), len(every)) \
                if doubtful and len(every) else {}
            for r, exc in checked.items():
                errors.setdefault(int(owner[every[r]]), exc)
            parts.append((owner[rows], keys, struct, rows))
            decided.append(fresh)
        for o in sorted(set(slow)):
            try:
                items = self.builder.list_rows(owners[o].record, spec.field, owners[o].object_id, owners[o].source_id)
            except (TypeError, ValueError, KeyError, AttributeError) as exc:  # e.g. an item that is no record
                errors[o] = MalformedList(f"{type(exc).__name__}: {exc}")
                continue
            try:
                built = [(self.table.keys.build(oid, mjd, sid), self.table.encode(cells)) for oid, mjd, sid, cells in items]
            except (ValueError, TypeError) as exc:
                errors[o] = exc
                continue
            parts.append((np.full(len(built), o, dtype=np.int64), [k for k, _ in built], None, [p for _, p in built]))
            decided.append(np.zeros(len(built), dtype=bool))
        if not parts:
            return [[] for _ in owners], errors
        # every row in input order: by packet (a packet's list is one part), then its position
        owner = np.concatenate([p[0] for p in parts]).astype(np.int64)
        part = np.repeat(np.arange(len(parts)), [len(p[1]) for p in parts])
        where = np.concatenate([np.arange(len(p[1])) for p in parts])
        keys = [k for p in parts for k in p[1]]
        order = np.argsort(owner, kind="stable")
        owner, part, where = owner[order], part[order], where[order]
        keys = [keys[i] for i in order.tolist()]
        keep = self._first(owners, owner, keys, errors)
        keep &= self._not_stored(known, keys, keep & ~np.concatenate(decided)[order])
        owner, part, where = owner[keep], part[keep], where[keep]
        keys = [k for k, ok in zip(keys, keep.tolist()) if ok]
        payloads: list = [None] * len(keys)
        for j, (_, _, struct, rows) in enumerate(parts):
            mine = np.flatnonzero(part == j)
            if not len(mine):
                continue
            if struct is None:  # encoded one by one already
                for i, w in zip(mine.tolist(), where[mine].tolist()):
                    payloads[i] = rows[w]
                continue
            picked = rows[where[mine]]
            got, refused = self.table.encode_columns(arrow_columns(struct.take(pa.array(picked)), self.columns),
                                                     len(picked))
            for i, payload in zip(mine.tolist(), got):
                payloads[i] = payload
            for i, exc in refused.items():
                errors.setdefault(int(owner[mine[i]]), exc)
        pairs = list(zip(keys, payloads))
        bounds = np.searchsorted(owner, np.arange(len(owners) + 1)).tolist()
        return [pairs[bounds[o]:bounds[o + 1]] for o in range(len(owners))], errors

    def _doubtful(self, kind: pa.StructType, name: str) -> bool:
        """Whether a value of field ``name`` of ``kind`` may not fit its column (False for a
        type the column always takes, e.g. int32 into int64, string into string)."""
        got = self._checks.get((kind, name))
        if got is None:
            i = kind.get_field_index(name)
            column = self.types.get(f"r:{name}")
            got = self._checks[(kind, name)] = i >= 0 and column is not None \
                and not _always_fits(kind.field(i).type, column)
        return got

    def _first(self, owners, owner: np.ndarray, keys: list, errors: dict) -> np.ndarray:
        """Which rows (in input order) to send: a key met for the first time in this unit, not
        sent by an earlier unit of this worker, not the own source of this packet or an earlier
        one; rows of refused packets are left out (their keys hide nothing)."""
        n = len(keys)
        keep = np.ones(n, dtype=bool)
        if errors:
            keep &= ~np.isin(owner, np.array(sorted(errors), dtype=np.int64))
        keep &= np.array([k is not None for k in keys], dtype=bool)
        if self.seen.recent:
            keep &= ~self.seen.sent(keys)
        if self.spec.own:  # a packet's own source hides its copies in this and later packets
            own: dict = {}
            for o, item in enumerate(owners):
                if item.own_key is not None and o not in errors:
                    own.setdefault(item.own_key, o)
            if own:
                late = len(owners)
                keep &= np.array([own.get(k, late) > o for k, o in zip(keys, owner.tolist())], dtype=bool)
        rows = np.flatnonzero(keep).tolist()
        # each key's first kept row: filled from the end, an earlier row overwrites a later one
        # (a dict, not pandas: the ingest does not import pandas, issue 19's memory)
        first = dict(zip([keys[i] for i in reversed(rows)], reversed(rows)))
        keep[:] = False
        keep[np.fromiter(first.values(), dtype=np.int64, count=len(first))] = True
        return keep

    def _known(self, owners) -> StoredKeys | None:
        """The keys the store holds in this table for the owners' objects (None: not read)."""
        if self.stored is None:
            return None
        known = self.stored(self.spec.table, sorted({o.object_id for o in owners if o.object_id}))
        if not isinstance(known, (list, pa.Array)):
            known = list(known)
        return StoredKeys(known, self.table.keys) if len(known) else None

    def _not_stored(self, known: StoredKeys | None, keys: list, ask: np.ndarray) -> np.ndarray | bool:
        """False for the rows (of ``ask``: those the numbers did not tell, ``_keys``) whose key
        the store already holds."""
        if known is None or not ask.any():
            return True
        fresh = np.ones(len(keys), dtype=bool)
        asked = np.flatnonzero(ask)
        fresh[asked] = [keys[i] not in known for i in asked.tolist()]
        self.skipped += int(len(asked) - fresh[asked].sum())
        return fresh

    def commit(self, owners: list[Owner], kept: list[list]) -> None:
        """Remember the keys of a unit whose packets are all accepted."""
        keys = [key for rows in kept for key, _ in rows]
        if self.spec.own:
            keys += [o.own_key for o in owners if o.own_key is not None and o.own_key not in self.seen]
        self.seen.add(keys)
        self.seen.end_unit()

    def _gather(self, owners):
        """``(type, (struct, owner index per row))`` per shape of the owners' lists, in order of
        first appearance; ``(None, [owner...])`` for lists Arrow cannot hold. Lists that lie end
        to end in one list column (``Owner.place``: consecutive packets of a Parquet batch) are
        taken as one slice of its values, not copied together (``concat_arrays`` of a unit's
        ~1,000 slices of 98-field structs was a tenth of a worker's list time)."""
        arrays: dict = {}
        slow = []
        last, pieces = None, None   # the previous list's type (a StructType's hash walks its fields; == is cheap)
        run = None                  # [values, first, end, owners, lengths, first slice]: slices end to end
        bounds: dict = {}           # id(column) -> (column, its offsets, values, values' offset): kept alive with its id

        def flush():
            values, lo, hi, run_owners, lengths, first = run
            pieces.append((run_owners, lengths, values.slice(lo, hi - lo) if len(run_owners) > 1 else first))

        for o, owner in enumerate(owners):
            items = owner.items
            if not isinstance(items, pa.Array):
                if not items:
                    continue
                try:  # a packet's own list: one writer schema, so each field has one type
                    items = pa.array(items)
                except (pa.ArrowException, TypeError, ValueError, OverflowError):
                    items = None
                if items is None or not pa.types.is_struct(items.type):
                    slow.append(o)
                    continue
            n = len(items)
            if not n:
                continue
            kind = items.type
            if last is None or kind != last:
                if run is not None:
                    flush()
                    run = None
                last, pieces = kind, arrays.setdefault(kind, [])
            place = _place(owner.place, items, n, bounds)
            if run is not None and place is not None and place[0] is run[0] and place[1] == run[2]:
                run[2] = place[2]
                run[3].append(o)
                run[4].append(n)
                continue
            if run is not None:
                flush()
            if place is None:
                run = None
                pieces.append(([o], [n], items))
            else:
                run = [place[0], place[1], place[2], [o], [n], items]
        if run is not None:
            flush()
        if slow:
            yield None, slow
        for kind, pieces in arrays.items():
            struct = pieces[0][2] if len(pieces) == 1 else pa.concat_arrays([a for _, _, a in pieces])
            owner = np.repeat(np.array([o for p in pieces for o in p[0]]), [n for p in pieces for n in p[1]])
            yield kind, (struct, owner)

    def _keys(self, struct: pa.StructArray, owner: np.ndarray, owners: list[Owner], known: StoredKeys | None):
        """The rows of ``struct`` to store (indices), their keys, key errors by position, and
        every row to check (those and the rows ``known``, the stored keys, holds: not keyed), and
        per row to store whether the numbers told it is not stored (else its key string is checked);
        None when its id or time fields are not numbers (then the row-by-row path decides)."""
        spec = self.spec
        names = {f.name for f in struct.type}
        if spec.id_name not in names or "midpointMjdTai" not in names:
            return np.zeros(0, dtype=np.int64), [], {}, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        ids, mjds = struct.field(spec.id_name), struct.field("midpointMjdTai")
        oids = struct.field("diaObjectId") if "diaObjectId" in names else None
        if not pa.types.is_integer(ids.type) or not (pa.types.is_floating(mjds.type) or pa.types.is_integer(mjds.type)) \
                or (oids is not None and not pa.types.is_integer(oids.type)):
            return None
        valid = struct.is_valid().to_numpy(zero_copy_only=False)
        valid &= ids.is_valid().to_numpy(zero_copy_only=False) & mjds.is_valid().to_numpy(zero_copy_only=False)
        packet_oid = np.array([owners[o].object_id for o in range(len(owners))], dtype=np.int64)[owner]
        oid = packet_oid if oids is None else oids.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        oid = np.where(oid == 0, packet_oid, oid)   # a row without its object: the packet's
        id_values = ids.fill_null(0).to_numpy(zero_copy_only=False)
        keep = valid & (oid != 0)
        if spec.own:  # the alert's own source is written with its added values
            packet_sid = np.array([owners[o].source_id for o in range(len(owners))], dtype=np.int64)[owner]
            keep &= id_values != packet_sid
        rows = np.flatnonzero(keep)
        mjd_values = mjds.fill_null(0).to_numpy(zero_copy_only=False)[rows]
        if mjd_values.dtype.kind != "f":
            mjd_values = mjd_values.astype(np.float64)
        every = rows
        got = known.held(oid[rows], mjd_values, id_values[rows]) if known is not None and len(rows) else None
        fresh = np.zeros(len(rows), dtype=bool)
        if got is not None:
            hit, valid = got
            self.skipped += int(hit.sum())
            rows, mjd_values, fresh = rows[~hit], mjd_values[~hit], valid[~hit]
        keys, errors = self.table.keys.build_columns(oid[rows], mjd_values, id_values[rows])
        return rows, keys, errors, every, fresh


def _place(place, items: pa.Array, n: int, bounds: dict) -> tuple | None:
    """``(values, first, end)``: where in its list column's values (the one Arrow array) the slice
    ``items`` lies (``place``: the column and the row it is of); None when unknown, or when
    the slice is not that row's values (then it is taken as it is)."""
    if place is None:
        return None
    column, row = place
    got = bounds.get(id(column))
    if got is None:
        values = column.values
        got = bounds[id(column)] = (column, column.offsets.to_numpy(), values, values.offset)
    _, offsets, values, base = got
    lo, hi = int(offsets[row]), int(offsets[row + 1])
    if hi - lo != n or items.offset != base + lo:
        return None
    return values, lo, hi
