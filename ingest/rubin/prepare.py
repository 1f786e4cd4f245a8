"""The Rubin preparer, run in the ingest's worker processes (``ingest.prepare.Workers``): read a
unit of files, validate each packet, build its rows and encode them for the store (the
previous and forced sources column-wise over the unit: ``ingest.rubin.lists``). The writer
(``ingest.rubin.write``) only sends, counts and quarantines."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow as pa

from hbase_schema import get_schema
from science.stamps import stamp_problem
from settings import Config
from store import encoder_store, open_store
from store.column_types import ColumnValueError
from store.sky import pixels

from ..gc_pause import gc_paused
from ..nights import night_of_mjd
from ..prepare import Prepared
from ..readers import Packet, file_kind
from .alert import RubinAlert, Staged
from .alert_columns import ColumnRows
from .lists import FIELDS, ListRows, MalformedList, Owner
from .readers import LIST_FIELDS, ParquetBatch, ParquetPart, batches_of, packets_of, plain
from .rows import CUTOUTS, RubinRowBuilder
from .validate import problem, source_id

TABLES = ("sources", "fp", "objects", "time", "pixel", "tag", "sso", "ssoname", "cutouts")


class RubinPreparer:
    """Worker-side state: the Rubin schema, the row builder and a connection-less encoder."""

    def __init__(self, config: Config, schema_path: Path | None = None, rewrite_history: bool = False,
                 columns: bool = True):
        """``rewrite_history``: send every previous and forced source, even those the store holds;
        ``columns``: Parquet's alerts column-wise (False: every packet as a dict, the Avro path)."""
        schema = get_schema("rubin")
        self.config, self.schema = config, schema
        self.builder = RubinRowBuilder(schema)
        self.order = schema.pixel_order
        self.schema_path = schema_path
        store = encoder_store(config, schema)
        self.tables = {name: store.table(name) for name in TABLES}
        self.reader = None  # the store, opened for reading on first use (in the worker, after the fork)
        stored = None if rewrite_history else self.stored_keys
        self.lists = [ListRows(spec, self._rows_of(spec.table), self.builder.list_columns(spec.field), self.builder,
                               stored) for spec in FIELDS]  # previous sources, then forced sources
        self.columns = columns
        self.column_rows = ColumnRows(self.builder, self.tables, self.order)

    def _rows_of(self, table: str):
        """What encodes a list's rows: the table, or its records' encoder (forced sources:
        each packed alone, put in blocks by ``_add_lists``: ``store.records``)."""
        records = self.tables[table].records
        return records.encoder if records is not None else self.tables[table]

    def stored_keys(self, table: str, object_ids: list):
        """The keys ``table`` holds for ``object_ids`` (a key-only range per object, one read:
        ``Table.keys_in``, in any order; a records table's as an Arrow array,
        ``Records.key_array``); empty
        while the store does not exist yet (a first night: the writer creates it) or cannot
        be read (then every row is sent, which is always correct)."""
        if not object_ids:
            return []
        try:
            if self.reader is None:
                self.reader = open_store(self.config, schema=self.schema)
            t = self.reader.table(table)
            spans = [t.keys.span(o) for o in object_ids]
            return t.records.key_array(spans) if t.records is not None else t.keys_in(spans)
        except Exception:  # noqa: BLE001 - a store not created yet, or unreachable: send everything
            if self.reader is not None:
                self.reader.close()
            self.reader = None
            return []

    def run(self, files: list[Path]) -> Prepared:
        with gc_paused():
            return self._run(files)

    def _run(self, files: list[Path]) -> Prepared:
        out = Prepared()
        staged: list = []   # in input order: a Staged alert, or None (refused)
        built = []          # (position in staged, packet, rows, record): the dict path
        for packet in self._items(files, out, staged):
            out.nbytes += packet.size
            reason = packet.error or problem(packet.record)
            if reason:
                out.rejects.append((plain(packet), reason, _night(packet)))
                continue
            record = packet.record
            damaged = [(n, stamp_problem(record[n])) for n in CUTOUTS if record.get(n) is not None]
            damaged = [(n, why) for n, why in damaged if why]
            if damaged:
                record = {**record, **{n: None for n, _ in damaged}}  # the alert is kept without them
                for name, why in damaged:
                    out.cutouts.append((plain(packet), f"{name} of diaSource {source_id(record)} is damaged, "
                                                       f"stored without it: {why}", _night(packet)))
            try:
                built.append((len(staged), packet, self.builder.build(record), record))
                staged.append(None)
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                out.rejects.append((plain(packet), f"malformed packet: {type(exc).__name__}: {exc}", _night(packet)))
        if built:
            pix = pixels([r.ra for _, _, r, _ in built], [r.dec for _, _, r, _ in built], self.order).tolist()
            for (at, packet, rows, record), pixel in zip(built, pix):
                try:
                    alert = self._encode(rows, pixel)
                except (ColumnValueError, ValueError, TypeError) as exc:
                    out.rejects.append((plain(packet), f"value out of type: {exc}", night_of_mjd(rows.mjd)))
                    continue
                alert.source, alert.index = packet.source, packet.index
                staged[at] = Staged(alert, {n: record.get(n) for n in LIST_FIELDS}, rows.mjd,
                                    lambda packet=packet: plain(packet))
        accepted = [s for s in staged if s is not None]
        if accepted:
            self._add_lists(accepted, out)
        return out

    def _items(self, files: list, out: Prepared, staged: list):
        """The packets the dict path takes; Parquet's rows go column-wise (``ingest.rubin.
        columns``) into ``staged``, and only those the column-wise path leaves come back as packets."""
        if not self.columns or not any(isinstance(f, ParquetPart) or file_kind(f.name) == "parquet" for f in files):
            yield from packets_of(files, self.schema_path)
            return
        for item in joined(batches_of(files, self.schema_path)):
            if not isinstance(item, ParquetBatch):
                yield item
                continue
            out.nbytes += item.size
            left = [None] * item.batch.num_rows
            for i, got in self.column_rows.stage(item):
                left[i] = got
            rows = [i for i, got in enumerate(left) if got is None]
            try:
                packets = dict(zip(rows, item.packets(rows))) if rows else {}
            except Exception:  # noqa: BLE001 - pyarrow raises ArrowInvalid...: each file's rows alone
                packets = {}
                for first, piece in item.pieces():
                    mine = [i - first for i in rows if first <= i < first + piece.batch.num_rows]
                    try:
                        packets.update(dict(zip((first + i for i in mine), piece.packets(mine))) if mine else {})
                    except Exception as exc:  # noqa: BLE001 - the file is kept whole
                        yield Packet(piece.source, piece.start + mine[0], None, f"unreadable Parquet record(s) "
                                     f"({type(exc).__name__}: {exc})", whole_file=Path(piece.source))
            for i, got in enumerate(left):
                if got is not None:
                    staged.append(got)
                elif i in packets:
                    yield packets[i]

    def _add_lists(self, accepted: list, out: Prepared) -> None:
        """Give each accepted alert its previous and forced sources' rows (column-wise over the
        unit); a packet with a value out of type there is refused alone, and the rows of the
        others computed again without it (its keys must not hide theirs)."""
        while True:
            results, refused = [], {}
            for lister in self.lists:
                field = lister.spec.field
                owners = [Owner(s.lists.get(field), s.lists, s.alert.object_id, s.alert.source_id,
                                s.alert.writes[0][1], s.place.get(field) if s.place else None) for s in accepted]
                kept, errors = lister.rows(owners)
                results.append((lister, owners, kept))
                for o, exc in errors.items():
                    refused.setdefault(o, exc)
            if not refused:
                break
            for o in sorted(refused):
                s, exc = accepted[o], refused[o]
                reason = f"malformed packet: {exc}" if isinstance(exc, MalformedList) else f"value out of type: {exc}"
                out.rejects.append((s.packet(), reason, night_of_mjd(s.mjd)))
            accepted = [a for o, a in enumerate(accepted) if o not in refused]
        for lister, owners, kept in results:
            lister.commit(owners, kept)
        forced = results[1][2]
        for i, s in enumerate(accepted):
            s.alert.prv, s.alert.forced = results[0][2][i], len(forced[i])
            out.alerts.append(s.alert)
        if accepted:  # the unit's forced sources in blocks, put with its first alert
            accepted[0].alert.fp = [(k, p) for k, p, _ in self.tables["fp"].records.blocks(
                [row for rows in forced for row in rows])]

    def _encode(self, rows, pixel: int) -> RubinAlert:
        t = self.tables
        sid, oid, mjd = rows.source_id, rows.object_id, rows.mjd
        if rows.alert_table == "sources":
            writes = [("sources", t["sources"].keys.build(oid, mjd, sid), t["sources"].encode(rows.alert_cells))]
        else:
            writes = [("sso", t["sso"].keys.build(rows.ss_id, mjd, sid), t["sso"].encode(rows.alert_cells))]
        light = t["time"].encode(rows.light)
        writes.append(("time", t["time"].keys.build(mjd, oid, sid), light))
        writes.append(("pixel", t["pixel"].keys.build(pixel, mjd, oid, sid), light))
        writes += [("tag", t["tag"].keys.build(tag, mjd, oid, sid), light) for tag in rows.tags]
        writes += [("ssoname", t["ssoname"].keys.build(name, mjd, sid), light) for name in rows.names]
        if rows.cutouts:
            owner = oid if oid > 0 else rows.ss_id
            writes.append(("cutouts", t["cutouts"].keys.build(owner, mjd, sid), t["cutouts"].encode(rows.cutouts)))
        alert = RubinAlert(night_of_mjd(mjd), oid, sid, rows.band, writes)
        if rows.obj is not None:
            order, cells = rows.obj
            alert.obj = (t["objects"].keys.build(oid), order, t["objects"].encode(cells))
        return alert


