"""Users and API tokens of the configured store, from the command line.

    python -m api.tokens_cli user add NAME [--password] [--admin]   # --password asks for it (or reads stdin)
    python -m api.tokens_cli user passwd NAME
    python -m api.tokens_cli user list
    python -m api.tokens_cli token issue NAME --scope annotate [--scope admin] [--note TEXT]
    python -m api.tokens_cli token list [NAME]
    python -m api.tokens_cli token revoke ID

``token issue`` prints the token once: only its SHA-256 is stored. Exit codes: 0 done,
2 bad usage or value, 1 the store failed.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from settings import ConfigError, get_config
from store import StoreError, open_store

from . import auth


def _password(ask: bool) -> str | None:
    if not ask:
        return None
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _table(rows: list[dict], columns: list[str]) -> str:
    cells = [[("yes" if v is True else "" if v in (None, False) else ",".join(v) if isinstance(v, list) else str(v))
              for v in (r.get(c) for c in columns)] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def run(args, store) -> str:
    if args.what == "user":
        if args.verb == "add":
            auth.add_user(store, args.name, _password(args.password), ["admin"] if args.admin else [])
            return f"user {args.name} created" + (" (admin)" if args.admin else "")
        if args.verb == "passwd":
            ended = auth.set_password(store, args.name, _password(True))
            return f"password of {args.name} changed; {ended} portal session(s) ended"
        return _table(auth.list_users(store), ["user", "roles", "password", "created"])
    if args.verb == "issue":
        token, token_id = auth.issue_token(store, args.name, args.scope or ["annotate"], args.note or "")
        return (f"{token}\n\ntoken {token_id} for {args.name}, scopes {', '.join(sorted(set(args.scope or ['annotate'])))}"
                f". Copy it now: it is not stored and will not be shown again.\n"
                f"Use it as the header  Authorization: token <token>")
    if args.verb == "list":
        return _table(auth.list_tokens(store, args.name), ["id", "user", "scopes", "created", "revoked", "note"])
    done = auth.revoke_token(store, args.id)
    if not done:
        raise ValueError(f"no valid token with id {args.id}")
    return f"revoked {done} token{'s' if done > 1 else ''}"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m api.tokens_cli", description="Users and API tokens of Nocturne.")
    what = p.add_subparsers(dest="what", required=True)
    user = what.add_parser("user", help="create and list users").add_subparsers(dest="verb", required=True)
    add = user.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--password", action="store_true", help="set a password (asked, or one line of stdin)")
    add.add_argument("--admin", action="store_true", help="may delete any annotation and hold admin tokens")
    user.add_parser("passwd", help="set a user's password").add_argument("name")
    user.add_parser("list", help="every user")
    token = what.add_parser("token", help="issue, list and revoke tokens").add_subparsers(dest="verb", required=True)
    issue = token.add_parser("issue", help="issue a token (printed once)")
    issue.add_argument("name")
    issue.add_argument("--scope", action="append", choices=auth.SCOPES, help="annotate (default) and/or admin")
    issue.add_argument("--note", help="what the token is for")
    token.add_parser("list", help="tokens (ids, never the tokens)").add_argument("name", nargs="?")
    token.add_parser("revoke", help="revoke a token by its id").add_argument("id")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        config = get_config()
        with open_store(config) as store:
            auth.ensure_tables(store)
            print(run(args, store))
    except (ValueError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"error: the store failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
