"""Benchmark: case comparison on the 972 news articles — coverage, precision, speed; `rag search -k 10` beside it.

Usage: python bench/cases_news.py [--work bench/out/scale] [--topics eval/gold/case_topics.jsonl]

The dev topics (``eval/gold/case_topics.jsonl``) are "how did other places do X" questions;
an article is relevant when its text contains one of the topic's terms (the phrase and the
variants listed there, checked by reading). For each topic: ``rag.cases.find_cases`` over the
knowledge base (coverage = relevant articles found / relevant, precision = found relevant /
found), and, for comparison, the articles among ``rag.retrieval.search``'s top 10 chunks. Every
quote is checked against the stored text, and every case must carry a 做法 or 成效 quote.
Timing: each topic asked 5 times warm, p50/p95 of ``find_cases`` and of the whole
``rag cases --json`` command once. Uses the knowledge base that ``bench/scale_retrieval.py``
seeds (``<work>/seed``, the news ingested for real; ingested here when missing).
Writes ``bench/out/cases_news.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from eval.metrics import percentile
from ingest.pipeline import ingest_paths
from rag.cases import find_cases
from rag.config import Settings
from rag.knowledge import KnowledgeBase
from rag.retrieval import search

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared/corpus/dangjian_news/docs"))
    parser.add_argument("--work", default=str(ROOT / "bench/out/scale"))
    parser.add_argument("--topics", default=str(ROOT / "eval/gold/case_topics.jsonl"))
    args = parser.parse_args()
    kb = KnowledgeBase(Settings(data_dir=Path(args.work) / "seed"))
    ingest_paths(kb, [Path(args.corpus)])  # unchanged files are skipped: seconds when seeded
    topics = [json.loads(line) for line in Path(args.topics).read_text("utf-8").splitlines() if line.strip()]
    texts = {d.source: d.text for d in kb.documents()}
    rows, times = [], []
    search(kb, "预热", 1)
    for topic in topics:
        relevant = {s for s, t in texts.items() if any(term in t for term in topic["terms"])}
        report = find_cases(kb, topic["question"])
        for _ in range(5):
            started = time.perf_counter()
            find_cases(kb, topic["question"])
            times.append((time.perf_counter() - started) * 1000)
        found = {c.source for c in report.cases}
        for card in report.cases:
            assert card.measures or card.results, card.source
            for q in (*card.measures, *card.results):
                assert texts[card.source][q.start:q.end] == q.quote, (card.source, q.start)
        top10 = {h.chunk.source for h in search(kb, topic["question"], 10)}
        rows.append({"id": topic["id"], "question": topic["question"], "topic": report.topic,
                     "variants": list(report.topic_terms[1:]), "relevant": len(relevant), "found": len(found),
                     "cases": report.matched, "coverage": len(found & relevant) / len(relevant) if relevant else 1.0,
                     "precision": len(found & relevant) / len(found) if found else 1.0,
                     "search_k10_coverage": len(top10 & relevant) / len(relevant) if relevant else 1.0})
        print(f"{topic['id']} {report.topic:<10} relevant {len(relevant):3d} found {len(found):3d} "
              f"coverage {rows[-1]['coverage']:.2f} precision {rows[-1]['precision']:.2f} "
              f"(search -k 10: {rows[-1]['search_k10_coverage']:.2f})", flush=True)
    env = {**os.environ, "RAG_DATA_DIR": str(Path(args.work) / "seed")}
    started = time.perf_counter()
    cli = subprocess.run([sys.executable, "-m", "ui.cli", "cases", topics[0]["question"], "--json"], cwd=ROOT,
                         env=env, capture_output=True, text=True, check=True)
    cli_ms = (time.perf_counter() - started) * 1000
    out = {"articles": len(texts), "topics": len(rows),
           "mean_coverage": round(statistics.fmean(r["coverage"] for r in rows), 3),
           "mean_precision": round(statistics.fmean(r["precision"] for r in rows), 3),
           "mean_search_k10_coverage": round(statistics.fmean(r["search_k10_coverage"] for r in rows), 3),
           "find_cases_warm_ms": {"p50": round(percentile(times, 0.5), 1), "p95": round(percentile(times, 0.95), 1)},
           "cli_cases_json_ms": round(cli_ms), "cli_matched": json.loads(cli.stdout)["matched"], "rows": rows}
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, ensure_ascii=False, indent=2))
    target = ROOT / "bench/out/cases_news.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, ensure_ascii=False, indent=2), "utf-8")


if __name__ == "__main__":
    main()
