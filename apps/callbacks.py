"""The portal's callbacks, declared once at import and attached to every app built.

``dash.callback`` puts a callback in a module-level list that the first app to serve a
request takes for itself: a second app in the same process (a test building a server
per store) would have none. Page and component modules therefore declare their callbacks
with :func:`callback` below (the same arguments as ``dash.callback``), and
:func:`apps.portal.init_portal` hands them to each new app through Dash's public
``app.callback``. Nothing here reads or clears Dash's own globals.
"""
from __future__ import annotations

from collections.abc import Callable

from dash import Dash

_DECLARED: list[tuple[tuple, dict, Callable]] = []


def callback(*args, **kwargs) -> Callable[[Callable], Callable]:
    """Declare a portal callback; the function is returned unchanged (tests call it directly)."""
    def declare(func: Callable) -> Callable:
        _DECLARED.append((args, kwargs, func))
        return func
    return declare


def attach(app: Dash) -> int:
    """Register every declared callback on ``app``; returns how many."""
    for args, kwargs, func in _DECLARED:
        app.callback(*args, **kwargs)(func)
    return len(_DECLARED)
