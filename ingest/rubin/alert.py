"""What a worker hands the writer for one valid Rubin alert (:class:`RubinAlert`), and what it
holds of it until its previous and forced sources are built (:class:`Staged`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass
class RubinAlert:
    """What the writer needs of one valid alert: its encoded rows and its counts."""
    night: str
    object_id: int
    source_id: int
    band: str
    writes: list                 # (table, key, payload): the alert's source, its index rows, its cutouts
    prv: list = field(default_factory=list)   # (key, payload) of previous sources
    fp: list = field(default_factory=list)    # (block key, payload) of the unit's forced sources (its first alert's)
    forced: int = 0              # forced sources of this alert among them (first sent by this worker)
    obj: tuple | None = None     # (key, order, payload) of its diaObject
    source: str = ""
    index: int = 0


@dataclass
class Staged:
    """An alert whose own rows are encoded, waiting for its lists' rows (``ingest.rubin.lists``)."""
    alert: RubinAlert
    lists: dict                  # prvDiaSources, prvDiaForcedSources: Arrow slices, lists of dicts or None
    mjd: float
    packet: Callable             # -> its Packet with plain values, for the quarantine
    place: dict | None = None    # list field -> (Arrow list column, row) its slice in ``lists`` was cut from
