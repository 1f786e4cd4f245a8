"""The Rubin preparer, run in the ingest's worker processes (``ingest.prepare.Workers``): read a
unit of files, validate each packet, build its rows and encode them for the store (the
previous and forced sources column-wise over the unit: ``ingest.rubin.lists``). The writer
(``ingest.rubin.write``) only sends, counts and quarantines."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hbase_schema import get_schema
from science.stamps import stamp_problem
from settings import Config
from store import encoder_store, open_store
from store.codec import ColumnValueError
from store.sky import pixels

from ..gc_pause import gc_paused
from ..nights import night_of_mjd
from ..prepare import Prepared
from ..readers import Packet
from .lists import FIELDS, ListRows, MalformedList, Owner
from .readers import packets_of, plain
from .rows import CUTOUTS, RubinRowBuilder
from .validate import problem, source_id

TABLES = ("sources", "fp", "objects", "time", "pixel", "tag", "sso", "ssoname", "cutouts")


@dataclass
class RubinAlert:
    """What the writer needs of one valid alert: its encoded rows and its counts."""
    night: str
    object_id: int
    source_id: int
    band: str
    writes: list                 # (table, key, payload): the alert's source, its index rows, its cutouts
    prv: list = field(default_factory=list)   # (key, payload) of previous sources
    fp: list = field(default_factory=list)    # (key, payload) of forced sources
    obj: tuple | None = None     # (key, order, payload) of its diaObject
    source: str = ""
    index: int = 0


class RubinPreparer:
    """Worker-side state: the Rubin schema, the row builder and a connection-less encoder."""

    def __init__(self, config: Config, schema_path: Path | None = None, rewrite_history: bool = False):
        """``rewrite_history``: send every previous and forced source, even those the store holds."""
        schema = get_schema("rubin")
        self.config, self.schema = config, schema
        self.builder = RubinRowBuilder(schema)
        self.order = schema.pixel_order
        self.schema_path = schema_path
        store = encoder_store(config, schema)
        self.tables = {name: store.table(name) for name in TABLES}
        self.reader = None  # the store, opened for reading on first use (in the worker, after the fork)
        stored = None if rewrite_history else self.stored_keys
        self.lists = [ListRows(spec, self.tables[spec.table], self.builder.list_columns(spec.field), self.builder,
                               stored) for spec in FIELDS]  # previous sources, then forced sources

    def stored_keys(self, table: str, object_ids: list) -> set:
        """The keys ``table`` holds for ``object_ids`` (one key-only range per object); empty
        while the store does not exist yet (a first night: the writer creates it) or cannot
        be read (then every row is sent, which is always correct)."""
        if not object_ids:
            return set()
        try:
            if self.reader is None:
                self.reader = open_store(self.config, schema=self.schema)
            t = self.reader.table(table)
            return set(t.read(ranges=[t.keys.span(o) for o in object_ids], columns=[]).keys)
        except Exception:  # noqa: BLE001 - a store not created yet, or unreachable: send everything
            if self.reader is not None:
                self.reader.close()
            self.reader = None
            return set()

    def run(self, files: list[Path]) -> Prepared:
        with gc_paused():
            return self._run(files)

    def _run(self, files: list[Path]) -> Prepared:
        out = Prepared()
        built = []
        for packet in packets_of(files, self.schema_path):
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
                built.append((packet, self.builder.build(record), record))
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                out.rejects.append((plain(packet), f"malformed packet: {type(exc).__name__}: {exc}", _night(packet)))
        if not built:
            return out
        pix = pixels([r.ra for _, r, _ in built], [r.dec for _, r, _ in built], self.order).tolist()
        accepted = []
        for (packet, rows, record), pixel in zip(built, pix):
            try:
                alert = self._encode(rows, pixel)
            except (ColumnValueError, ValueError, TypeError) as exc:
                out.rejects.append((plain(packet), f"value out of type: {exc}", night_of_mjd(rows.mjd)))
                continue
            alert.source, alert.index = packet.source, packet.index
            accepted.append((packet, rows, record, alert))
        self._add_lists(accepted, out)
        return out

    def _add_lists(self, accepted: list, out: Prepared) -> None:
        """Give each accepted alert its previous and forced sources' rows (column-wise over the
        unit); a packet with a value out of type there is refused alone, and the rows of the
        others computed again without it (its keys must not hide theirs)."""
        while True:
            results, refused = [], {}
            for lister in self.lists:
                owners = [Owner(record.get(lister.spec.field), record, rows.object_id, rows.source_id,
                                alert.writes[0][1]) for _, rows, record, alert in accepted]
                kept, errors = lister.rows(owners)
                results.append((lister, owners, kept))
                for o, exc in errors.items():
                    refused.setdefault(o, exc)
            if not refused:
                break
            for o in sorted(refused):
                packet, rows, exc = accepted[o][0], accepted[o][1], refused[o]
                reason = f"malformed packet: {exc}" if isinstance(exc, MalformedList) else f"value out of type: {exc}"
                out.rejects.append((plain(packet), reason, night_of_mjd(rows.mjd)))
            accepted = [a for o, a in enumerate(accepted) if o not in refused]
        for lister, owners, kept in results:
            lister.commit(owners, kept)
        for i, (_, _, _, alert) in enumerate(accepted):
            alert.prv, alert.fp = results[0][2][i], results[1][2][i]
            out.alerts.append(alert)

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


def _night(packet: Packet) -> str | None:
    """The night of a packet that may be malformed; None when its time cannot be read."""
    try:
        mjd = packet.record["diaSource"]["midpointMjdTai"]
        return night_of_mjd(mjd) if isinstance(mjd, float) and 15020 < mjd < 88069 else None
    except Exception:
        return None
