"""Progress of a long ingest: a tqdm bar on a terminal, plain log lines otherwise.

The bar counts input bytes (so it has an ETA whatever the file layout) and shows
alerts stored, alerts/s and packets quarantined.
"""
from __future__ import annotations

import logging
import sys
import time

from tqdm import tqdm

log = logging.getLogger("nocturne.ingest")
LOG_EVERY_S = 10.0


class Progress:
    def __init__(self, total_bytes: int, show: bool | None = None):
        self.total = total_bytes
        self.show = sys.stderr.isatty() if show is None else show
        self.bytes_done = 0
        self.started = time.perf_counter()
        self.last_log = self.started
        self.bar = None

    def __enter__(self):
        if self.show:
            self.bar = tqdm(total=self.total, unit="B", unit_scale=True, unit_divisor=1024,
                            desc="ingest", dynamic_ncols=True, file=sys.stderr)
        return self

    def advance(self, nbytes: int) -> None:
        if nbytes:
            self.bytes_done += nbytes
            if self.bar is not None:
                self.bar.update(nbytes)

    def alerts(self, stored: int, quarantined: int) -> None:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        rate = stored / elapsed
        if self.bar is not None:
            self.bar.set_postfix_str(f"{stored:,} alerts, {rate:,.0f}/s, {quarantined} quarantined", refresh=False)
        elif time.perf_counter() - self.last_log >= LOG_EVERY_S:
            self.last_log = time.perf_counter()
            done = self.bytes_done / self.total if self.total else 0
            eta = elapsed * (1 - done) / done if done else float("nan")
            log.info("%s alerts stored (%.0f/s), %d quarantined, %.0f%% of input read, ETA %.0f s",
                     f"{stored:,}", rate, quarantined, 100 * done, eta)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
