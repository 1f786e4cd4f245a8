"""The store the API and the portal read, one per process, opened on first use.

A store that cannot be opened (missing data directory, HBase down) raises a StoreError
on each request, answered as 503 JSON; it is retried on the next request, so the server
recovers by itself once the store is there.
"""
from __future__ import annotations

import threading

from flask import current_app

from store import Store, open_store

_lock = threading.Lock()


def current_store() -> Store:
    ext = current_app.extensions
    store = ext.get("nocturne_store")
    if store is None:
        with _lock:
            store = ext.get("nocturne_store")
            if store is None:
                store = ext["nocturne_store"] = open_store(current_app.config["NOCTURNE"])
    return store
