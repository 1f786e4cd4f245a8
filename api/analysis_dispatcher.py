"""The dispatcher: sends queued analyses to their services and ends those that time out,
outside the request workers.

One daemon thread per server process (:func:`ensure_started`: by gunicorn's ``post_worker_init``
hook in deploy/gunicorn.conf.py, by ``python index.py``, and on first use by the analysis routes),
but only one of them sends: the one holding ``flock`` on ``<data_dir>/run/analysis-dispatcher.lock``.
The others retry the lock every few seconds, so when the holder's worker dies (gunicorn recycles
workers) the kernel frees the lock and another worker's thread takes over. Before sending, the
holder writes its claim (host, pid, a nonce) into the analysis row and reads it back, so two
dispatchers sharing a store by mistake (two hosts on one HBase, each with ``analysis_dispatcher``
true) do not both send one analysis in the common case; the store offers no compare-and-set,
so a deployment on several hosts sets ``analysis_dispatcher: false`` on all but one.

Why a thread and not a process or a cron job: sending is waiting on the network (the thread's
HTTP calls run in a small pool, each with a timeout), it needs the app's configuration and
store code, and a thread started with the server needs no extra unit to deploy; the queue is a
table in the store (``analysis_queue``), so nothing is lost when the holder dies.

A request never follows a redirect (a service could point it at an internal address) and
reads at most 1 MB of the service's answer. A service that never calls back ends as
``timed_out`` at its deadline (its timeout after sending), and its callback token is then refused.
"""
from __future__ import annotations

import concurrent.futures as cf
import fcntl
import json
import logging
import os
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from hbase_schema import get_schema
from store import StoreError, StoreUnavailable, open_store

from . import analyses as A
from .analysis_payload import payload, rubin_payload
from .analysis_secrets import SecretUnreadable, decrypt
from .analysis_services import allowed_url, get as get_service
from .errors import ApiError

log = logging.getLogger(__name__)
POLL_S = 0.5
LOCK_RETRY_S = 5.0
MAX_SEND_S = 30.0
MAX_ANSWER_BYTES = 1 << 20
SENDERS = 4

_started: dict[str, "Dispatcher"] = {}
_started_lock = threading.Lock()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl[:80]} refused", headers, fp)


_opener = urllib.request.build_opener(_NoRedirect)


