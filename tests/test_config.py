"""Configuration: file, NOCTURNE_<KEY> overrides, NOCTURNE_CONFIG, clear errors."""
from pathlib import Path

import pytest

from settings import DEFAULT_FILE, ConfigError, load_config


def test_defaults_come_from_config_yml():
    c = load_config(DEFAULT_FILE, environ={})
    assert c.backend == "embedded"
    assert (c.server_host, c.server_port) == ("127.0.0.1", 24000)
    assert c.table_prefix == "ztf"
    assert c.data_dir == DEFAULT_FILE.parent / "data"


def test_every_key_is_overridable_from_the_environment(tmp_path):
    env = {"NOCTURNE_BACKEND": "hbase", "NOCTURNE_HBASE_HOST": "hbase.example", "NOCTURNE_HBASE_PORT": "9191",
           "NOCTURNE_DATA_DIR": str(tmp_path), "NOCTURNE_TABLE_PREFIX": "lsst", "NOCTURNE_SERVER_PORT": "8080"}
    c = load_config(DEFAULT_FILE, environ=env)
    assert (c.backend, c.hbase_host, c.hbase_port) == ("hbase", "hbase.example", 9191)
    assert (c.data_dir, c.table_prefix, c.server_port) == (tmp_path, "lsst", 8080)


def test_nocturne_config_replaces_the_whole_file(tmp_path):
    other = tmp_path / "other.yml"
    other.write_text("backend: hbase\ndata_dir: store\n")
    c = load_config(environ={"NOCTURNE_CONFIG": str(other)})
    assert c.backend == "hbase"
    assert c.data_dir == tmp_path / "store"  # relative to the file that names it


@pytest.mark.parametrize("key,value,words", [
    ("NOCTURNE_BACKEND", "mysql", "'backend'"),
    ("NOCTURNE_HBASE_PORT", "ninety", "'hbase_port'"),
    ("NOCTURNE_SERVER_PORT", "70000", "'server_port'"),
    ("NOCTURNE_TABLE_PREFIX", "bad prefix", "'table_prefix'"),
    ("NOCTURNE_SCHEMA_VERSION", "0", "'schema_version'"),
])
def test_an_invalid_value_names_its_key(key, value, words):
    with pytest.raises(ConfigError, match=words):
        load_config(DEFAULT_FILE, environ={key: value})


def test_unknown_keys_and_unreadable_files_are_reported(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("backnd: hbase\n")
    with pytest.raises(ConfigError, match="backnd"):
        load_config(bad, environ={})
    with pytest.raises(ConfigError, match="missing.yml"):
        load_config(tmp_path / "missing.yml", environ={})
    (tmp_path / "broken.yml").write_text("backend: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "broken.yml", environ={})


def test_every_key_is_in_config_yml_and_in_the_readme_table():
    import re
    from dataclasses import fields

    import yaml

    from settings import Config
    keys = {f.name for f in fields(Config)}
    assert keys == set(yaml.safe_load(DEFAULT_FILE.read_text()))
    readme = (DEFAULT_FILE.parent / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = {k for line in table.splitlines() if line.startswith("| `")
              for k in re.findall(r"`([a-z_][a-z0-9_]*)`", line.split("|")[1])}
    assert keys <= listed, f"missing from README's configuration table: {sorted(keys - listed)}"


def test_the_secret_key_comes_through_settings_and_is_never_shown(tmp_path):
    from api.auth import secret_key
    c = load_config(DEFAULT_FILE, environ={"NOCTURNE_SECRET_KEY": "k" * 20})
    assert c.secret_key == "k" * 20 and "k" * 20 not in repr(c)
    assert secret_key(tmp_path, c.secret_key) == b"k" * 20 and not (tmp_path / "secret_key").exists()
    generated = secret_key(tmp_path, load_config(DEFAULT_FILE, environ={}).secret_key)
    assert len(generated) == 64 and (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ConfigError, match="'secret_key'") as err:
        load_config(DEFAULT_FILE, environ={"NOCTURNE_SECRET_KEY": "short"})
    assert "short" not in str(err.value)


def test_the_dash_jobs_dir_defaults_to_the_temporary_directory(tmp_path):
    import tempfile
    assert load_config(DEFAULT_FILE, environ={}).dash_jobs_dir == Path(tempfile.gettempdir()) / "nocturne-dash-jobs"
    other = tmp_path / "other.yml"
    other.write_text("dash_jobs_dir: jobs\n")
    assert load_config(other, environ={}).dash_jobs_dir == tmp_path / "jobs"
    assert load_config(other, environ={"NOCTURNE_DASH_JOBS_DIR": str(tmp_path / "x")}).dash_jobs_dir == tmp_path / "x"


def test_the_ingest_waits_longer_on_hbase_than_the_api(tmp_path):
    cfg = load_config(DEFAULT_FILE, environ={})
    assert (cfg.hbase_timeout_ms, cfg.hbase_ingest_timeout_ms) == (5000, 60000)
    assert cfg.for_ingest().hbase_timeout_ms == 60000 and cfg.hbase_timeout_ms == 5000
    slow_api = load_config(DEFAULT_FILE, environ={"NOCTURNE_HBASE_TIMEOUT_MS": "90000"})
    assert slow_api.for_ingest().hbase_timeout_ms == 90000  # never shorter than the API's
    short = load_config(DEFAULT_FILE, environ={"NOCTURNE_HBASE_INGEST_TIMEOUT_MS": "8000"})
    assert short.for_ingest().hbase_timeout_ms == 8000
    with pytest.raises(ConfigError, match="hbase_ingest_timeout_ms"):
        load_config(DEFAULT_FILE, environ={"NOCTURNE_HBASE_INGEST_TIMEOUT_MS": "0"})
