"""A time budget per query: long loops call :func:`check`, which raises
:class:`QueryTooLarge` with advice once the budget set by :func:`time_budget` is spent,
so no request ties up a worker for longer than the budget.

A budget reads ``time.monotonic`` unless it starts inside :func:`budget_clock`, which
gives it another clock: a test's clock that advances with the work done (rows read), so
whether a query is over its budget does not depend on the machine's speed."""
from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from contextlib import contextmanager

_deadline: contextvars.ContextVar = contextvars.ContextVar("nocturne_deadline", default=None)
_clock: contextvars.ContextVar = contextvars.ContextVar("nocturne_budget_clock", default=time.monotonic)


class QueryTooLarge(Exception):
    """The query would take longer than its budget; the message says how to narrow it."""


@contextmanager
def budget_clock(clock: Callable[[], float]):
    """Budgets started inside read ``clock()`` (seconds, never decreasing) instead of
    ``time.monotonic``; each budget keeps the clock it started with."""
    token = _clock.set(clock)
    try:
        yield
    finally:
        _clock.reset(token)


@contextmanager
def time_budget(seconds: float | None):
    clock = _clock.get()
    token = _deadline.set(None if seconds is None else (clock() + seconds, seconds, clock))
    try:
        yield
    finally:
        _deadline.reset(token)


def check(advice: str) -> None:
    budget = _deadline.get()
    if budget is not None and budget[2]() > budget[0]:
        raise QueryTooLarge(f"this query needs more than its {budget[1]:g} s budget: {advice}")


def remaining() -> float | None:
    """Seconds left in the current budget (0 when spent), None outside any budget."""
    budget = _deadline.get()
    return None if budget is None else max(0.0, budget[0] - budget[2]())


def budget_seconds() -> float | None:
    """The current budget's length in seconds, None outside any budget."""
    budget = _deadline.get()
    return None if budget is None else budget[1]
