"""The workers encode a row of light columns once for every index table that shares its
declaration (ingest.prepare.same_encoding): each table still receives the bytes its own
encoder gives, and tables declared differently never share."""
from conftest import make_config, shared_data
from hbase_schema import get_schema
from ingest.prepare import Preparer, same_encoding


def test_index_rows_shared_between_tables_are_the_bytes_each_table_encodes(tmp_path):
    files = sorted((shared_data() / "ztf-night-2023-10-18").glob("*.avro"))[:40]
    preparer = Preparer(make_config("embedded", tmp_path))
    prepared = preparer.run(files)
    assert len(prepared.alerts) >= 30
    same = preparer.same
    assert same["pixel"] == same["class"] == same["jd"] and same["anomaly"] != same["jd"] \
        and same["main"] == "main" and same["upper"] != same["uppervalid"]
    seen = set()
    for alert, packet_rows in zip(prepared.alerts, _rows(preparer, files)):
        for table, key, payload in alert.writes:
            want = dict(packet_rows)[table]
            assert key == want[0]
            assert payload == preparer.tables[table].encode(want[1]), f"{table} row of {alert.candid}"
            seen.add(table)
    assert {"main", "jd", "pixel", "class", "ssnamenr"} <= seen


def test_tables_declared_differently_do_not_share_an_encoding():
    schema = get_schema()
    names = ("jd", "pixel", "anomaly", "upper", "fp")
    same = same_encoding(schema, dict.fromkeys(names))
    assert same == {"jd": "jd", "pixel": "jd", "anomaly": "anomaly", "upper": "upper", "fp": "fp"}


def _rows(preparer, files):
    """Each alert's (table, (key, cells)) built again, one packet at a time."""
    from ingest.readers import packets_of
    from store.sky import pixels
    for packet in packets_of(files):
        if packet.record is None or preparer._check(packet)[0]:
            continue
        rows = preparer.builder.build(packet.record, packet.typed)
        pixel = int(pixels([rows.ra], [rows.dec], preparer.order)[0])
        yield [("main", rows.main), *preparer.builder.index_rows(rows, pixel).items()]
