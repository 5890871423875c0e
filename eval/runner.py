"""Run a dataset through the answer chain and score every question: ``rag eval DATASET``.

Each question goes through ``rag.chain.ask`` (the pipeline of ``rag ask``). The
document ranking for hit@k / MRR@10 comes from the same ``rag.retrieval.search``
with a deeper k. A dataset that brings its own ``docs/`` gets its own knowledge
base in a cache folder keyed by the documents; it is ingested once (by the
function the CLI injects) and reused by later runs. Writes ``results.jsonl``,
``summary.json`` and ``report.html`` into the output folder.

Deliberately not here: the metric formulas (``eval.metrics``), the report
page (``eval.report``), comparing runs (``eval.compare``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval.datasets import Dataset, EvalItem, source_id
from eval.metrics import (
    bootstrap_ci,
    char_f1,
    contains_any,
    contains_key_facts,
    exact_match,
    hit_at,
    key_point_recall,
    mrr_at,
    percentile,
    spec_correct,
)
from eval.record import METRICS, ScoredRow
from rag.chain import ask
from rag.config import Settings
from rag.knowledge import KnowledgeBase
from rag.retrieval import search
from rag.support import own_words
from rag.types import Answer

_MARKS = re.compile(r"\[\d{1,2}\]")
RANKING_CHUNKS = 30  # chunks searched for the document ranking (hit@5, MRR@10)
IngestFn = Callable[..., Any]


def dataset_kb(dataset: Dataset, settings: Settings, ingest_files: IngestFn, cache_dir: Path) -> KnowledgeBase:
    """The knowledge base for ``dataset``: its own (cached) when it brings documents, else the configured one."""
    if dataset.docs_dir is None:
        return KnowledgeBase(settings)
    files = sorted(p for p in dataset.docs_dir.rglob("*") if p.is_file())
    digest = hashlib.sha256("\n".join(f"{p.name}:{p.stat().st_size}" for p in files).encode()).hexdigest()[:12]
    folder = dataset.docs_dir.parent.name if dataset.docs_dir.name == "docs" else dataset.docs_dir.name
    kb = KnowledgeBase(settings.model_copy(update={"data_dir": cache_dir / f"{folder}-{digest}"}))
    ingest_files(kb, [dataset.docs_dir])  # unchanged files are skipped, so a cached base costs seconds
    return kb


def score(item: EvalItem, answer: Answer, ranking: list[str],
          text_of: Callable[[str], str | None]) -> dict[str, float]:
    """Every score that applies to ``item`` (absent keys do not apply); booleans count as 0/1."""
    m: dict[str, Any] = {}
    if item.sources:
        m["hit@1"] = hit_at(ranking, item.sources, 1)
        m["hit@5"] = hit_at(ranking, item.sources, 5)
        m["mrr@10"] = mrr_at(ranking, item.sources, 10)
    if answer.citations:
        m["citation_verbatim"] = sum((text_of(c.source) or "")[c.start:c.end] == c.quote
                                     for c in answer.citations) / len(answer.citations)
    if not item.answerable:
        m["rejection_rate"] = answer.refused
        return {name: float(v) for name, v in m.items()}
    m["false_refusal_rate"] = answer.refused
    text = "" if answer.refused else _MARKS.sub("", answer.text)  # scored without its [n] citation marks
    m["accuracy"] = _correct(item, text)
    # what was shown held the answer: a wrong answer with this 1 is the model's miss (or a refusal the
    # quotes contradict), with 0 a miss of retrieval and quote selection ("context recall")
    m["answer_in_quotes"] = answer_in_quotes(item, [c.quote for c in answer.evidence])
    if answer.answered_by == "model":  # the model's own words, without the clauses and quote lines added to them
        m["accuracy_own_words"] = _correct(item, _MARKS.sub("", own_words(answer.text)))
    m["char_f1"] = char_f1(text, item.references)
    m["exact_match"] = exact_match(text, item.references)
    if item.key_points:
        m["key_point_recall"] = key_point_recall(text, item.key_points)
        m["key_facts"] = contains_key_facts({"key_points": item.key_points, "kind": item.kind}, text)
    if item.sources:
        cited = {source_id(c.source) for c in answer.citations}
        m["cites_a_source"] = bool(cited & set(item.sources))
        if item.needed_sources:
            m["cites_every_source"] = all(cited & set(group) for group in item.needed_sources)
    return {name: float(v) for name, v in m.items()}


def _correct(item: EvalItem, text: str) -> bool:
    return spec_correct(text, item.spec) if item.spec else contains_any(text, item.references)


def answer_in_quotes(item: EvalItem, quotes: Sequence[str]) -> bool:
    """The quotes shown, read together, hold ``item``'s answer as ``accuracy`` checks an answer text."""
    return _correct(item, _MARKS.sub("", "\n".join(quotes)))


