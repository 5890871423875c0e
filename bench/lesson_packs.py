"""Benchmark: lesson packs (备课包) for five sample topics and five news topics — build time warm, checks, sizes.

Usage: python bench/lesson_packs.py [--work bench/out/scale] [--llm none] [--runs 3]

For each topic the whole ``rag lesson`` path is timed: ``find_cases`` over the knowledge base,
``build_lesson``, ``rag.lesson_phrasing.phrased`` (nothing with ``--llm none``), ``check_lesson``
and writing the Word handout, slides and Markdown. Sample topics run over the five sample
articles (ingested into ``<work>/sample`` when missing), news topics over the 972 news
articles that ``bench/scale_retrieval.py`` seeds (``<work>/seed``). The first run of each
topic warms caches and is not counted; the target is ≤ 3 s warm with ``--llm none``.
Writes ``bench/out/lesson_packs.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.pipeline import ingest_paths  # noqa: E402
from rag.cases import find_cases  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.data import sample_dir  # noqa: E402
from rag.knowledge import KnowledgeBase  # noqa: E402
from rag.lesson import build_lesson, check_lesson  # noqa: E402
from rag.lesson_phrasing import phrased  # noqa: E402
from tests.test_lesson import NEWS_TOPICS, SAMPLE_TOPICS  # noqa: E402
from ui.lesson_export import export_lesson  # noqa: E402


def one_pack(kb: KnowledgeBase, topic: str, llm: str, out: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    pack = phrased(kb, build_lesson(find_cases(kb, topic), 5), llm)
    problems = check_lesson(pack, kb.text_lookup())
    export_lesson(pack, out)
    ms = (time.perf_counter() - started) * 1000
    assert problems == [], problems
    return ms, {"cases": len(pack.cases), "points": len(pack.points), "discussion": len(pack.discussion),
                "quiz": len(pack.quiz), "written_by": list(pack.written_by)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared/corpus/dangjian_news/docs"))
    parser.add_argument("--work", default=str(ROOT / "bench/out/scale"))
    parser.add_argument("--llm", default="none")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sample = KnowledgeBase(Settings(data_dir=Path(args.work) / "sample"))
    ingest_paths(sample, [sample_dir()])
    news = KnowledgeBase(Settings(data_dir=Path(args.work) / "seed"), embeddings=sample.embeddings)
    ingest_paths(news, [Path(args.corpus)])  # unchanged files are skipped: seconds when seeded
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for corpus, kb, topics in (("sample", sample, SAMPLE_TOPICS), ("news", news, NEWS_TOPICS)):
            for i, topic in enumerate(topics):
                one_pack(kb, topic, args.llm, Path(tmp) / f"warm-{corpus}-{i}")
                runs = [one_pack(kb, topic, args.llm, Path(tmp) / f"{corpus}-{i}-{r}") for r in range(args.runs)]
                times = [ms for ms, _ in runs]
                rows.append({"corpus": corpus, "topic": topic, **runs[-1][1],
                             "warm_ms_median": round(statistics.median(times)), "warm_ms_max": round(max(times))})
                print(f"{corpus:<6} {topic:<18} {rows[-1]['warm_ms_median']:6d} ms (max {rows[-1]['warm_ms_max']}) "
                      f"cases {rows[-1]['cases']} quiz {rows[-1]['quiz']} model wrote {rows[-1]['written_by']}",
                      flush=True)
    out = {"llm": args.llm, "runs": args.runs, "packs": len(rows),
           "warm_ms_max": max(r["warm_ms_max"] for r in rows), "rows": rows}
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, ensure_ascii=False))
    target = ROOT / "bench/out/lesson_packs.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, ensure_ascii=False, indent=2), "utf-8")


if __name__ == "__main__":
    main()