def send(url: str, body: bytes, headers: dict, timeout: float) -> tuple[str, str]:
    """POST ``body`` to ``url``: ``("ok", answer)``, ``("failed", why)`` or ``("timed_out", why)``."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json",
                                                                              **headers})
    try:
        with _opener.open(request, timeout=timeout) as answer:
            return "ok", answer.read(MAX_ANSWER_BYTES).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return "failed", f"the service answered {exc.code}: {exc.read(2000).decode('utf-8', 'replace') if exc.fp else exc.msg}"
    except (socket.timeout, TimeoutError):
        return "timed_out", f"the service did not answer within {timeout:g} s"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return "timed_out", f"the service did not answer within {timeout:g} s"
        return "failed", f"the service could not be reached: {reason}"


def auth_headers(config, service: dict) -> dict:
    spec = service["spec"]
    if spec["auth"] == "none":
        return {}
    secret = decrypt(config, service["secret"] or "")
    if spec["auth"] == "basic":
        import base64
        return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}
    return {spec["auth_header"] or "Authorization": secret}


class Dispatcher:
    def __init__(self, config, poll_s: float = POLL_S):
        self.config, self.poll_s = config, poll_s
        self.stopping = threading.Event()
        self.lock_fd: int | None = None
        self.rubin_store = None
        self.inflight: dict[str, cf.Future] = {}
        self.pool = cf.ThreadPoolExecutor(SENDERS, thread_name_prefix="analysis-send")
        self.claim = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.thread = threading.Thread(target=self.run, name="analysis-dispatcher", daemon=True)

    # -- leadership --------------------------------------------------------------------------
    def lead(self) -> bool:
        if self.lock_fd is not None:
            return True
        path = Path(self.config.data_dir) / "run" / "analysis-dispatcher.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.lock_fd = fd
        return True

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # frees the flock
            self.lock_fd = None

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        store = None
        while not self.stopping.is_set():
            if not self.lead():
                self.stopping.wait(LOCK_RETRY_S)
                continue
            try:
                store = store or open_store(self.config)
                self.tick(store)
            except Exception:  # the loop must outlive a store outage or a bad row
                log.exception("analysis dispatcher: tick failed; retrying")
                self.stopping.wait(2.0)
            self.stopping.wait(self.poll_s)
        for opened in (store, self.rubin_store):
            if opened is not None:
                opened.close()

    def tick(self, store, now: float | None = None) -> None:
        """Record what the sends in flight gave, send what is queued, end what timed out."""
        now = time.time() if now is None else now
        for key, future in list(self.inflight.items()):
            if future.done():
                del self.inflight[key]
                self.record(store, key, *future.result())
        for key, cells in A.pending(store):
            if key in self.inflight:
                continue
            if cells.get("x:deadline", 0) < now:
                A.finish(store, key, "timed_out", "the service did not send its results in time"
                         if cells.get("x:state") == "sent" else "the analysis could not be sent in time")
                A.expire_callbacks(store, key)
            elif cells.get("x:state") == "queued":
                self.dispatch(store, key, cells, now)

    def dispatch(self, store, key: str, cells: dict, now: float) -> None:
        table = store.table("analyses")
        table.put(key, {"x:claim": self.claim})
        if table.row(key, columns=["x:claim"]).get("x:claim") != self.claim:
            return  # another dispatcher claimed it
        service = get_service(store, cells["x:service"])
        if service is None:
            A.finish(store, key, "failed", f"the service {cells['x:service']!r} is no longer registered")
            return
        spec = service["spec"]
        if not allowed_url(self.config, spec["url"]):
            A.finish(store, key, "failed", "the service's URL is no longer in the administrator's allowlist")
            return
        try:
            headers = auth_headers(self.config, service)
        except SecretUnreadable as exc:
            A.finish(store, key, "failed", str(exc))
            return
        object_id = cells["x:objectId"]
        body = {"analysis_id": key, "objectId": object_id, "service": service["name"],
                "parameters": cells.get("x:parameters") or {}}
        try:
            if A.is_rubin(object_id):
                body.update(survey="rubin", diaObjectId=int(object_id),
                            data=rubin_payload(self.rubin(), int(object_id), spec["data_types"]))
            else:
                body.update(survey="ztf", data=payload(store, object_id, spec["data_types"]))
        except StoreUnavailable:
            raise  # an outage: the loop retries, the analysis stays queued
        except (StoreError, ApiError) as exc:  # e.g. no Rubin tables here: this one fails, not the loop
            A.finish(store, key, "failed", f"the object's data could not be read: {getattr(exc, 'message', exc)}")
            return
        deadline = now + spec["timeout"]
        callback = None
        if not spec.get("upload_only"):
            token = A.issue_callback(store, key, deadline)
            callback = self.config.api_url.rstrip("/") + A.WEBHOOK_PATH + token
        body.update(callback_url=callback, callback_expires=deadline)
        A.mark_sent(store, key, deadline)  # before sending: a fast service may call back before it answers
        self.inflight[key] = self.pool.submit(send, spec["url"], json.dumps(body).encode(), headers,
                                              min(float(spec["timeout"]), MAX_SEND_S))

    def rubin(self):
        """The Rubin tables (opened on first use: most analyses are of ZTF objects)."""
        if self.rubin_store is None:
            self.rubin_store = open_store(self.config, schema=get_schema("rubin"))
        return self.rubin_store

    def record(self, store, key: str, outcome: str, text: str) -> None:
        cells = store.table("analyses").row(key, columns=["x:state", "x:service"])
        if cells.get("x:state") != "sent":
            return  # it completed by its callback meanwhile, or was deleted
        service = get_service(store, cells.get("x:service") or "")
        if outcome == "ok" and service and service["spec"].get("upload_only"):
            A.finish(store, key, "completed", f"uploaded; the service answered: {text[:500]}")
        elif outcome != "ok":
            A.finish(store, key, outcome, text)
            A.expire_callbacks(store, key)


def ensure_started(config) -> Dispatcher | None:
    """The process's dispatcher for ``config``'s data_dir, started on first call (when the
    setting ``analysis_dispatcher`` is true)."""
    if not config.analysis_dispatcher:
        return None
    name = str(Path(config.data_dir).resolve())
    with _started_lock:
        found = _started.get(name)
        if found is None or found.stopping.is_set():
            found = _started[name] = Dispatcher(config)
            found.thread.start()
        return found


def stop_all() -> None:
    with _started_lock:
        for d in _started.values():
            d.stop()
        _started.clear()
