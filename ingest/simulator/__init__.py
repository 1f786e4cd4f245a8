"""Simulated ZTF alert streams for Nocturne: packets, cutouts and ground truth.

``python -m ingest simulate ... OUT`` (see ``cli.py``) writes nights of alert
packets in the ZTF 4.02 Avro schema -- optionally with Fink's added values,
as tarballs, multi-alert containers or Parquet in Fink's layout -- from
physically motivated populations (supernovae, RR Lyrae and other periodic
variables, microlensing, AGN, asteroids, artefacts), with the model
parameters of every object in a ground-truth table.  Modules, in the order
the data flows: ``plan`` (options, cells, exposures), ``cadence``, ``sky``,
``populations`` + ``lightcurves``, ``observe``, ``photometry``, ``allocate``
(object counts from a pilot run of ``observe``, work units),
``packets``, ``fink``, ``cutouts``, ``encoding`` + ``assemble``, ``writer``,
``parquet``, ``truth``, ``engine``.  Rubin alerts (``--survey rubin``) are
made in ``rubin/`` from the same populations, light curves and noise model.
"""

from .engine import Output, run
from .plan import Config

__all__ = ["Config", "Output", "run"]
