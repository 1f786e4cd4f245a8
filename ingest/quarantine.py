"""Where packets that cannot be ingested go, each with a JSON line saying why.

``<dir>/<night>/quarantine.jsonl`` gets one line per packet (time, source, position,
candid and objectId when readable, reason, the SHA-256 of the packet's bytes, the file it
was saved as); the packet itself is kept beside it: the original file when the whole file
is bad (a damaged archive too, however large, copied as it is), else the record as JSON
(bytes as base64). Saved files are named by the content hash and a hash of the source
path, so two bad files of the same name in different folders are both kept. Nothing a
night brings is lost.

A packet already listed (same source, position and content) is not listed again, so a
rerun adds no line. :class:`Repeats` (``<data_dir>/repeats/<night>.jsonl``) lists, the same
way, the valid packets whose candid came earlier in the same run (stored once). Every file
is created readable by its owner only (0600; folders 0700): packets are data, not for
other users.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from .readers import Packet

CUTOUT_KEY = "cutout#"  # key prefix of the lines of damaged cutouts
FILE_MODE = 0o600
DIR_MODE = 0o700


class Ledger:
    """A JSON-lines file of entries keyed by ``entry["key"]``; a key already there is skipped."""

    def __init__(self, path: Path, dry_run: bool = False):
        self.path = Path(path)
        self.dry_run = dry_run
        self._keys: set | None = None
        self._torn = False  # the file ends inside a line (a crash while writing it)

    @property
    def keys(self) -> set:
        if self._keys is None:
            self._keys = set()
            if self.path.exists():
                with open(self.path) as fh:
                    for line in fh:
                        self._torn = not line.endswith("\n")
                        try:
                            key = json.loads(line).get("key")
                        except (ValueError, AttributeError):
                            continue  # a line cut by a crash: the rerun writes it again
                        if key is not None:  # (lines of older versions have none: listed again, once)
                            self._keys.add(key)
        return self._keys

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, entry: dict) -> bool:
        """Append ``entry`` unless its key is listed already; True when appended."""
        if entry["key"] in self.keys:
            return False
        self.keys.add(entry["key"])
        if not self.dry_run:
            make_dir(self.path.parent)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            with os.fdopen(fd, "a") as fh:
                fh.write(("\n" if self._torn else "") + json.dumps(entry) + "\n")
            self._torn = False
        return True


class Quarantine:
    def __init__(self, root: Path, night: str, dry_run: bool = False):
        self.dir = Path(root) / night
        self.dry_run = dry_run
        self.ledger = Ledger(self.dir / "quarantine.jsonl", dry_run)
        self.count = 0  # packets quarantined by this run (listed before or not)

    @property
    def packets(self) -> int:
        """Packets listed (the lines of damaged cutouts, whose alerts were stored, apart)."""
        return sum(1 for key in self.ledger.keys if not key.startswith(CUTOUT_KEY))

    def add(self, packet: Packet, reason: str, cutout: bool = False) -> None:
        """List ``packet`` (kept as evidence) with ``reason``; ``cutout``: only a cutout of it
        was damaged and left out, the alert itself is stored (not a quarantined packet)."""
        self.count += 1
        record = packet.record if isinstance(packet.record, dict) else {}
        payload, suffix = _payload(packet)
        digest = _sha256(payload)
        source_digest = hashlib.sha256(_absolute(packet.source).encode()).hexdigest()
        entry = {
            "time": _now(), "source": packet.source, "index": packet.index,
            "candid": record.get("candid"), "objectId": record.get("objectId"),
            "reason": reason, "sha256": digest,
            **_rubin_ids(record),
            "key": f"{CUTOUT_KEY if cutout else ''}{_absolute(packet.source)}#{packet.index}#{digest}",
        }
        if payload is not None:
            stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(packet.source.replace("!", "/")).name)[:120]
            saved = self.dir / f"{digest[:16]}-{source_digest[:8]}-{stem}{suffix}"
            entry["saved_as"] = str(saved)
            if not self.dry_run and entry["key"] not in self.ledger.keys:
                _save(payload, saved)
        else:
            entry["saved_as"] = None
        self.ledger.add(entry)



def _rubin_ids(record: dict) -> dict:
    """A Rubin packet's diaSourceId and diaObjectId, for its quarantine line (none for ZTF's)."""
    source = record.get("diaSource")
    if not isinstance(source, dict):
        return {}
    return {"diaSourceId": source.get("diaSourceId"), "diaObjectId": source.get("diaObjectId")}


class Repeats(Ledger):
    """Valid packets of a night whose candid came earlier in the same run (stored once)."""

    def __init__(self, root: Path, night: str, dry_run: bool = False):
        super().__init__(Path(root) / f"{night}.jsonl", dry_run)

    def repeat(self, source: str, index: int, candid: int, object_id: str) -> None:
        self.add({"time": _now(), "source": source, "index": index, "candid": candid,
                  "objectId": object_id, "key": f"{_absolute(source)}#{index}#{candid}"})


def make_dir(path: Path) -> None:
    """Create ``path`` (0700); tighten a folder an older version left open to others."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    elif path.stat().st_mode & 0o077:
        os.chmod(path, DIR_MODE)


def _payload(packet: Packet):
    """What to keep of the packet: bytes, a file to copy, or the record as JSON; and a suffix."""
    if packet.raw is not None:
        return packet.raw, ""
    if packet.whole_file is not None:
        return Path(packet.whole_file), ""
    if packet.record is not None:
        return json.dumps(packet.record, default=_bytes_as_base64, sort_keys=True).encode(), f".{packet.index}.json"
    return None, ""


def _sha256(payload) -> str | None:
    if payload is None:
        return None
    h = hashlib.sha256()
    if isinstance(payload, Path):
        try:
            with open(payload, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        except OSError as exc:
            return f"unreadable:{exc.strerror}"
    else:
        h.update(payload)
    return h.hexdigest()


def _save(payload, saved: Path) -> None:
    make_dir(saved.parent)
    if saved.exists():
        return  # the same bytes from the same source, kept by an earlier run
    tmp = saved.with_name(saved.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        if isinstance(payload, Path):
            try:
                with open(payload, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
            except OSError:
                out.close()
                tmp.unlink(missing_ok=True)
                return  # unreadable: its line says why (sha256 "unreadable:...")
        else:
            out.write(payload)
    os.replace(tmp, saved)


def _absolute(source: str) -> str:
    path, sep, member = source.partition("!")
    return os.path.abspath(path) + sep + member


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _bytes_as_base64(value):
    if isinstance(value, (bytes, bytearray)):
        return {"base64": base64.b64encode(value).decode()}
    return str(value)
