"""The HBase backend for the benchmark: the local standalone (reused when one runs, else
started and stopped here), a copy of an embedded store under a fresh table prefix, the
size of those tables on disk, and their removal."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "hbase_schema" / "local"
SCRIPT = LOCAL / "hbase"
COPY_ORDER = ("main", "pixel", "objects_sky", "jd", "class", "ssnamenr", "upper", "uppervalid", "statistics")


class HBaseUnavailable(RuntimeError):
    """The local HBase could not be reached or started."""


def _status() -> tuple[int, str]:
    proc = subprocess.run([str(SCRIPT), "status"], capture_output=True, text=True, cwd=ROOT)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


class LocalHBase:
    """``with LocalHBase(parent) as hb:`` reuses a running local HBase (and leaves it
    running) or starts one on a fresh data directory and stops it (and removes the
    directory) on the way out."""

    def __init__(self, parent: Path | None = None, log=print):
        self.parent, self.log = parent, log
        self.started = False
        self.tmp: Path | None = None
        self.data_dir: Path | None = None
        self.thrift_port, self.zk_port = 9090, 2181
        self.thrift2_port = 0  # HBase's Thrift 2 server (many ranges a scanner), 0 when not started

    def __enter__(self) -> "LocalHBase":
        if not SCRIPT.exists():
            raise HBaseUnavailable(f"{SCRIPT} is missing")
        code, text = _status()
        if code == 1:
            raise HBaseUnavailable(f"the local HBase is half running ({text}); run `{SCRIPT} stop` first, "
                                   f"or pass --skip-hbase")
        if code == 3:
            self.tmp = Path(tempfile.mkdtemp(prefix="nocturne-hbase-", dir=self.parent))
            self.log(f"starting a local HBase on {self.tmp} (about 20 s)")
            self.started = True
            proc = subprocess.run([str(SCRIPT), "start", str(self.tmp)], capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                self.__exit__(None, None, None)
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
                raise HBaseUnavailable(f"the local HBase did not start (`{SCRIPT} start` exit {proc.returncode}); "
                                       f"it needs Java 11+ and Maven (or hbase_schema/local/lib). Last lines:\n{tail}\n"
                                       f"Pass --skip-hbase to run without it.")
            code, text = _status()
        else:
            self.log(f"reusing the running local HBase ({text}); it stays running")
        found = parse_status(text)
        if found is None:
            self.__exit__(None, None, None)
            raise HBaseUnavailable(f"cannot read the local HBase status: {text!r}")
        self.zk_port, self.thrift_port, self.thrift2_port, self.data_dir = found
        return self

    def __exit__(self, *exc) -> None:
        if self.started:
            self.log("stopping the local HBase started by this benchmark")
            subprocess.run([str(SCRIPT), "stop"], capture_output=True, text=True, cwd=ROOT)
            self.started = False
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def config(self, prefix: str):
        from settings import Config
        return Config().replace(backend="hbase", hbase_host="127.0.0.1", hbase_port=self.thrift_port,
                                hbase_thrift2_port=self.thrift2_port, table_prefix=prefix, hbase_timeout_ms=60000)

    def env(self, prefix: str) -> dict:
        return {"NOCTURNE_BACKEND": "hbase", "NOCTURNE_HBASE_HOST": "127.0.0.1",
                "NOCTURNE_HBASE_PORT": str(self.thrift_port), "NOCTURNE_HBASE_THRIFT2_PORT": str(self.thrift2_port),
                "NOCTURNE_TABLE_PREFIX": prefix,
                "NOCTURNE_HBASE_TIMEOUT_MS": "60000"}

    def table_bytes(self, prefix: str) -> int:
        """Bytes of the HFiles of the tables under ``prefix``, after a flush of their memstores."""
        from hbase_schema import get_schema
        names = [spec.physical_name(prefix) for spec in get_schema().tables.values()]
        java = shutil.which("java") or "java"
        proc = subprocess.run([java, "-cp", f"{LOCAL / 'lib'}/*:{LOCAL / 'run' / 'conf'}",
                               str(Path(__file__).with_name("Flush.java")), str(self.zk_port), *names],
                              capture_output=True, text=True, cwd=ROOT, timeout=600)
        if proc.returncode != 0:
            raise HBaseUnavailable(f"flush failed: {proc.stderr.strip()[-500:]}")
        time.sleep(1)
        base = self.data_dir / "hbase" / "data" / "default"
        return sum(f.stat().st_size for n in names if (base / n).exists() for f in (base / n).rglob("*")
                   if f.is_file() and "/.tmp/" not in str(f) and not f.name.startswith("."))

    def drop(self, prefix: str) -> None:
        from store import open_store
        from store.errors import StoreError
        try:
            s = open_store(self.config(prefix))
        except StoreError:
            from store.hbase import HBaseStore
            from hbase_schema import get_schema
            cfg = self.config(prefix)
            s = HBaseStore(get_schema(), prefix, cfg.hbase_host, cfg.hbase_port, cfg.hbase_timeout_ms)
        with s:
            s.drop_tables()


STATUS = re.compile(r"zookeeper 127\.0\.0\.1:(\d+)\), thrift pid \d+ \(127\.0\.0\.1:(\d+)\),"
                    r"(?: thrift2 (?:off|pid \d+ \(127\.0\.0\.1:(\d+)\)),)? data (\S+),")


def parse_status(text: str) -> tuple[int, int, int, Path] | None:
    """(ZooKeeper port, Thrift port, Thrift 2 port or 0, data folder) of ``hbase status``'s
    line for a running instance; None for any other text."""
    m = STATUS.search(text)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), Path(m.group(4))


def _copy_table(args) -> tuple[str, int, float]:
    data_dir, config, table = args
    from settings import Config
    from store import open_store
    t0 = time.perf_counter()
    n = 0
    with open_store(Config().replace(data_dir=data_dir)) as src, open_store(config) as dst:
        source, target = src.table(table), dst.table(table)
        with target.batch(200 if table == "main" else 2000) as b:
            for key, cells in source.scan(batch_size=2000):
                b.put(key, cells)
                n += 1
    return table, n, time.perf_counter() - t0


def copy_store(data_dir: Path, config, workers: int = 2, log=print) -> float:
    """Copy every table of the embedded store at ``data_dir`` to HBase (``config``: backend
    hbase, a fresh prefix), table by table through the store API. Returns seconds."""
    from store import open_store
    t0 = time.perf_counter()
    with open_store(config, create=True):
        pass
    with ProcessPoolExecutor(workers) as pool:
        for table, n, s in pool.map(_copy_table, [(data_dir, config, t) for t in COPY_ORDER]):
            log(f"  HBase: {table}: {n:,} rows in {s:.0f} s")
    return time.perf_counter() - t0


__all__ = ["LocalHBase", "HBaseUnavailable", "copy_store", "parse_status"]
