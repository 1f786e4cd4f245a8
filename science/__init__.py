"""Computations behind the object page's science tabs, free of Flask and Dash.

Each module does one job and takes numpy arrays (times in Julian days, magnitudes, errors,
band labels as ZTF fids or strings) and returns plain JSON-ready dicts or arrays. Among them:

- :mod:`science.photometry`: difference magnitudes to DC magnitudes and fluxes (Fink's way).
- :mod:`science.varstar`: multiband Lomb-Scargle period and folded model (gatspy).
- :mod:`science.mulens`: point-source point-lens microlensing fit (pyLIMA; :mod:`science.mulens_pylima` sets pyLIMA up).
- :mod:`science.supernova`: Bazin fit per band and g - r colour.
- :mod:`science.classification`: the ingest's Fink-like classification rule.
- :mod:`science.bands`, :mod:`science.inputs`: band labels, input checks, JSON values.

Nothing is imported here, so that importing one tab's module does not pay for the others
(pyLIMA takes about a second to import).
"""
