"""Calibrate the evidence-relevance threshold below which answers are refused.

Runs every gold question through retrieval and evidence selection (no LLM),
prints the best evidence relevance of answerable and unanswerable questions,
and the threshold that refuses the most unanswerable questions while wrongly
refusing at most ``--max-false-refusal`` of the answerable ones. Questions whose
named place is missing from the knowledge base are refused by the region check
whatever the threshold, and are left out of the choice.

    python bench/calibrate_refusal.py [--gold eval/gold/sample_gold.jsonl]

Uses the knowledge base of the current settings (``RAG_DATA_DIR``); ingest the
corpus the gold set is about first (``rag ingest`` for the sample).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.config import Settings
from rag.evidence import select_evidence
from rag.knowledge import KnowledgeBase
from rag.refusal import missing_regions
from rag.retrieval import search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default="eval/gold/sample_gold.jsonl")
    parser.add_argument("--max-false-refusal", type=float, default=0.0)
    args = parser.parse_args()
    settings = Settings()
    kb = KnowledgeBase(settings)
    rows = []
    for line in Path(args.gold).read_text("utf-8").splitlines():
        item = json.loads(line)
        q = item["user_input"]
        hits = search(kb, q)
        evidence = select_evidence(kb, q, hits, settings.evidence_k)
        best = max((e.relevance for e in evidence), default=0.0)
        top_source = evidence[0].citation.source if evidence else ""
        rows.append((item["answerable"], best, bool(missing_regions(kb, q)), top_source in item["sources"], q))
    for answerable, best, missing, right, q in sorted(rows, key=lambda r: r[1]):
        print(f"{'答' if answerable else '拒'} {best:.3f} {'地区缺失' if missing else '        '} "
              f"{'✓' if right else ' '} {q}")
    pos = [b for a, b, m, _, _ in rows if a]
    neg = [b for a, b, m, _, _ in rows if not a and not m]
    best_t, best_gain = 0.0, -1.0
    for t in sorted({round(b + 0.001, 3) for b in pos + neg} | {0.0}):
        false_refusal = sum(b < t for b in pos) / len(pos)
        caught = sum(b < t for b in neg) / max(len(neg), 1)
        if false_refusal <= args.max_false_refusal and caught - false_refusal > best_gain:
            best_t, best_gain = t, caught - false_refusal
    below = [b for b in pos + neg if b < best_t]
    above = [b for b in pos + neg if b >= best_t]
    if below and above:  # the middle of the gap the threshold falls in, for a margin either side
        best_t = round((max(below) + min(above)) / 2, 3)
    region_caught = sum(1 for a, _, m, _, _ in rows if not a and m)
    print(f"\n可回答 {len(pos)} 题，不可回答 {len(rows) - len(pos)} 题（其中地区缺失 {region_caught} 题）")
    print(f"建议阈值 relevance_threshold={best_t:.3f}：误拒 {sum(b < best_t for b in pos)}/{len(pos)}，"
          f"非地区类不可回答拒答 {sum(b < best_t for b in neg)}/{len(neg)}")


if __name__ == "__main__":
    main()
