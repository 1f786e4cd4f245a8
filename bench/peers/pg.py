"""The ALeRCE-like peer: PostgreSQL 15 + q3c, a private cluster, its schema, load, ingest
and queries (SQL through psycopg, answers as the same DataFrames Nocturne's queries give).

Schema (as ALeRCE lays out its database):

* ``detections``: one row per alert, every candidate field and added value of Nocturne's
  main table as a typed column (float32 → real, json → jsonb, ...), primary key
  ``(candid, objectid)``; B-trees on ``(objectid, jd)`` (the table is CLUSTERed on it) and
  on ``(jd)``.
* ``objects``: one row per object (``meanra``, ``meandec``, ``firstmjd``, ``lastmjd``,
  ``ndet``, ``class`` = class of its latest alert); q3c index on ``(meanra, meandec)``
  (the table is CLUSTERed on it) and a B-tree on ``(class, lastmjd)``; the per-alert
  class has a B-tree on ``detections (classification, jd)`` for the newest alerts of a class.
* ``non_detections``: upper limits, primary key ``(objectid, jd)``.
* ``cutouts``: ``candid`` → the three gzipped FITS stamps as ``bytea``.
"""
from __future__ import annotations

import orjson
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.http_timing import free_port

PG_BIN = Path(os.environ.get("NOCTURNE_PG_BIN", "/usr/lib/postgresql/15/bin"))
MJD = 2400000.5
PG_TYPES = {"float32": "real", "float64": "double precision", "int32": "integer", "int64": "bigint",
            "bool": "boolean", "string": "text", "json": "jsonb", "bytes": "bytea"}
CUTOUT_KINDS = ("Science", "Template", "Difference")


class PgUnavailable(RuntimeError):
    """PostgreSQL (or q3c) is missing or the private cluster could not start."""


# -- the columns ------------------------------------------------------------------------

def detection_columns() -> list[tuple[str, str, str]]:
    """``(nocturne name, SQL name, SQL type)`` of every i: and d: column of the main table,
    objectid, candid and jd first."""
    from hbase_schema import get_schema
    main = get_schema().table("main")
    cols = [(c.name if hasattr(c, "name") else f"{c.family}:{c.qualifier}", c.qualifier.lower(), PG_TYPES[c.type])
            for c in main.columns() if c.family in ("i", "d")]
    first = {"i:objectId": 0, "i:candid": 1, "i:jd": 2}
    return sorted(cols, key=lambda c: first.get(c[0], 3))


def _q(name: str) -> str:
    return '"' + name + '"'


COLS = detection_columns()
NAMES = [c[0] for c in COLS]
SQL_NAMES = [c[1] for c in COLS]
JSON_INDEX = [i for i, c in enumerate(COLS) if c[2] == "jsonb"]
SELECT_ALL = ", ".join(f"d.{_q(n)}" for n in SQL_NAMES)
UPPER_COLS = [("i:objectId", "objectid", "text"), ("i:jd", "jd", "double precision"), ("i:fid", "fid", "integer"),
              ("i:diffmaglim", "diffmaglim", "real"), ("i:rcid", "rcid", "integer"), ("i:field", "field", "integer"),
              ("i:pid", "pid", "bigint")]


def ddl() -> str:
    det = ",\n  ".join(f"{_q(n)} {t}" + (" NOT NULL" if n in ("objectid", "candid", "jd") else "")
                       for _, n, t in COLS)
    upper = ",\n  ".join(f"{_q(n)} {t}" for _, n, t in UPPER_COLS)
    return f"""
CREATE EXTENSION IF NOT EXISTS q3c;
CREATE TABLE detections (
  {det},
  PRIMARY KEY (candid, objectid)
);
CREATE TABLE objects (
  objectid text PRIMARY KEY, meanra double precision NOT NULL, meandec double precision NOT NULL,
  firstmjd double precision, lastmjd double precision, ndet integer, class text, lastcandid bigint
);
CREATE TABLE non_detections ({upper}, PRIMARY KEY (objectid, jd));
CREATE TABLE cutouts (candid bigint PRIMARY KEY, objectid text NOT NULL, science bytea, template bytea,
                      difference bytea);
"""


