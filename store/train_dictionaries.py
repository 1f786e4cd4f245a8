"""Train the zstd dictionaries of :mod:`store.compression` from a store's blobs.

    python -m store.train_dictionaries DATA_DIR [--survey ztf|rubin] [--size 32768] [--dry-run]

Reads up to ``--sample`` packed blobs of each family listed in :data:`FAMILIES` from the
embedded store in ``DATA_DIR`` (built by ingesting a simulated night: ``python -m ingest
simulate`` then ``python -m ingest night``), trains one dictionary per family and writes it to
``store/dictionaries/`` under the next free id. Released dictionaries are never rewritten: a
blob names its dictionary's id for ever, so retraining adds files (and new blobs use them).
``--dry-run`` prints the sizes a training would give, measured on blobs it was not trained on.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import sys
from pathlib import Path

import zstandard

from hbase_schema import get_schema
from store import compression
from store.sqlite_file import DB_FILE

# The families compressed: the bulky ones read a few rows at a time. Index tables (read by the
# ten thousand in a cone or a time window) and cutouts (gzipped already) are left out.
FAMILIES = {
    "ztf": [("main", "i"), ("main", "d"), ("upper", "i"), ("uppervalid", "i")],
    "rubin": [("sources", "r"), ("sources", "f"), ("objects", "r"), ("objects", "f"),  # (fp: blocks, raw)
              ("sso", "r"), ("sso", "f")],
}


def blobs_of(db: sqlite3.Connection, physical: str, family: str, limit: int) -> list[bytes]:
    rows = db.execute(f'SELECT "f_{family}" FROM "{physical}" WHERE "f_{family}" IS NOT NULL '
                      f"ORDER BY random() LIMIT ?", (limit,)).fetchall()
    return compression.decompress_all([r[0] for r in rows])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_dir", type=Path)
    p.add_argument("--survey", choices=sorted(FAMILIES), default="ztf")
    p.add_argument("--size", type=int, default=16384, help="dictionary size in bytes")
    p.add_argument("--sample", type=int, default=20000, help="blobs per family to train on")
    p.add_argument("--dry-run", action="store_true")
    args = p.parse_args(argv)
    schema = get_schema(args.survey)
    prefix = schema.prefix or "ztf"
    db = sqlite3.connect(f"file:{args.data_dir / DB_FILE}?mode=ro", uri=True)
    next_id = max(compression._catalogue(), default=0) + 1
    for table, family in FAMILIES[args.survey]:
        blobs = blobs_of(db, schema.table(table).physical_name(prefix), family, args.sample)
        if len(blobs) < 100:
            print(f"{table}/{family}: {len(blobs)} blobs, too few to train on; skipped", file=sys.stderr)
            continue
        random.Random(1).shuffle(blobs)
        held = blobs[: len(blobs) // 5]
        trained = zstandard.train_dictionary(args.size, blobs[len(blobs) // 5:], level=compression.LEVEL)
        zc = zstandard.ZstdCompressor(level=compression.LEVEL, dict_data=trained, write_checksum=False,
                                      write_content_size=True, write_dict_id=False)
        raw = sum(map(len, held)) / len(held)
        packed = (3 + sum(len(zc.compress(b)) for b in held) / len(held))
        print(f"{table}/{family}: {len(blobs)} blobs, {raw:.0f} -> {packed:.0f} bytes a blob on held-out rows")
        if args.dry_run:
            continue
        if packed >= raw * 0.9:
            print(f"  not worth it; skipped", file=sys.stderr)
            continue
        # the final dictionary learns from every sampled blob
        final = zstandard.train_dictionary(args.size, blobs, level=compression.LEVEL)
        path = compression.DIRECTORY / f"{next_id:04d}.{args.survey}.{table}.{family}.zdict"
        compression.DIRECTORY.mkdir(exist_ok=True)
        path.write_bytes(final.as_bytes())
        print(f"  wrote {path.name}")
        next_id += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
