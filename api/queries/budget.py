"""A time budget per query: long loops call :func:`check`, which raises
:class:`QueryTooLarge` with advice once the budget set by :func:`time_budget` is spent,
so no request ties up a worker for longer than the budget."""
from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager

_deadline: contextvars.ContextVar = contextvars.ContextVar("nocturne_deadline", default=None)


class QueryTooLarge(Exception):
    """The query would take longer than its budget; the message says how to narrow it."""


@contextmanager
def time_budget(seconds: float | None):
    token = _deadline.set(None if seconds is None else (time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def check(advice: str) -> None:
    budget = _deadline.get()
    if budget is not None and time.monotonic() > budget[0]:
        raise QueryTooLarge(f"this query needs more than its {budget[1]:g} s budget: {advice}")


def remaining() -> float | None:
    """Seconds left in the current budget (0 when spent), None outside any budget."""
    budget = _deadline.get()
    return None if budget is None else max(0.0, budget[0] - time.monotonic())


def budget_seconds() -> float | None:
    """The current budget's length in seconds, None outside any budget."""
    budget = _deadline.get()
    return None if budget is None else budget[1]
