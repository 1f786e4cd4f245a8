"""The real alerts of ../shared/data read straight from the files (fastavro, pyarrow):
the reference the ingest and API tests compare against."""
import glob
from functools import lru_cache

import fastavro
import pyarrow.parquet as pq

from conftest import shared_data


@lru_cache(maxsize=1)
def source_alerts() -> tuple:
    data = shared_data()
    records = []
    for f in sorted(glob.glob(str(data / "ztf-night-2023-10-18" / "*.avro"))):
        with open(f, "rb") as fh:
            records.extend(fastavro.reader(fh))
    with open(data / "fink-enriched" / "fink-4.1-sample-2026-03-22.avro", "rb") as fh:
        records.extend(fastavro.reader(fh))
    records.extend(pq.read_table(data / "fink-enriched" / "fink-12-nights-2024-04.parquet").to_pylist())
    return tuple(records)


def by_object() -> dict:
    """objectId -> its distinct alerts (by candid), from the files."""
    out = {}
    for r in source_alerts():
        out.setdefault(r["objectId"], {})[r["candid"]] = r
    return out