def joined(items) -> Iterator:
    """``items`` with each run of Parquet batches joined into one batch: batches that follow one
    another in one file (rows end to end), and the batches of the next files when they start at
    their file's first row with the same columns (Fink's data transfer writes a few alerts a
    file: 41 files for 107 alerts). The column-wise path pays its per-column work (~270 columns:
    ``alert_cells``, the encoders) once a unit instead of once a batch or a file (issue 19);
    each row keeps its file and position (:meth:`ParquetBatch.origin`). Anything else (a packet,
    an unreadable file's error) ends the run and comes in its place; batches Arrow cannot join
    are handed on as they are."""
    run: list = []
    for item in items:
        if isinstance(item, ParquetBatch) and (not run or _follows(item, run)):
            run.append(item)
            continue
        yield from _join(run)
        run = [item] if isinstance(item, ParquetBatch) else []
        if not run:
            yield item
    yield from _join(run)


def _follows(item: ParquetBatch, run: list) -> bool:
    last = run[-1]
    if item.source == last.source:
        return item.start == last.start + last.batch.num_rows
    return item.start == 0 and item.batch.schema.equals(run[0].batch.schema)


def _join(run: list) -> list:
    if len(run) < 2:
        return run
    try:
        table = pa.Table.from_batches([b.batch for b in run]).combine_chunks()
        batches = table.to_batches()
    except (pa.ArrowException, ValueError, TypeError):  # (e.g. schemas that differ): one by one
        return run
    if len(batches) != 1:
        return run
    parts: list = []
    for b in run:
        if parts and parts[-1][0] == b.source:
            parts[-1][2] += b.batch.num_rows
        else:
            parts.append([b.source, b.start, b.batch.num_rows])
    return [ParquetBatch(run[0].source, run[0].start, batches[0], sum(b.size for b in run),
                         tuple(map(tuple, parts)) if len(parts) > 1 else ())]


def _night(packet: Packet) -> str | None:
    """The night of a packet that may be malformed; None when its time cannot be read."""
    try:
        mjd = packet.record["diaSource"]["midpointMjdTai"]
        return night_of_mjd(mjd) if isinstance(mjd, float) and 15020 < mjd < 88069 else None
    except Exception:
        return None
