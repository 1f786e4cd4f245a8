"""Table admin: ``python -m hbase_schema create|describe|drop [--survey ztf|rubin] [--yes] [--config FILE]``.

Each command acts on both surveys' tables (ZTF's ``schema.yml``, Rubin's ``rubin.yml``) unless
``--survey`` names one.

create    make the data directory (embedded) and every missing table; existing tables
          and data are left as they are.
describe  print the schema: tables, row keys, families, columns with type and description;
          with a table name, only that table. Marks which tables exist in the store.
drop      delete every table under the configured prefix; refuses without --yes.

The same command is ``python -m store``.
"""
# The admin opens the store, so it lives on the store's side; hbase_schema/__main__.py only
# hands the command over (the schema package imports nothing above it).
from __future__ import annotations

import argparse
import sys

from hbase_schema import SURVEYS, get_schema
from hbase_schema.describe import describe
from settings import ConfigError, load_config

from . import StoreError, open_store, table_prefix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hbase_schema", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["create", "describe", "drop"])
    parser.add_argument("table", nargs="?", help="describe: only this table (logical name, e.g. main, pixel)")
    parser.add_argument("--config", help="configuration file (default: NOCTURNE_CONFIG or config.yml)")
    parser.add_argument("--yes", action="store_true", help="drop: confirm deleting every table and its data")
    parser.add_argument("--offline", action="store_true", help="describe: do not contact the store")
    parser.add_argument("--survey", choices=list(SURVEYS), help="only this survey's tables (default: every survey)")
    args = parser.parse_args(argv)
    surveys = [args.survey] if args.survey else list(SURVEYS)
    try:
        config = load_config(args.config).for_ingest()  # creating or dropping a table takes seconds on HBase
        if args.command == "drop" and not args.yes:
            print(f"refusing to drop every '{config.table_prefix}' table of the {config.backend} store "
                  f"without --yes (this deletes their data)", file=sys.stderr)
            return 2
        if args.table and len(surveys) > 1:  # a table name: the survey whose schema has it
            surveys = [s for s in surveys if args.table in get_schema(s).tables] or surveys[:1]
        for n, survey in enumerate(surveys):
            if n:
                print()
            code = _run(args, config, get_schema(survey))
            if code:
                return code
        return 0
    except (ConfigError, StoreError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(args, config, schema) -> int:
    prefix = table_prefix(config, schema)
    if args.command == "describe":
        existing = None
        if not args.offline:
            try:
                with open_store(config, schema=schema) as store:
                    existing = set(store.existing_tables())
            except StoreError as exc:
                print(f"(store not reachable: {exc})", file=sys.stderr)
        print(f"[{schema.survey}]")
        print(describe(schema, prefix, args.table, existing))
        return 0
    if args.command == "create":
        with open_store(config, create=True, schema=schema) as store:
            where = getattr(store, "path", None) or store.where()
            print(f"store {config.backend} at {where}: {schema.survey} tables, prefix {prefix!r}, "
                  f"schema version {schema.version}")
            for logical in schema.tables:
                print(f"  {schema.table(logical).physical_name(prefix):<20} ready")
        return 0
    try:
        with open_store(config, schema=schema, any_version=True) as store:  # (a store of an older version too)
            dropped = store.drop_tables()
    except StoreError as exc:  # no tables of this survey: nothing to drop
        print(f"{schema.survey}: {exc}")
        return 0
    print(f"dropped {len(dropped)} {schema.survey} table(s): {', '.join(dropped) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
