#!/usr/bin/env python3
"""Readiness check for the local HBase Thrift gateway (used by ./hbase start).

One attempt: connect with happybase (buffered transport, binary protocol, as
happybase.Connection defaults), create a throw-away table, put a row, read it
back (and, given a Thrift 2 port, read it again through that server with a scanner,
as store/hbase_multirange.py does), then disable and delete the table. Exit 0 on
success, 1 on failure (the reason goes to stderr as one line).

    python smoke.py [--host 127.0.0.1] [--port 9090] [--thrift2-port 0] [--timeout-ms 20000]
"""

import argparse
import os
import sys
import time

PREFIX = "__nocturne_smoke_"


THRIFT2_IDL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "store", "hbase_thrift2.thrift")


def check_thrift2(host: str, port: int, timeout_ms: int, table: str) -> None:
    """The row put through Thrift 1 read back through the Thrift 2 server."""
    import thriftpy2
    from thriftpy2.rpc import make_client

    idl = thriftpy2.load(THRIFT2_IDL, module_name="smoke_thrift2_thrift")
    client = make_client(idl.THBaseService, host, port, timeout=timeout_ms)
    try:
        scanner = client.openScanner(table.encode(), idl.TScan(startRow=b"row-1", stopRow=b"row-2"))
        rows = client.getScannerRows(scanner, 10)
        client.closeScanner(scanner)
    finally:
        client.close()
    if [r.row for r in rows] != [b"row-1"]:
        raise RuntimeError("Thrift 2 read back %r" % (rows,))


def check(host: str, port: int, timeout_ms: int, thrift2_port: int = 0) -> None:
    import happybase

    name = "%s%d_%d" % (PREFIX, os.getpid(), int(time.time() * 1000))
    conn = happybase.Connection(host, port, timeout=timeout_ms, autoconnect=False)
    conn.open()
    try:
        conn.create_table(name, {"f": dict(max_versions=1)})
        try:
            table = conn.table(name)
            table.put(b"row-1", {b"f:q": b"v1"})
            got = table.row(b"row-1")
            if got.get(b"f:q") != b"v1":
                raise RuntimeError("read back %r" % (got,))
            if thrift2_port:
                check_thrift2(host, thrift2_port, timeout_ms, name)
        finally:
            conn.delete_table(name, disable=True)
        # tables left by an earlier attempt that timed out half-way
        for stale in conn.tables():
            if stale.startswith(PREFIX.encode()):
                try:
                    conn.delete_table(stale, disable=True)
                except Exception:
                    pass
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=int(os.environ.get("HBASE_THRIFT_PORT", "9090")))
    ap.add_argument("--thrift2-port", type=int, default=0, help="also read through this Thrift 2 server")
    ap.add_argument("--timeout-ms", type=int, default=20000)
    args = ap.parse_args()
    try:
        check(args.host, args.port, args.timeout_ms, args.thrift2_port)
    except ImportError as exc:
        print("smoke: cannot import happybase (%s); set PYTHON to an interpreter that has it" % exc,
              file=sys.stderr)
        return 2
    except Exception as exc:  # any transport / IO / Thrift error means "not ready yet"
        msg = str(exc).splitlines()[0][:300] if str(exc) else ""
        print("smoke: not ready: %s: %s" % (type(exc).__name__, msg), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
