"""Where packets that cannot be ingested go, each with a JSON line saying why.

``<dir>/<night>/quarantine.jsonl`` gets one line per packet (time, source, position,
candid and objectId when readable, reason, the file it was saved as); the packet itself
is kept beside it: the original file when the whole file is bad, else the record as
JSON (bytes as base64). Nothing a night brings is lost.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

from .readers import Packet


class Quarantine:
    def __init__(self, root: Path, night: str, dry_run: bool = False):
        self.dir = Path(root) / night
        self.dry_run = dry_run
        self.count = 0

    def add(self, packet: Packet, reason: str) -> None:
        self.count += 1
        record = packet.record or {}
        entry = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "source": packet.source, "index": packet.index,
            "candid": record.get("candid") if isinstance(record, dict) else None,
            "objectId": record.get("objectId") if isinstance(record, dict) else None,
            "reason": reason,
        }
        if self.dry_run:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(packet.source.replace("!", "/")).name)[:150]
        if packet.raw is not None:
            saved = self.dir / stem
            saved.write_bytes(packet.raw)
        elif packet.record is not None:
            saved = self.dir / f"{stem}.{packet.index}.json"
            saved.write_text(json.dumps(packet.record, default=_bytes_as_base64))
        else:
            saved = None
        entry["saved_as"] = str(saved) if saved else None
        with open(self.dir / "quarantine.jsonl", "a") as fh:
            fh.write(json.dumps(entry) + "\n")


def _bytes_as_base64(value):
    if isinstance(value, (bytes, bytearray)):
        return {"base64": base64.b64encode(value).decode()}
    return str(value)
