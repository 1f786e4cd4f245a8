"""Configuration: ``config.yml`` with every key overridable from the environment.

Load it once at start-up with :func:`get_config`; tests build their own with
:func:`load_config`. An invalid value raises :class:`ConfigError` naming the key.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_FILE = Path(__file__).with_name("config.yml")
BACKENDS = ("embedded", "hbase")
HBASE_LAYOUTS = ("packed", "cells")  # store.hbase_layout


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class Config:
    backend: str = "embedded"
    data_dir: Path = Path("data")
    hbase_host: str = "127.0.0.1"
    hbase_port: int = 9090
    hbase_timeout_ms: int = 5000
    hbase_ingest_timeout_ms: int = 60000
    hbase_pool_size: int = 4
    hbase_layout: str = "packed"
    hbase_thrift2_port: int = 0
    table_prefix: str = "ztf"
    schema_version: int = 1
    server_host: str = "127.0.0.1"
    server_port: int = 24000
    api_url: str = "http://127.0.0.1:24000"
    api_rate_limit: int = 600
    writes_per_minute: int = 60
    sign_ins_per_minute: int = 10
    cors_origins: str = "*"
    query_time_budget_s: float = 10.0
    compute_slots: int = 0
    compute_slots_per_client: int = 2
    dash_jobs_dir: Path = Path(tempfile.gettempdir()) / "nocturne-dash-jobs"
    secret_key: str = field(default="", repr=False)
    sky_images: str = "https://alasky.cds.unistra.fr/DSS/DSSColor"
    analysis_allowlist: str = ""
    analysis_max_per_object: int = 50
    analysis_per_minute: int = 5
    analysis_max_result_bytes: int = 8 * 1024 * 1024
    analysis_dispatcher: bool = True

    def for_ingest(self) -> "Config":
        """This configuration as the nightly ingest (and the table admin) uses it: an HBase call
        may take ``hbase_ingest_timeout_ms`` (a region split or compaction stalls writes for
        seconds, and an operator's night should ride that out; dropping a table takes seconds),
        not the API's ``hbase_timeout_ms``."""
        return self.replace(hbase_timeout_ms=max(self.hbase_timeout_ms, self.hbase_ingest_timeout_ms))

    def replace(self, **changes) -> "Config":
        """A copy with some keys changed, validated like a loaded file."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return _validated(values, base_dir=Path.cwd(), source="replace()")


def load_config(path: str | Path | None = None, environ: dict | None = None) -> Config:
    """Read a config file (default: NOCTURNE_CONFIG, else ./config.yml) and apply
    ``NOCTURNE_<KEY>`` overrides from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    path = Path(path or env.get("NOCTURNE_CONFIG") or DEFAULT_FILE)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping of keys to values")
    known = {f.name for f in fields(Config)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")
    for key in known:
        value = env.get(f"NOCTURNE_{key.upper()}")
        if value is not None:
            raw[key] = value
    return _validated(raw, base_dir=path.resolve().parent, source=str(path))


def _validated(raw: dict, base_dir: Path, source: str) -> Config:
    values = {}
    for f in fields(Config):
        value = raw.get(f.name, f.default)
        try:
            values[f.name] = _coerce(f.name, value, base_dir)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config key '{f.name}' (NOCTURNE_{f.name.upper()}) in {source}: {exc}") from None
    return Config(**values)


def _coerce(key: str, value, base_dir: Path):
    if key == "backend":
        if value not in BACKENDS:
            raise ValueError(f"{value!r} is not a backend; choose one of {', '.join(BACKENDS)}")
        return value
    if key == "hbase_layout":
        value = str(value).strip().lower()
        if value not in HBASE_LAYOUTS:
            raise ValueError(f"{value!r} is not an HBase layout; choose one of {', '.join(HBASE_LAYOUTS)}")
        return value
    if key == "data_dir":
        if not str(value).strip():
            raise ValueError("must not be empty")
        return _path(value, base_dir)
    if key == "dash_jobs_dir":  # empty: the system's temporary directory
        return _path(value, base_dir) if str(value).strip() else Config.dash_jobs_dir
    if key == "secret_key":  # empty: generated into <data_dir>/secret_key on first use
        value = str(value).strip()
        if value and len(value) < 16:
            raise ValueError("must be at least 16 characters (or empty, to generate one)")
        return value
    if key in ("hbase_port", "server_port"):
        return _int(value, 1, 65535)
    if key == "hbase_thrift2_port":  # 0: no Thrift 2 server, many ranges are read through Thrift 1
        return _int(value, 0, 65535)
    if key in ("hbase_timeout_ms", "hbase_ingest_timeout_ms", "hbase_pool_size", "schema_version"):
        return _int(value, 1, 10**9)
    if key in ("api_rate_limit", "writes_per_minute", "sign_ins_per_minute", "compute_slots"):
        return _int(value, 0, 10**9)
    if key == "analysis_allowlist":  # comma-separated URL prefixes a service's URL must start with
        prefixes = [p.strip() for p in str(value or "").split(",") if p.strip()]
        bad = [p for p in prefixes if not re.match(r"^https?://[^/?#@\s]+/", p)]
        if bad:
            raise ValueError(f"{bad[0]!r} must be an http(s) URL prefix ending its host with '/' "
                             f"(e.g. https://fitter.example.org/)")
        return ",".join(prefixes)
    if key in ("analysis_max_per_object", "analysis_per_minute"):
        return _int(value, 0, 10**6)
    if key == "analysis_max_result_bytes":
        return _int(value, 1024, 1 << 30)
    if key == "analysis_dispatcher":
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            raise ValueError(f"{value!r} is not true or false")
        return text in ("true", "1", "yes", "on")
    if key == "compute_slots_per_client":
        return _int(value, 1, 10**6)
    if key == "query_time_budget_s":
        try:
            number = float(str(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a number of seconds") from None
        if not 0.1 <= number <= 3600:
            raise ValueError(f"{number} is outside 0.1..3600 s")
        return number
    if key == "cors_origins":
        return str(value).strip()
    if key == "sky_images":  # a HiPS base URL; empty: the sky views draw our objects on a plain background
        value = str(value or "").strip().rstrip("/")
        if value and not value.startswith(("https://", "http://", "/")):
            raise ValueError(f"{value!r} must be an http(s) URL or a path on this server (or empty)")
        return value
    if key == "table_prefix":
        value = str(value)
        if not value or not all(c.isalnum() or c in "-_" for c in value):
            raise ValueError(f"{value!r} must be letters, digits, '-' or '_'")
        return value
    if not str(value).strip():
        raise ValueError("must not be empty")
    return str(value)


def _path(value, base_dir: Path) -> Path:
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else (base_dir / p).resolve()


def _int(value, lo: int, hi: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an integer")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an integer") from None
    if not lo <= number <= hi:
        raise ValueError(f"{number} is outside {lo}..{hi}")
    return number


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The process-wide configuration, loaded once."""
    return load_config()
