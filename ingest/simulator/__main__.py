"""``python -m ingest.simulator OUT ...``: same as ``python -m ingest simulate``."""

import sys

from .cli import main

sys.exit(main())
