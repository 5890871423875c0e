"""Answer metrics over gold items; pure functions, no model or store.

Deliberately small for now: the evaluation issue adds retrieval, citation and
latency metrics with intervals beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rag.text import normalize


def contains_key_facts(item: Mapping[str, Any], answer: str) -> bool:
    """The answer holds every key fact of ``item``; for multi-region items, at least half.

    Facts and answer are compared after NFKC, lower-casing and whitespace removal.
    """
    text = normalize(answer)
    points = item["key_points"]
    hits = sum(normalize(k) in text for k in points)
    need = len(points) if item["kind"] != "multi" else (len(points) + 1) // 2
    return hits >= need
