"""Opening a store: clear errors, and existing data is never recreated or overwritten."""
import os

import pytest

from conftest import make_config
from store import DataDirError, SchemaVersionError, open_store


def test_missing_data_dir_names_the_path(tmp_path):
    cfg = make_config("embedded", tmp_path / "nowhere")
    with pytest.raises(DataDirError, match=str(tmp_path / "nowhere")):
        open_store(cfg)
    assert not (tmp_path / "nowhere").exists()  # reading never creates anything


def test_a_directory_without_a_store_is_not_silently_initialised(tmp_path):
    cfg = make_config("embedded", tmp_path)
    cfg.data_dir.mkdir()
    with pytest.raises(DataDirError, match="no Nocturne store"):
        open_store(cfg)
    assert os.listdir(cfg.data_dir) == []


def test_a_data_dir_that_is_a_file_names_the_path(tmp_path):
    cfg = make_config("embedded", tmp_path)
    cfg.data_dir.write_text("oops")
    with pytest.raises(DataDirError, match=f"{cfg.data_dir} is not a directory"):
        open_store(cfg, create=False)
    assert cfg.data_dir.read_text() == "oops"


def test_unreadable_store_file_is_a_clear_error(tmp_path):
    cfg = make_config("embedded", tmp_path)
    cfg.data_dir.mkdir()
    (cfg.data_dir / "nocturne.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataDirError, match="nocturne.sqlite3"):
        open_store(cfg)


def test_create_on_an_existing_store_keeps_its_data(tmp_path):
    cfg = make_config("embedded", tmp_path)
    with open_store(cfg, create=True) as s:
        s.table("main").put("ZTF1_1", {"i:ra": 1.0})
    with open_store(cfg, create=True) as s:
        assert s.table("main").row("ZTF1_1") == {"i:ra": 1.0}


def test_a_store_of_another_schema_version_refuses_to_open(tmp_path):
    cfg = make_config("embedded", tmp_path)
    with open_store(cfg, create=True) as s:
        s.table("main").put("ZTF1_1", {"i:ra": 1.0})
        s.table("meta").put("store", {"m:schema_version": 99})
    for create in (False, True):
        with pytest.raises(SchemaVersionError, match="version 99"):
            open_store(cfg, create=create)
    with _raw(cfg) as s:
        assert s.table("main").row("ZTF1_1") == {"i:ra": 1.0}  # the data is still there


def _raw(cfg):
    from hbase_schema import get_schema
    from store.embedded import EmbeddedStore
    return EmbeddedStore(get_schema(), cfg.table_prefix, cfg.data_dir)


def test_config_and_code_schema_versions_must_agree(tmp_path):
    cfg = make_config("embedded", tmp_path).replace(schema_version=2)
    with pytest.raises(SchemaVersionError, match="schema version 2"):
        open_store(cfg, create=True)
    assert not cfg.data_dir.exists()


def test_a_rubin_store_of_version_1_says_what_to_do_and_can_be_dropped(tmp_path, capsys):
    """Version 2 stores Rubin's forced sources in blocks: a version-1 store refuses to open with
    the schema's ``upgrade`` advice, and ``python -m hbase_schema drop --survey rubin --yes``
    drops its tables so that they can be made anew."""
    from hbase_schema import get_schema
    from store.admin import main as admin
    rubin = get_schema("rubin")
    assert rubin.version == 2 and 1 in rubin.upgrade
    cfg = make_config("embedded", tmp_path)
    with open_store(cfg, create=True, schema=rubin) as s:
        s.table("meta").put("store", {"m:schema_version": 1})
    with pytest.raises(SchemaVersionError, match="ingest its nights again into a new store"):
        open_store(cfg, schema=rubin)
    config = tmp_path / "config.yml"
    config.write_text(f"backend: embedded\ndata_dir: {cfg.data_dir}\n")
    assert admin(["drop", "--survey", "rubin", "--yes", "--config", str(config)]) == 0
    assert "dropped" in capsys.readouterr().out
    with open_store(cfg, create=True, schema=rubin) as s:
        assert s.table("meta").row("store")["m:schema_version"] == 2
