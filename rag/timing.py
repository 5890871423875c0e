"""Wall-clock time per named stage, summed over a run (ingest, retrieval benchmarks).

``StageTimer.stage(name)`` is a context manager that adds the time spent inside
it to ``seconds[name]``. It is cheap (two ``perf_counter`` calls and a lock);
with several threads the sums are totals over all of them.

Deliberately not here: printing or reporting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulated seconds per stage name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self.seconds[name] = self.seconds.get(name, 0.0) + elapsed

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self.seconds)

    def since(self, earlier: dict[str, float]) -> dict[str, float]:
        """Seconds per stage added after ``earlier`` (a ``snapshot()``)."""
        now = self.snapshot()
        return {k: v - earlier.get(k, 0.0) for k, v in now.items() if v - earlier.get(k, 0.0) > 0}
