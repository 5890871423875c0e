"""The one timer: wall-clock time of one call, by stage and by milestone.

Each call that reports timings (``rag.retrieval.search``, ``rag.chain.ask_stream``,
``ingest.pipeline.ingest_paths``) makes its own ``Timer`` and returns what it
measured with its result, so concurrent calls never see each other's time.

* ``stage(name)`` is a context manager that adds the time spent inside it to
  that stage (a stage entered twice sums; with several threads of one call the
  sums are totals over them);
* ``mark(name)`` records the time since the timer started (a milestone, such
  as "evidence on screen" or "first token");
* ``seconds()`` gives the stages, ``ms()`` stages, milestones and ``total`` in
  milliseconds.

Deliberately not here: printing or reporting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


class Timer:
    """Stages (summed durations) and marks (time since start) of one call."""

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._stages: dict[str, float] = {}
        self._marks: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add({name: time.perf_counter() - started})

    def add(self, seconds: Mapping[str, float]) -> None:
        """Add stage durations measured elsewhere (e.g. by a call this one made)."""
        with self._lock:
            for name, value in seconds.items():
                self._stages[name] = self._stages.get(name, 0.0) + value

    def mark(self, name: str) -> None:
        with self._lock:
            self._marks[name] = self.elapsed()

    def elapsed(self) -> float:
        return time.perf_counter() - self._started

    def seconds(self) -> dict[str, float]:
        with self._lock:
            return dict(self._stages)

    def seconds_ms(self) -> dict[str, float]:
        """The stages alone, in milliseconds."""
        with self._lock:
            return {name: v * 1000 for name, v in self._stages.items()}

    def ms(self) -> dict[str, float]:
        """Stages and marks in milliseconds, plus ``total`` (time since start)."""
        with self._lock:
            out = {name: v * 1000 for name, v in self._stages.items()}
            out.update({name: v * 1000 for name, v in self._marks.items()})
        out["total"] = self.elapsed() * 1000
        return out
