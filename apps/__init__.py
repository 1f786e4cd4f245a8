"""The portal: a Dash multi-page app mounted at "/" of the Flask server that serves the API.

:func:`apps.portal.init_portal` mounts it; pages live in :mod:`apps.pages` (one module per
page), reusable pieces in :mod:`apps.components`, the search language in :mod:`apps.search`.
Pages call :mod:`api.queries` (reads), :mod:`api.portal_gateway` (store, configuration, rendering,
annotations, sessions) and :mod:`science` in-process, never the API over HTTP, and use
Dash's public API only (:mod:`apps.callbacks`).
"""
