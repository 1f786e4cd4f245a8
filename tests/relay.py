"""A TCP relay the tests stop and start to make a real server unreachable and back."""
import socket
import threading

import pytest

from conftest import hbase_address, hbase_reachable, hbase_thrift2_port, need


class Relay:
    """Relays ``target``; ``thrift2``, if given, is a second relay (to the Thrift 2 server)
    stopped and started with this one, so that the whole of HBase goes away and comes back."""

    def __init__(self, target, thrift2: "Relay | None" = None):
        self.target = target
        self.port = None
        self.server = None
        self.conns = []
        self.thrift2 = thrift2

    @property
    def thrift2_port(self) -> int:
        """The port to give as ``hbase_thrift2_port`` (0: the tests' HBase has no Thrift 2 server)."""
        return self.thrift2.port if self.thrift2 else 0

    def start(self, port=0):
        if self.thrift2:
            self.thrift2.start(self.thrift2.port or 0)
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def _accept(self, server):
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        if self.thrift2:
            self.thrift2.stop()
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        self.server.close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        self.conns = []


@pytest.fixture
def relay():
    """A relay in front of the HBase Thrift server of the tests (and of its Thrift 2 server)."""
    host, port = hbase_address()
    need(hbase_reachable(), f"no HBase Thrift server at {host}:{port} (start one with hbase_schema/local/hbase start)")
    r = Relay((host, port), Relay((host, hbase_thrift2_port())) if hbase_thrift2_port() else None)
    r.start()
    yield r
    r.stop()
