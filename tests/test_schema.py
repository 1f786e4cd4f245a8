"""The declarative schema: complete, typed, described, and its admin CLI."""
import pytest

from hbase_schema import COLUMN_TYPES, SchemaError, get_schema, load_schema
from store.admin import main as schema_cli

FINK_NAMES = ["i:objectId", "i:candid", "i:jd", "i:ra", "i:dec", "i:fid", "i:magpsf", "i:sigmapsf", "i:magnr",
              "i:sigmagnr", "i:isdiffpos", "i:distnr", "i:diffmaglim", "i:ssnamenr", "i:ndethist",
              "i:jdstarthist", "i:drb", "i:rb", "i:classtar", "d:cdsxmatch", "d:roid", "d:mulens",
              "d:snn_snia_vs_nonia", "d:snn_sn_vs_all", "d:rf_snia_vs_nonia", "d:rf_kn_vs_nonkn",
              "d:nalerthist", "d:tracklet", "d:lc_features_g", "b:cutoutScience_stampData",
              "b:cutoutTemplate_stampData", "b:cutoutDifference_stampData"]


def test_main_table_uses_ztf_and_fink_column_names():
    main = get_schema().table("main")
    for name in FINK_NAMES:
        assert main.column(name).name == name
    assert [p.name for p in main.row_key] == ["objectId", "jd", "candid"]
    assert len(main.families["i"].columns) >= 100


def test_every_column_has_a_type_and_a_description():
    for table in get_schema().tables.values():
        for col in table.columns():
            assert col.type in COLUMN_TYPES, col.name
            assert len(col.description) > 5, col.name


def test_index_tables_exist_with_their_row_keys():
    s = get_schema()
    expected = {"jd": ["jd", "objectId", "candid"], "pixel": ["pixel", "jd", "objectId", "candid"],
                "class": ["classification", "jd", "objectId", "candid"],
                "ssnamenr": ["ssnamenr", "jd", "objectId", "candid"],
                "upper": ["objectId", "jd"], "uppervalid": ["objectId", "jd"], "statistics": ["survey", "night"]}
    for name, parts in expected.items():
        assert [p.name for p in s.table(name).row_key] == parts, name
    assert s.table("pixel").column("i:ra").type == "float64"  # borrowed from main, same type


def test_physical_names_follow_the_prefix():
    s = get_schema()
    assert s.table("main").physical_name("ztf") == "ztf"
    assert s.table("pixel").physical_name("lsst") == "lsst.pixel"


@pytest.mark.parametrize("body,words", [
    ("version: one\ntables: {}\n", "version"),
    ("version: 1\ntables:\n  t:\n    row_key: [a:string]\n    families:\n      f:\n        columns:\n"
     "          c: {type: decimal, description: x}\n", "f:c"),
    ("version: 1\ntables:\n  t:\n    row_key: [a:string]\n    families:\n      f:\n        columns:\n"
     "          c: {type: int32}\n", "missing description"),
    ("version: 1\ntables:\n  t:\n    row_key: [a:float]\n    families:\n      f: {columns: {}}\n", "row-key part"),
    ("version: 1\ntables:\n  t:\n    row_key: [a:string]\n    families:\n      f: {from: main, columns: [x]}\n",
     "borrows"),
    ("version: 1\ntables:\n  t:\n    row_key: [a:string]\n    families:\n      f: {compression: zstd, columns: {}}\n",
     "compression must be one of"),
])
def test_a_malformed_schema_names_what_is_wrong(tmp_path, body, words):
    path = tmp_path / "schema.yml"
    path.write_text(body)
    with pytest.raises(SchemaError, match=words):
        load_schema(path)


def test_cli_creates_describes_and_refuses_to_drop_without_yes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NOCTURNE_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("NOCTURNE_BACKEND", "embedded")
    assert schema_cli(["create"]) == 0
    assert schema_cli(["describe", "pixel"]) == 0
    out = capsys.readouterr().out
    assert "ztf.pixel" in out and "[exists]" in out and "i:ra" in out
    assert schema_cli(["drop"]) == 2
    assert "without --yes" in capsys.readouterr().err
    assert schema_cli(["drop", "--yes"]) == 0
    assert f"dropped {len(get_schema().tables)}" in capsys.readouterr().out


def test_the_documented_command_runs_the_admin_from_any_folder(tmp_path):
    """`python -m hbase_schema` (README) hands the command to the admin on the store's side."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "NOCTURNE_DATA_DIR": str(tmp_path / "store"), "NOCTURNE_BACKEND": "embedded",
           "PYTHONPATH": str(root)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "hbase_schema", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    created = run("create")
    assert created.returncode == 0, created.stderr
    assert "ztf.pixel" in created.stdout and "ready" in created.stdout
    described = run("describe", "main")
    assert described.returncode == 0 and "ztf  (main)  [exists]" in described.stdout
    refused = run("drop")
    assert refused.returncode == 2 and "without --yes" in refused.stderr
    assert run("describe", "nosuchtable").returncode == 1
