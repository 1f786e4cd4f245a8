"""A TCP relay the tests stop and start to make a real server unreachable and back."""
import socket
import threading

import pytest

from conftest import hbase_address, hbase_reachable, need


class Relay:
    def __init__(self, target):
        self.target = target
        self.port = None
        self.server = None
        self.conns = []

    def start(self, port=0):
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
    """A relay in front of the HBase Thrift server of the tests."""
    host, port = hbase_address()
    need(hbase_reachable(), f"no HBase Thrift server at {host}:{port} (start one with hbase_schema/local/hbase start)")
    r = Relay((host, port))
    r.start()
    yield r
    r.stop()
