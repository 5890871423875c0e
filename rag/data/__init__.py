"""Data shipped with the package: the 党建 user dictionary for jieba and the five sample articles.

``sample_dir()`` is the folder of sample articles that ``rag ingest`` (no path), the
tests and the benchmarks use. Deliberately not here: reading or parsing the files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_dir() -> Path:
    """The bundled sample articles (package data)."""
    return Path(str(resources.files("rag") / "data" / "sample"))