INDEXES = """
CREATE INDEX IF NOT EXISTS detections_oid_jd ON detections (objectid, jd);
CREATE INDEX IF NOT EXISTS detections_jd ON detections (jd);
CREATE INDEX IF NOT EXISTS objects_q3c ON objects (q3c_ang2ipix(meanra, meandec));
CREATE INDEX IF NOT EXISTS objects_class_lastmjd ON objects (class, lastmjd);
CREATE INDEX IF NOT EXISTS detections_class_jd ON detections (classification, jd);
"""

OBJECT_STATS = f"""
SELECT objectid, avg(ra), avg("dec"), min(jd) - {MJD}, max(jd) - {MJD}, count(*)::int,
       (array_agg(classification ORDER BY jd DESC))[1], (array_agg(candid ORDER BY jd DESC))[1]
FROM detections {{where}} GROUP BY objectid
"""


# -- the private cluster ----------------------------------------------------------------

class Cluster:
    """A throw-away PostgreSQL cluster owned by the ``postgres`` user, on a loopback port.

    ``with Cluster() as pg:`` initdb + start; always stopped (and its directory removed
    unless ``keep``) on the way out."""

    def __init__(self, parent: Path | None = None, keep: bool = False, shared_buffers: str = "1GB"):
        self.parent, self.keep, self.shared_buffers = parent, keep, shared_buffers
        self.dir: Path | None = None
        self.port = 0
        self.started = False

    def _as_postgres(self, *cmd, check=True, timeout=300):
        user = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        return subprocess.run([*user, *map(str, cmd)], capture_output=True, text=True, check=check, timeout=timeout)

    def __enter__(self) -> "Cluster":
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not (PG_BIN / tool).exists():
                raise PgUnavailable(f"{PG_BIN / tool} not found: install PostgreSQL 15 and q3c with "
                                    f"`apt-get update && apt-get install -y postgresql-15 postgresql-15-q3c` "
                                    f"(or set NOCTURNE_PG_BIN)")
        share = subprocess.run([str(PG_BIN / "pg_config"), "--sharedir"], capture_output=True, text=True).stdout.strip() \
            if (PG_BIN / "pg_config").exists() else "/usr/share/postgresql/15"
        if not (Path(share or "/usr/share/postgresql/15") / "extension" / "q3c.control").exists() and \
                not Path("/usr/share/postgresql/15/extension/q3c.control").exists():
            raise PgUnavailable("the q3c extension is not installed: `apt-get install -y postgresql-15-q3c`")
        try:
            self.dir = Path(tempfile.mkdtemp(prefix="nocturne-pg-", dir=self.parent))
            os.chmod(self.dir, 0o755)
            if os.geteuid() == 0:
                shutil.chown(self.dir, "postgres", "postgres")
            data = self.dir / "data"
            self._as_postgres(PG_BIN / "initdb", "-D", data, "--auth=trust", "-U", "postgres", "-E", "UTF8",
                              "--no-locale")
            self.port = free_port()
            opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                    f"-c shared_buffers={self.shared_buffers} -c work_mem=64MB -c maintenance_work_mem=1GB "
                    f"-c effective_cache_size=8GB -c max_wal_size=8GB -c checkpoint_timeout=30min "
                    f"-c random_page_cost=1.1 -c jit=off")
            self._as_postgres(PG_BIN / "pg_ctl", "-D", data, "-l", self.dir / "server.log", "-o", opts, "-w",
                              "-t", "120", "start")
            self.started = True
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, LookupError) as exc:
            detail = getattr(exc, "stderr", "") or ""
            log = self.dir / "server.log" if self.dir else None
            if log and log.exists():
                detail += "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            self.__exit__(None, None, None)
            raise PgUnavailable(f"could not start a private PostgreSQL cluster: {exc}\n{detail.strip()}") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.dir and (self.started or (self.dir / "data" / "postmaster.pid").exists()):
            self._as_postgres(PG_BIN / "pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "-t", "60", "stop",
                              check=False)
            self.started = False
        if self.dir and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def dsn(self, db: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db}"

    def versions(self) -> str:
        import psycopg
        with psycopg.connect(self.dsn()) as conn:
            server = conn.execute("SHOW server_version").fetchone()[0].split(" ")[0]
            q3c = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'q3c'").fetchone()
        return f"PostgreSQL {server}, q3c {q3c[0] if q3c else 'missing'}"

    def drop_db(self, db: str) -> None:
        import psycopg
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    def create_db(self, db: str) -> str:
        import psycopg
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
            conn.execute(f'CREATE DATABASE "{db}"')
        with psycopg.connect(self.dsn(db), autocommit=True) as conn:
            conn.execute(ddl())
        return self.dsn(db)


