"""The HBase backend's connections: a bounded pool of Thrift connections (happybase's, or
Thrift 2's), each made on first use, and the context that lends one out, closing a connection
an error left broken so that its next use reopens it (:mod:`store.hbase`)."""
from __future__ import annotations

import queue
import socket
import threading

import happybase
from thriftpy2.thrift import TException
from thriftpy2.transport import TTransportException

from .errors import StoreUnavailable

TRANSIENT = (TTransportException, socket.error, BrokenPipeError, ConnectionError, EOFError)


class Pool:
    """At most ``size`` connections (happybase's, or ``kind``), made on first use (so a store
    can be opened while HBase is down, and answers once it is back)."""

    def __init__(self, size: int, host: str, port: int, timeout_ms: int, kind=happybase.Connection):
        self.host, self.port, self.timeout_ms, self.kind = host, port, timeout_ms, kind
        self.free: queue.LifoQueue = queue.LifoQueue()
        self.slots = threading.BoundedSemaphore(size)

    def acquire(self, timeout: float) -> happybase.Connection:
        if not self.slots.acquire(timeout=timeout):
            raise StoreUnavailable(f"no free HBase connection to {self.host}:{self.port} within "
                                   f"{self.timeout_ms} ms (pool exhausted)")
        try:
            return self.free.get_nowait()
        except queue.Empty:
            return self.kind(self.host, self.port, timeout=self.timeout_ms, autoconnect=False)

    def release(self, conn) -> None:
        self.free.put(conn)
        self.slots.release()

    def close(self) -> None:
        while True:
            try:
                self.free.get_nowait().close()
            except queue.Empty:
                return


class PooledConnection:
    """A pool connection opened on entry; a broken one is closed so the next use reopens it."""

    def __init__(self, pool: Pool):
        self.pool = pool
        self.timeout = pool.timeout_ms / 1000

    def __enter__(self):
        self.conn = self.pool.acquire(self.timeout)
        try:
            if not self.conn.transport.is_open():
                self.conn.open()
        except BaseException:
            self._release(broken=True)
            raise
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        self._release(broken=exc_type is not None and issubclass(exc_type, TRANSIENT + (TException,)))

    def _release(self, broken: bool) -> None:
        if broken:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn._refresh_thrift_client()
        self.pool.release(self.conn)
