"""The Rubin schema (hbase_schema/rubin.yml) and its keys: fixed-width ids and MJDs, a salt
written on salted (HBase) stores only, and the admin acting on both surveys."""
import subprocess
import sys

import pytest

from conftest import ROOT, make_config
from hbase_schema import SchemaError, get_schema, load_schema
from store import open_store, table_prefix
from store.keys import RowKey

RUBIN = get_schema("rubin")


def test_every_rubin_column_is_typed_and_described_with_fink_prefixes():
    assert (RUBIN.survey, RUBIN.prefix) == ("rubin", "rubin")
    for spec in RUBIN.tables.values():
        for col in spec.columns():
            assert col.description and col.type
    assert {"r", "f"} <= set(RUBIN.table("sources").families)
    assert "r:midpointMjdTai" in {c.name for c in RUBIN.table("sources").columns()}
    assert "f:xm_simbad_otype" in {c.name for c in RUBIN.table("sources").columns()}
    assert {c.name for c in RUBIN.table("sso").columns()} == {c.name for c in RUBIN.table("sources").columns()}


def test_keys_are_fixed_width_and_salted_only_when_the_store_is():
    spec = RUBIN.table("sources")
    plain, salted = RowKey(spec), RowKey(spec, salted=True)
    key = plain.build(170019717267849383, 61109.14520318322, 42)
    assert key == "00170019717267849383_61109.1452032_00000000000000000042"
    assert salted.build(170019717267849383, 61109.14520318322, 42) == "383_" + key
    assert salted.prefix(170019717267849383) == "383_00170019717267849383_"
    assert salted.parse("383_" + key) == plain.parse(key) == {
        "diaObjectId": 170019717267849383, "midpointMjdTai": 61109.1452032, "diaSourceId": 42}
    assert plain.build(5, 9.5, 1) < plain.build(10, 9.5, 1)  # text order is numeric order
    assert RowKey(RUBIN.table("time"), salted=True).build(61109.1, 1, 2) == RowKey(RUBIN.table("time")).build(61109.1, 1, 2)
    with pytest.raises(ValueError):
        plain.build(-1, 61109.1, 1)


def test_a_salt_part_must_lead_and_salt_an_id(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\ntables:\n  t:\n    row_key: ['a:string', 's:salt', 'b:uid']\n"
                   "    families:\n      f:\n        columns:\n          x: {type: int32, description: x}\n")
    with pytest.raises(SchemaError, match="salt"):
        load_schema(bad)


def test_the_rubin_tables_open_beside_ztf_under_their_prefix(tmp_path):
    cfg = make_config("embedded", tmp_path)
    assert table_prefix(cfg, RUBIN) == "rubin" and table_prefix(cfg, get_schema()) == "ztf"
    with open_store(cfg, create=True, schema=RUBIN) as s:
        assert s.table("sources").name == "rubin.diaSource"
        assert s.table("meta").row("store")["m:schema_version"] == RUBIN.version
    with open_store(cfg, create=True) as s:  # ZTF's tables in the same file, unaffected
        assert s.table("main").name == "ztf"
    assert table_prefix(make_config("embedded", tmp_path, prefix="t1"), RUBIN) == "t1_rubin"


def test_the_admin_describes_both_surveys():
    out = subprocess.run([sys.executable, "-m", "hbase_schema", "describe", "--offline"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert "ztf.pixel" in out and "rubin.diaSource" in out and "[<salt>, HBase only]" in out
    one = subprocess.run([sys.executable, "-m", "hbase_schema", "describe", "--offline", "--survey", "rubin"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "rubin.fp" in one and "ztf.pixel" not in one
