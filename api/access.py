"""The stores the API and the portal read, one per survey and process, opened on first use.

A store that cannot be opened (missing data directory, HBase down) raises a StoreError
on each request, answered as 503 JSON; it is retried on the next request, so the server
recovers by itself once the store is there. The Rubin tables are a second store (their own
schema, hbase_schema/rubin.yml): a deployment without them answers the Rubin routes with a
503 that names the command creating them, and its ZTF routes are unaffected.
"""
from __future__ import annotations

import threading

from flask import current_app

from hbase_schema import get_schema
from store import Store, open_store
from store.errors import DataDirError

from .errors import ApiError

_lock = threading.Lock()
SURVEYS = {"ztf": "nocturne_store", "rubin": "nocturne_store_rubin"}
RUBIN_MISSING = ("this server holds no Rubin/LSST tables yet ({reason}); create them with "
                 "`python -m hbase_schema create --survey rubin`, then ingest a night with "
                 "`python -m ingest night PATH`")


def current_store(survey: str = "ztf") -> Store:
    """The open store of ``survey`` (``ztf`` or ``rubin``) for this app."""
    ext = current_app.extensions
    name = SURVEYS[survey]
    store = ext.get(name)
    if store is None:
        with _lock:
            store = ext.get(name)
            if store is None:
                store = ext[name] = _open(survey)
    return store


def _open(survey: str) -> Store:
    config = current_app.config["NOCTURNE"]
    if survey == "ztf":
        return open_store(config)
    try:
        return open_store(config, schema=get_schema(survey))
    except DataDirError as exc:
        raise ApiError(503, RUBIN_MISSING.format(reason=exc)) from None


def rubin_store() -> Store:
    return current_store("rubin")
