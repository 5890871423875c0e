"""Evaluation metrics: small pure functions, no model or store.

* retrieval at the document level: ``hit_at``, ``mrr_at`` over ranked source ids;
* answers: ``contains_any`` (reference or an alias), ``spec_correct`` (RGB's
  ``answer_spec`` rule), ``char_f1`` / ``exact_match`` as in CMRC 2018 (each
  CJK character a token, ASCII words kept whole, punctuation removed,
  longest-common-substring F1, best over references), ``key_point_recall``,
  ``contains_key_facts`` (the gold set's rule);
* intervals: ``bootstrap_ci`` (percentile bootstrap of the mean, fixed seed).

Everything compares text after NFKC (full-width → half-width), lower-casing
and whitespace removal (``rag.text.normalize``).
"""

from __future__ import annotations

import random
import re
import statistics
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rag.text import normalize

_ASCII_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


def contains_key_facts(item: Mapping[str, Any], answer: str) -> bool:
    """The answer holds every key fact of ``item``; for multi-region items, at least half."""
    text = normalize(answer)
    points = item["key_points"]
    hits = sum(normalize(k) in text for k in points)
    need = len(points) if item["kind"] != "multi" else (len(points) + 1) // 2
    return hits >= need


def contains_any(answer: str, references: Iterable[str]) -> bool:
    text = normalize(answer)
    return any(normalize(r) and normalize(r) in text for r in references)


def spec_correct(answer: str, spec: Sequence[Sequence[str]]) -> bool:
    """RGB: every element of the spec appears in the answer (any alternative of an element counts)."""
    text = normalize(answer)
    return bool(spec) and all(any(normalize(alt) in text for alt in element) for element in spec)


def key_point_recall(answer: str, key_points: Sequence[str]) -> float:
    text = normalize(answer)
    return sum(normalize(k) in text for k in key_points) / len(key_points) if key_points else 0.0


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch).startswith(("P", "S")) or ch.isspace()


def cmrc_tokens(text: str) -> list[str]:
    """CMRC 2018 segmentation: CJK characters one by one, ASCII letter/digit runs whole, no punctuation."""
    text = normalize(text)
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        m = _ASCII_WORD.match(text, pos)
        if m:
            tokens.append(m.group())
            pos = m.end()
            continue
        if not _is_punctuation(text[pos]):
            tokens.append(text[pos])
        pos += 1
    return tokens


def _longest_common_run(a: Sequence[str], b: Sequence[str]) -> int:
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def char_f1(prediction: str, references: Iterable[str]) -> float:
    """CMRC 2018 F1: longest common substring of the token lists, best over references."""
    pred = cmrc_tokens(prediction)
    best = 0.0
    for ref in references:
        gold = cmrc_tokens(ref)
        common = _longest_common_run(gold, pred)
        if common:
            precision, recall = common / len(pred), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def exact_match(prediction: str, references: Iterable[str]) -> bool:
    pred = "".join(cmrc_tokens(prediction))
    return any(pred == "".join(cmrc_tokens(r)) for r in references)


def hit_at(ranked: Sequence[str], gold: Iterable[str], k: int) -> bool:
    wanted = set(gold)
    return any(s in wanted for s in ranked[:k])


def mrr_at(ranked: Sequence[str], gold: Iterable[str], k: int = 10) -> float:
    wanted = set(gold)
    return next((1.0 / rank for rank, s in enumerate(ranked[:k], start=1) if s in wanted), 0.0)


def bootstrap_ci(values: Sequence[float], rounds: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): percentile bootstrap interval of the mean."""
    if not values:
        return (float("nan"),) * 3
    mean = statistics.fmean(values)
    if len(values) == 1:
        return mean, mean, mean
    rng = random.Random(seed)
    n = len(values)
    means = sorted(statistics.fmean(rng.choices(values, k=n)) for _ in range(rounds))
    tail = (1 - level) / 2
    return mean, means[int(tail * rounds)], means[min(rounds - 1, int((1 - tail) * rounds))]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
