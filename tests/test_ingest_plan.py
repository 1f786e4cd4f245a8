"""The first steps of the ingest of a night: the plan (files, units, workers) and the tables
an alert fills, read from the schema."""
import pytest

from hbase_schema import get_schema, load_schema
from ingest import plan as planning
from ingest.plan import plan
from ingest.rows import RowBuilder, alert_tables
from settings import load_config


def _files(folder, sizes):
    folder.mkdir(parents=True, exist_ok=True)
    for i, size in enumerate(sizes):
        (folder / f"{i:03d}.avro").write_bytes(b"x" * size)


def test_the_plan_cuts_files_into_units_in_input_order(tmp_path, monkeypatch):
    monkeypatch.setattr(planning, "UNIT_BYTES", 1000)
    _files(tmp_path / "night", [400, 400, 400, 2500, 100])
    (tmp_path / "night" / "README.txt").write_text("not alerts")
    p = plan(tmp_path / "night", night="20231018", workers=3)
    assert [f.name for f in p.files] == ["000.avro", "001.avro", "002.avro", "003.avro", "004.avro"]
    assert [[f.name for f in u] for u in p.units] == [["000.avro", "001.avro"], ["002.avro"], ["003.avro"],
                                                     ["004.avro"]]
    assert (p.workers, p.night, p.nbytes) == (3, "20231018", 3800)


def test_one_unit_is_prepared_in_this_process(tmp_path):
    _files(tmp_path, [10, 10])
    p = plan(tmp_path, workers=4)
    assert len(p.units) == 1 and p.workers == 1
    assert plan(tmp_path / "000.avro").files == [tmp_path / "000.avro"]


def test_a_folder_without_alert_files_is_refused_by_name(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing")
    with pytest.raises(FileNotFoundError, match="no alert files"):
        plan(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        plan(tmp_path / "missing")


def test_the_alert_tables_are_main_the_tables_that_borrow_its_columns_and_the_forced_photometry(tmp_path):
    assert alert_tables(get_schema()) == ("main", "jd", "pixel", "objects_sky", "class", "tns", "anomaly", "ssnamenr",
                                          "upper", "uppervalid", "fp")
    schema = tmp_path / "schema.yml"
    schema.write_text("""version: 1
tables:
  main:
    name: ''
    row_key: ['objectId:string']
    families:
      i: {description: d, columns: {objectId: {type: string, description: the object}}}
  byname:
    row_key: ['objectId:string']
    families:
      i: {from: main, columns: [objectId]}
  notes:
    row_key: ['id:string']
    families:
      n: {description: d, columns: {text: {type: string, description: a note}}}
""")
    assert alert_tables(load_schema(schema)) == ("main", "byname")


def test_an_alert_with_every_kind_of_row_fills_every_alert_table():
    schema = get_schema()
    candidate = {"candid": 2, "jd": 2460236.7, "fid": 1, "ra": 10.0, "dec": 20.0, "magpsf": 18.0, "sigmapsf": 0.1,
                 "ssnamenr": "12345"}
    record = {"schemavsn": "4.02", "objectId": "ZTF23aaaaaaa", "candid": 2, "candidate": candidate,
              "tnsclass": "(TNS) SN Ia", "anomaly_score": -0.5,
              "prv_candidates": [{"jd": 2460230.7, "candid": None, "fid": 1, "diffmaglim": 20.0},
                                 {"jd": 2460231.7, "candid": 1, "fid": 2, "ra": 10.0, "dec": 20.0, "magpsf": 19.0,
                                  "sigmapsf": 0.2}],
              "fp_hists": [{"jd": 2460229.7, "fid": 1, "pid": 1, "rfid": 1, "programid": 1, "ranr": 10.0,
                            "decnr": 20.0, "forcediffimflux": 150.0, "forcediffimfluxunc": 30.0, "magzpsci": 26.0,
                            "procstatus": "0"}]}
    builder = RowBuilder(schema)
    rows = builder.build(record)
    filled = {"main"} | set(builder.index_rows(rows, pixel=42))
    filled |= {"upper"} if rows.upper else set()
    filled |= {"uppervalid"} if rows.badquality else set()
    filled |= {"fp"} if rows.forced else set()
    filled |= {"objects_sky"} if builder.sky_row(rows, pixel=42) else set()
    assert filled == set(alert_tables(schema))


def test_the_workers_hand_units_back_in_input_order(tmp_path, monkeypatch):
    """Four workers, more units than the queue holds: the units come back as planned."""
    from ingest.prepare import Workers
    monkeypatch.setattr(planning, "UNIT_BYTES", 1)
    _files(tmp_path, [5, 50, 500, 5000, 50, 5, 500, 5000, 5, 50, 0, 7])
    p = plan(tmp_path, workers=4)
    config = load_config(None)
    with Workers(config, p) as workers:
        sizes = [u.nbytes for u in workers.prepared()]
    assert len(sizes) == len(p.units) == 12
    assert sizes == [5, 50, 500, 5000, 50, 5, 500, 5000, 5, 50, 0, 7]


def test_the_workers_results_come_back_by_a_wide_pipe(tmp_path, monkeypatch):
    """The pipe the prepared units travel by is widened (a Rubin unit with cutouts is ~25 MB:
    64 KB reads cost the writer twice the CPU), and units larger than it still come back whole."""
    import fcntl

    from ingest import prepare
    from ingest.prepare import Workers
    monkeypatch.setattr(planning, "UNIT_BYTES", 1)
    _files(tmp_path, [5, 50, 500, 5000])
    p = plan(tmp_path, workers=2)
    with Workers(load_config(None), p) as workers:
        fd = workers.pool._result_queue._reader.fileno()
        assert fcntl.fcntl(fd, 1032) >= prepare.PIPE_BYTES  # F_GETPIPE_SZ
        assert [u.nbytes for u in workers.prepared()] == [5, 50, 500, 5000]
    big = prepare.ProcessPoolExecutor(1)
    try:
        assert prepare.widen_pipe(big) >= prepare.PIPE_BYTES
        assert big.submit(bytes, 3 * prepare.PIPE_BYTES + 7).result() == bytes(3 * prepare.PIPE_BYTES + 7)
    finally:
        big.shutdown()
