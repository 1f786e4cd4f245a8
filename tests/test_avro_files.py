"""The cached-schema Avro reader gives exactly what fastavro.reader gives, damage included."""
import io
import random

import fastavro
import pytest

from conftest import shared_data
from ingest.avro_files import records


def _container(codec: str, n: int = 40) -> bytes:
    schema = {"type": "record", "name": "topLevelRecord", "fields": [
        {"name": "objectId", "type": ["string", "null"]}, {"name": "jd", "type": ["double", "null"]},
        {"name": "stamp", "type": ["bytes", "null"]}]}
    rng = random.Random(codec)
    recs = [{"objectId": f"ZTF25{i:07d}", "jd": 2460000 + rng.random(), "stamp": rng.randbytes(200)} for i in range(n)]
    buf = io.BytesIO()
    fastavro.writer(buf, schema, recs, codec=codec, sync_interval=1000)
    return buf.getvalue()


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy"])
def test_containers_in_every_codec(codec):
    data = _container(codec)
    assert list(records(data)) == list(fastavro.reader(io.BytesIO(data)))


def test_real_packets_read_the_same():
    for path in sorted((shared_data() / "ztf-night-2023-10-18").glob("*.avro"))[:20]:
        data = path.read_bytes()
        assert list(records(data)) == list(fastavro.reader(io.BytesIO(data)))


def test_damage_after_good_blocks_yields_them_once_then_raises():
    data = _container("deflate", 200)
    good = list(fastavro.reader(io.BytesIO(data)))
    cut = data[: int(len(data) * 0.6)]
    got = []
    with pytest.raises(Exception):
        for r in records(cut):
            got.append(r)
    assert 0 < len(got) < len(good) and got == good[: len(got)]
