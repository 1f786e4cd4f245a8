"""Table admin: ``python -m hbase_schema create|describe|drop [--yes] [--config FILE]``.

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

from hbase_schema import get_schema
from hbase_schema.describe import describe
from settings import ConfigError, load_config

from . import StoreError, open_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hbase_schema", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["create", "describe", "drop"])
    parser.add_argument("table", nargs="?", help="describe: only this table (logical name, e.g. main, pixel)")
    parser.add_argument("--config", help="configuration file (default: NOCTURNE_CONFIG or config.yml)")
    parser.add_argument("--yes", action="store_true", help="drop: confirm deleting every table and its data")
    parser.add_argument("--offline", action="store_true", help="describe: do not contact the store")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        schema = get_schema()
        if args.command == "describe":
            existing = None
            if not args.offline:
                try:
                    with open_store(config) as store:
                        existing = set(store.existing_tables())
                except StoreError as exc:
                    print(f"(store not reachable: {exc})", file=sys.stderr)
            print(describe(schema, config.table_prefix, args.table, existing))
            return 0
        if args.command == "create":
            with open_store(config, create=True) as store:
                where = getattr(store, "path", None) or store.where()
                print(f"store {config.backend} at {where}: prefix {config.table_prefix!r}, "
                      f"schema version {schema.version}")
                for logical in schema.tables:
                    print(f"  {schema.table(logical).physical_name(config.table_prefix):<20} ready")
            return 0
        if not args.yes:
            print(f"refusing to drop every '{config.table_prefix}' table of the {config.backend} store "
                  f"without --yes (this deletes their data)", file=sys.stderr)
            return 2
        with open_store(config) as store:
            dropped = store.drop_tables()
        print(f"dropped {len(dropped)} table(s): {', '.join(dropped) or 'none'}")
        return 0
    except (ConfigError, StoreError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
