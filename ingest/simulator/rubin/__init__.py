"""Simulated Rubin/LSST alerts (LSST alert schema 10.0, as Fink delivers them), with ground truth.

``python -m ingest simulate --survey rubin ... OUT`` (see ``..cli``).  The
science (populations, light curves, noise) is the ZTF simulator's,
survey-neutral; what is Rubin's is here, in the order the data flows:
``survey`` (bands, depths, units, ids), ``visits``, ``observe`` (plan, work
units), ``sources`` (diaSource and forced-source records), ``objects``
(diaObject), ``solar`` (ssSource, mpc_orbits), ``fink`` (added values),
``stamps`` (cutouts), ``assemble`` (a unit as an Arrow table), ``schema``,
``avro``, ``writer``, ``truth``, ``engine``.
"""
