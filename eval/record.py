"""The evaluation record: one table of metrics, and the scored row that every reader shares.

``METRICS`` is the one list of what an evaluation measures: name, Chinese
label, whether higher or lower is better, and how it is aggregated (the mean
of a per-question score with a bootstrap interval, or the median/p95 of a
latency). ``summarize`` (``eval.runner``), ``eval.compare``, ``eval.report``
and the CLI's headline lines all read it, so a new metric is added here once.

``ScoredRow`` is one question's result: the answer's one serialized form
(``Answer.to_json``) extended with the question's id, kind, references, gold
and retrieved sources and its metric values. ``results.jsonl`` holds one
``ScoredRow.to_json()`` per line and is read back with ``ScoredRow.from_json``.

Deliberately not here: computing the metric values (``eval.metrics``,
``eval.runner``) or showing them (``eval.report``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["higher", "lower"]
Aggregate = Literal["mean", "latency"]


@dataclass(frozen=True)
class Metric:
    """One measured quantity; ``timing`` names the answer's ``timings_ms`` key of a latency."""

    name: str
    label: str
    direction: Direction
    aggregate: Aggregate = "mean"
    headline: bool = True  # printed by ``rag eval`` at the end of a run
    chart: bool = False  # drawn in the report's by-kind bars
    timing: str = ""


METRICS: tuple[Metric, ...] = (
    Metric("accuracy", "答案正确率", "higher", chart=True),
    Metric("accuracy_own_words", "答案正确率（不计附加的原文）", "higher"),
    Metric("key_facts", "关键事实全部命中", "higher", chart=True),
    Metric("answer_in_quotes", "原文摘录含答案（可回答题）", "higher"),
    Metric("hit@1", "文档 hit@1", "higher", chart=True),
    Metric("hit@5", "文档 hit@5", "higher", chart=True),
    Metric("mrr@10", "文档 MRR@10", "higher"),
    Metric("char_f1", "字级 F1", "higher"),
    Metric("exact_match", "完全匹配 EM", "higher", headline=False),
    Metric("key_point_recall", "要点召回", "higher", headline=False),
    Metric("citation_verbatim", "引文逐字一致", "higher", chart=True),
    Metric("cites_a_source", "引用了正确来源", "higher"),
    Metric("cites_every_source", "引用了所需的每篇来源（多文档题）", "higher", chart=True),
    Metric("rejection_rate", "拒答率（不可回答题）", "higher", chart=True),
    Metric("false_refusal_rate", "误拒率（可回答题）", "lower", chart=True),
    Metric("evidence_ms", "原文摘录用时", "lower", "latency", headline=False, timing="evidence"),
    Metric("first_token_ms", "首字用时", "lower", "latency", headline=False, timing="first_token"),
    Metric("total_ms", "总用时", "lower", "latency", headline=False, timing="total"),
)
BY_NAME = {m.name: m for m in METRICS}
SCORES = tuple(m for m in METRICS if m.aggregate == "mean")
LATENCIES = tuple(m for m in METRICS if m.aggregate == "latency")


def label(name: str) -> str:
    metric = BY_NAME.get(name)
    return metric.label if metric else name


@dataclass(frozen=True)
class ScoredRow:
    """One evaluated question: ``answer`` is ``Answer.to_json()``; ``metrics`` holds the scores that apply."""

    id: str
    kind: str
    answerable: bool
    answer: Mapping[str, Any]
    metrics: Mapping[str, float] = field(default_factory=dict)
    reference: tuple[str, ...] = ()
    gold_sources: tuple[str, ...] = ()
    retrieved_sources: tuple[str, ...] = ()

    @property
    def question(self) -> str:
        return str(self.answer["question"])

    @property
    def text(self) -> str:
        return str(self.answer["answer"])

    @property
    def refused(self) -> bool:
        return bool(self.answer["refused"])

    @property
    def evidence(self) -> list[Mapping[str, Any]]:
        return list(self.answer.get("evidence", []))

    def value(self, metric: Metric) -> float | None:
        """This row's value of ``metric``; None where it does not apply."""
        if metric.aggregate == "latency":
            ms = self.answer.get("timings_ms", {}).get(metric.timing)
            return None if ms is None else float(ms)
        got = self.metrics.get(metric.name)
        return None if got is None else float(got)

    @property
    def right(self) -> bool | None:
        """Answerable and answered correctly, or unanswerable and refused; None when unscored."""
        key = "accuracy" if self.answerable else "rejection_rate"
        got = self.metrics.get(key)
        return None if got is None else bool(got)

    def to_json(self) -> dict[str, Any]:
        return {**self.answer, "id": self.id, "kind": self.kind, "answerable": self.answerable,
                "reference": list(self.reference), "gold_sources": list(self.gold_sources),
                "retrieved_sources": list(self.retrieved_sources), "metrics": dict(self.metrics)}

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> ScoredRow:
        own = {"id", "kind", "answerable", "reference", "gold_sources", "retrieved_sources", "metrics"}
        return cls(id=str(row["id"]), kind=str(row["kind"]), answerable=bool(row["answerable"]),
                   answer={k: v for k, v in row.items() if k not in own}, metrics=dict(row["metrics"]),
                   reference=tuple(row.get("reference", ())), gold_sources=tuple(row.get("gold_sources", ())),
                   retrieved_sources=tuple(row.get("retrieved_sources", ())))
