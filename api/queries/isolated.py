"""Run a computation in a forked child that is killed when the time budget passes.

A Python thread cannot be interrupted inside numpy or scipy, so a fit checked only between
steps could hold a worker for as long as the fit likes. :func:`run_isolated` forks (the
child shares the parent's imported modules, so it starts in milliseconds), runs the function
there with a CPU limit (``RLIMIT_CPU``, in case the parent dies), and waits for its pickled
result on a pipe; when the wall-clock deadline passes the child is killed with SIGKILL and
:class:`~api.queries.budget.QueryTooLarge` is raised with the caller's advice. The child
touches no store and no socket: it gets plain arrays and sends back a plain dict.
"""
from __future__ import annotations

import math
import os
import pickle
import resource
import select
import signal
import threading
import time
import warnings

from .budget import QueryTooLarge


def run_isolated(fn, args: tuple, seconds: float, advice: str):
    """``fn(*args)`` in a child process, at most ``seconds`` of wall time.

    Returns what ``fn`` returns; re-raises the ValueError/LookupError it raised (other
    exceptions come back as RuntimeError with their text); QueryTooLarge past the deadline
    or when the child dies without an answer (its CPU limit, the kernel's memory killer).
    """
    deadline = time.monotonic() + max(seconds, 0.0)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, write, exit without running the parent's cleanup
        status = 0
        try:
            os.close(read_fd)
            cpu = max(1, math.ceil(seconds) + 1)
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            warnings.simplefilter("ignore")  # nothing written to a stream another thread may hold
            try:
                payload = pickle.dumps(("ok", fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
            except (ValueError, LookupError) as exc:
                kind = "ValueError" if isinstance(exc, ValueError) else "LookupError"
                payload = pickle.dumps(("error", kind, str(exc)))
            except BaseException as exc:  # noqa: BLE001 - reported to the parent, never raised here
                payload = pickle.dumps(("error", "RuntimeError", f"{type(exc).__name__}: {exc}"))
            view = memoryview(len(payload).to_bytes(8, "big") + payload)
            while view:
                view = view[os.write(write_fd, view):]
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    data, size = bytearray(), None
    try:
        while size is None or len(data) < size + 8:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                _kill(pid)
                raise QueryTooLarge(f"this computation needs more than its {seconds:.3g} s budget "
                                    f"and was stopped: {advice}")
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            data += chunk
            if size is None and len(data) >= 8:
                size = int.from_bytes(data[:8], "big")
    finally:
        os.close(read_fd)
    if size is not None and len(data) >= size + 8:
        # the answer is complete: reap the child (tearing down its memory takes tens of ms) aside
        threading.Thread(target=os.waitpid, args=(pid, 0), daemon=True).start()
        result = pickle.loads(data[8:size + 8])
    else:
        result = None
    if result is None:
        _, status = os.waitpid(pid, 0)
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {os.WEXITSTATUS(status)}"
        raise QueryTooLarge(f"this computation's process was stopped ({how}) before it answered, "
                            f"over its CPU or memory limit: {advice}")
    if result[0] == "ok":
        return result[1]
    kind, message = result[1], result[2]
    raise {"ValueError": ValueError, "LookupError": LookupError}.get(kind, RuntimeError)(message)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
