"""The nightly ingest (the only writer of the alert tables) and the alert simulator.

``python -m ingest night PATH`` ingests a night; ``python -m ingest simulate`` writes
simulated nights. See ``python -m ingest --help``.
"""