# -- rows -------------------------------------------------------------------------------

def detection_tuple(cells: dict) -> tuple:
    row = [cells.get(n) for n in NAMES]
    for i in JSON_INDEX:
        if row[i] is not None:
            row[i] = orjson.dumps(row[i]).decode()  # NaN → null, as the JSON API renders it
    return tuple(row)


def _copy(cur, table: str, names: list[str], rows) -> int:
    n = 0
    with cur.copy(f"COPY {table} ({', '.join(_q(c) for c in names)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)
            n += 1
    return n


def load_from_store(dsn: str, data_dir: Path, log=print) -> dict:
    """Copy every alert, upper limit and cutout of the embedded store at ``data_dir`` into the
    database, then index, VACUUM ANALYZE and CLUSTER. Returns timings."""
    import psycopg
    from settings import Config
    from store import open_store
    t0 = time.perf_counter()
    with open_store(Config().replace(data_dir=data_dir)) as s, psycopg.connect(dsn, autocommit=True) as conn:
        main, upper = s.table("main"), s.table("upper")
        with conn.cursor() as cur:
            n = _copy(cur, "detections", SQL_NAMES,
                      (detection_tuple(c) for _, c in main.scan(columns=["i", "d"], batch_size=5000)))
            _copy(cur, "non_detections", [c[1] for c in UPPER_COLS],
                  (tuple(c.get(k) for k, _, _ in UPPER_COLS) for _, c in upper.scan(batch_size=5000)))
            _copy(cur, "cutouts", ["candid", "objectid", "science", "template", "difference"],
                  ((c["i:candid"], c["i:objectId"], *(c.get(f"b:cutout{k}_stampData") for k in CUTOUT_KINDS))
                   for _, c in main.scan(columns=["b", "i:candid", "i:objectId"], batch_size=500)
                   if any(f"b:cutout{k}_stampData" in c for k in CUTOUT_KINDS)))
        t_copy = time.perf_counter() - t0
        conn.execute("INSERT INTO objects " + OBJECT_STATS.format(where=""))
        conn.execute(INDEXES)
        conn.execute("CLUSTER objects USING objects_q3c")
        conn.execute("CLUSTER detections USING detections_oid_jd")
        conn.execute("VACUUM ANALYZE")
    log(f"  PostgreSQL: {n:,} detections copied in {t_copy:.0f} s, indexed and clustered in "
        f"{time.perf_counter() - t0 - t_copy:.0f} s")
    return {"alerts": n, "copy_s": t_copy, "total_s": time.perf_counter() - t0}


def database_bytes(dsn: str) -> int:
    import psycopg
    with psycopg.connect(dsn) as conn:
        return int(conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'm') AND n.nspname = 'public'").fetchone()[0] or 0)


# -- ingest: the same night files, decoded and classified as Nocturne does ---------------

def _night_rows(files: list[Path]):
    """Worker: packets of ``files`` → (detections, non-detections, cutouts) tuples."""
    from hbase_schema import get_schema
    from ingest.readers import packets_of
    from ingest.rows import RowBuilder
    from ingest.validate import problem
    builder = RowBuilder(get_schema())
    det, upper, cut = [], [], []
    for packet in packets_of(files):
        if packet.error or problem(packet.record):
            continue
        rows = builder.build(packet.record, packet.typed)
        cells = rows.main[1]
        det.append(detection_tuple(cells))
        blobs = [cells.get(f"b:cutout{k}_stampData") for k in CUTOUT_KINDS]
        if any(b is not None for b in blobs):
            cut.append((rows.candid, rows.object_id, *blobs))
        for _, c in rows.upper:
            upper.append(tuple(c.get(k) for k, _, _ in UPPER_COLS))
    return det, upper, cut


def ingest_night(dsn: str, path: Path, workers: int = 2) -> tuple[float, int]:
    """ALeRCE-like ingest of the night at ``path`` into a database with the schema and its
    indexes in place: decode + validate + flatten (Nocturne's reader and row builder, in
    ``workers`` processes), COPY into staging tables, insert (skipping duplicates),
    then update the objects touched. Returns (seconds, alerts)."""
    import psycopg
    from concurrent.futures import ProcessPoolExecutor
    from ingest.plan import input_files, units
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(INDEXES)
    t0 = time.perf_counter()
    n = 0
    work = units(input_files(path))
    with ProcessPoolExecutor(workers) as pool, psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE stage_det (LIKE detections) ON COMMIT DELETE ROWS")
            cur.execute("CREATE TEMP TABLE stage_upper (LIKE non_detections) ON COMMIT DELETE ROWS")
            cur.execute("CREATE TEMP TABLE stage_cut (LIKE cutouts) ON COMMIT DELETE ROWS")
            conn.commit()
            for det, upper, cut in pool.map(_night_rows, work):
                n += _copy(cur, "stage_det", SQL_NAMES, det)
                _copy(cur, "stage_upper", [c[1] for c in UPPER_COLS], upper)
                _copy(cur, "stage_cut", ["candid", "objectid", "science", "template", "difference"], cut)
                cur.execute("INSERT INTO detections SELECT * FROM stage_det ON CONFLICT DO NOTHING")
                cur.execute("INSERT INTO non_detections SELECT DISTINCT ON (objectid, jd) * FROM stage_upper "
                            "ON CONFLICT DO NOTHING")
                cur.execute("INSERT INTO cutouts SELECT * FROM stage_cut ON CONFLICT DO NOTHING")
                cur.execute("INSERT INTO objects " + OBJECT_STATS.format(
                    where="WHERE objectid IN (SELECT DISTINCT objectid FROM stage_det)") +
                    " ON CONFLICT (objectid) DO UPDATE SET meanra = EXCLUDED.meanra, meandec = EXCLUDED.meandec, "
                    "firstmjd = EXCLUDED.firstmjd, lastmjd = EXCLUDED.lastmjd, ndet = EXCLUDED.ndet, "
                    "class = EXCLUDED.class, lastcandid = EXCLUDED.lastcandid")
                conn.commit()
    return time.perf_counter() - t0, n


# -- queries ----------------------------------------------------------------------------

def frame(names: list[str], rows: list[tuple]) -> pd.DataFrame:
    """Rows → the DataFrame Nocturne's ``to_frame`` gives: float32 columns rounded to 7
    digits, integer columns with gaps as Int64, the v: columns added."""
    from api.queries.frame import add_v_columns, column_types, float32_columns, round7
    df = pd.DataFrame.from_records(rows, columns=names) if rows else pd.DataFrame()
    if df.empty:
        return df
    kinds = df.dtypes.map(lambda t: t.kind).to_dict()
    ints = {name for name, kind in column_types().items() if kind in ("int32", "int64")}
    for col in ints.intersection(df.columns):
        if kinds[col] == "f":
            i = names.index(col)
            df[col] = pd.array([r[i] for r in rows], dtype="Int64")
    floats = [c for c in df.columns if c in float32_columns() and kinds[c] in "fiu"]
    if floats:
        df[floats] = round7(df[floats].to_numpy(dtype=float, na_value=np.nan))
    add_v_columns(df)
    return df


LATEST = f"CROSS JOIN LATERAL (SELECT * FROM detections x WHERE x.objectid = o.objectid ORDER BY x.jd DESC LIMIT 1) d"


class PgQueries:
    """The query set over one connection, answering DataFrames like ``api.queries``."""

    def __init__(self, dsn: str):
        import psycopg
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute("SET search_path = public")

    def close(self) -> None:
        self.conn.close()

    def _frame(self, sql: str, params=(), extra: list[str] = ()) -> pd.DataFrame:
        rows = self.conn.execute(sql, params, prepare=True).fetchall()
        return frame(NAMES + list(extra), rows)

    def objects(self, object_id: str) -> pd.DataFrame:
        return self._frame(f"SELECT {SELECT_ALL} FROM detections d WHERE d.objectid = %s ORDER BY d.jd", (object_id,))

    def conesearch(self, ra: float, dec: float, radius_arcsec: float, n: int = 1000) -> pd.DataFrame:
        return self._frame(
            f"SELECT {SELECT_ALL}, o.sep FROM (SELECT objectid, q3c_dist(meanra, meandec, %(ra)s, %(dec)s) AS sep "
            f"FROM objects WHERE q3c_radial_query(meanra, meandec, %(ra)s, %(dec)s, %(r)s) ORDER BY sep LIMIT %(n)s) o "
            f"{LATEST} ORDER BY o.sep",
            {"ra": ra, "dec": dec, "r": radius_arcsec / 3600, "n": n}, ["v:separation_degree"])

    def latests(self, label: str, n: int = 10, start_jd: float | None = None) -> pd.DataFrame:
        """The ``n`` newest alerts of the class (Nocturne's and Fink's semantics), on the
        B-tree (classification, jd). ``latest_objects`` is ALeRCE's own listing."""
        return self._frame(f"SELECT {SELECT_ALL} FROM detections d WHERE d.classification = %s AND d.jd >= %s "
                           f"ORDER BY d.jd DESC LIMIT %s", (label, -1e9 if start_jd is None else start_jd, n))

    def latest_objects(self, label: str, n: int = 10, start_jd: float | None = None) -> pd.DataFrame:
        """The ``n`` objects of the class seen last (ALeRCE's listing), each with its latest alert."""
        start = -1e9 if start_jd is None else start_jd - MJD
        return self._frame(
            f"SELECT {SELECT_ALL} FROM (SELECT objectid, lastmjd FROM objects WHERE class = %s AND lastmjd >= %s "
            f"ORDER BY lastmjd DESC LIMIT %s) o {LATEST} ORDER BY o.lastmjd DESC", (label, start, n))

    def time_window(self, start_jd: float, stop_jd: float, n: int = 1000) -> pd.DataFrame:
        return self._frame(f"SELECT {SELECT_ALL} FROM detections d WHERE d.jd >= %s AND d.jd < %s ORDER BY d.jd "
                           f"LIMIT %s", (start_jd, stop_jd, n))

    def cutout_png(self, object_id: str, candid: int, stretch="sigmoid", colormap="Greys_r", pmin=0.5, pmax=99.5,
                   kernel=None) -> bytes | None:
        from api.queries import decode_stamp
        from science.cutout_image import to_png
        row = self.conn.execute("SELECT science FROM cutouts WHERE candid = %s AND objectid = %s",
                                (candid, object_id), prepare=True).fetchone()
        if row is None or row[0] is None:
            return None
        return to_png(decode_stamp(bytes(row[0])), stretch, colormap, pmin, pmax, kernel)

    def xmatch(self, sources: pd.DataFrame, radius_arcsec: float, columns: list[str] | None = None) -> pd.DataFrame:
        """One SQL: the uploaded sources q3c_join'ed to the objects, each match's latest alert."""
        wanted = NAMES if columns is None else [c for c in columns if c in NAMES]
        sql_cols = ", ".join(f"d.{_q(SQL_NAMES[NAMES.index(c)])}" for c in wanted)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE src (id text, ra double precision, dec double precision) ON COMMIT DROP")
            with cur.copy("COPY src (id, ra, dec) FROM STDIN") as cp:
                for row in zip(sources["id"].astype(str), sources["ra"].astype(float), sources["dec"].astype(float)):
                    cp.write_row(row)
            cur.execute("ANALYZE src")
            rows = cur.execute(
                f"SELECT s.id, s.ra, s.dec, {sql_cols}, q3c_dist(s.ra, s.dec, o.meanra, o.meandec) FROM src s "
                f"JOIN objects o ON q3c_join(s.ra, s.dec, o.meanra, o.meandec, %s) {LATEST}",
                (radius_arcsec / 3600,)).fetchall()
        df = frame(["id_in", "ra_in", "dec_in", *wanted, "v:separation_degree"], rows)
        if columns is None or df.empty:
            return df
        return df[[c for c in ["id_in", "ra_in", "dec_in", *columns] if c in df.columns]]  # as api.queries.xmatch


def explain(dsn: str, sql: str, params=()) -> str:
    import psycopg
    with psycopg.connect(dsn) as conn:
        return "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, params).fetchall())


__all__ = ["Cluster", "PgUnavailable", "PgQueries", "load_from_store", "ingest_night", "database_bytes", "frame"]


def _main(argv=None) -> int:
    """``python -m bench.peers.pg ingest DSN PATH``: the PostgreSQL ingest as its own
    process (timed from outside, start-up included, as ``python -m ingest night`` is)."""
    import argparse
    p = argparse.ArgumentParser(prog="python -m bench.peers.pg")
    sub = p.add_subparsers(dest="cmd", required=True)
    ing = sub.add_parser("ingest", help="ingest a night folder into a database with the schema")
    ing.add_argument("dsn")
    ing.add_argument("path", type=Path)
    ing.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    seconds, n = ingest_night(args.dsn, args.path, args.workers)
    print(f"{n} {seconds:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