def run_item(kb: KnowledgeBase, item: EvalItem, llm: str | None, k: int | None) -> ScoredRow:
    answer = ask(kb, item.question, llm=llm, k=k)
    hits = search(kb, answer.standalone_question or item.question, RANKING_CHUNKS)
    ranking = list(dict.fromkeys(source_id(h.chunk.source) for h in hits))
    return ScoredRow(id=item.id, kind=item.kind, answerable=item.answerable, answer=answer.to_json(),
                     metrics=score(item, answer, ranking, kb.text_lookup()), reference=item.references,
                     gold_sources=item.sources, retrieved_sources=tuple(ranking[:10]))


def summarize(rows: list[ScoredRow], kinds: tuple[str, ...] = ()) -> dict[str, Any]:
    """Each score's mean with a 95% bootstrap interval, overall and by question kind; latency median/p95;
    how many answers each path (``Answer.answered_by``) produced."""

    def block(subset: list[ScoredRow]) -> dict[str, Any]:
        out: dict[str, Any] = {"questions": len(subset)}
        for metric in METRICS:
            values = [v for v in (r.value(metric) for r in subset) if v is not None]
            if not values:
                continue
            if metric.aggregate == "mean":
                mean, low, high = bootstrap_ci(values)
                out[metric.name] = {"mean": mean, "ci95": [low, high], "n": len(values)}
            else:
                out[metric.name] = {"median": percentile(values, 0.5), "p95": percentile(values, 0.95),
                                    "n": len(values)}
        return out

    summary: dict[str, Any] = {"overall": block(rows)}
    summary["answered_by"] = _tally(rows, "answered_by")  # which path produced each final answer
    summary["fallback"] = {k: n for k, n in _tally(rows, "fallback").items() if k}  # why evidence was used
    if len(kinds) > 1:
        summary["by_kind"] = {kind: block([r for r in rows if r.kind == kind]) for kind in kinds}
    return summary


def _tally(rows: list[ScoredRow], field: str) -> dict[str, int]:
    """How many rows' answer records have each value of ``field``, by value."""
    return dict(sorted(Counter(str(r.answer.get(field, "")) for r in rows).items()))


def run_eval(dataset: Dataset, kb: KnowledgeBase, out_dir: Path, *, llm: str | None = None, k: int | None = None,
             on_item: Callable[[ScoredRow], None] | None = None) -> dict[str, Any]:
    """Answer and score every item, write results.jsonl / summary.json / report.html, return the summary."""
    from eval.report import write_report

    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[ScoredRow] = []
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as f:
        for item in dataset.items:
            row = run_item(kb, item, llm, k)
            rows.append(row)
            f.write(json.dumps(row.to_json(), ensure_ascii=False) + "\n")
            f.flush()
            if on_item:
                on_item(row)
    summary = {"dataset": dataset.name, "path": str(dataset.path), "llm": rows[0].answer["llm"] if rows else llm,
               "k": k or kb.settings.search_k, **summarize(rows, dataset.kinds)}
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    write_report(out_dir / "report.html", summary, rows)
    return summary
