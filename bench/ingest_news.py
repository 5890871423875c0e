"""Benchmark: ingest the ~1k real news articles end to end, then HNSW recall@10 vs exact search.

Usage: python bench/ingest_news.py [--corpus ../shared/corpus/dangjian_news/docs] [--out bench/out]
Prints wall time, chunks/s, peak RSS, and recall@10 of Chroma's HNSW (our settings)
against exact cosine search with numpy over the same stored vectors.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ingest.pipeline import ingest_paths
from rag.config import Settings
from rag.knowledge import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]


def recall_at_10(kb: KnowledgeBase, queries: list[str]) -> float:
    ids = sorted(kb.manifest.all_chunk_ids())
    vectors = kb.vectors.get_vectors(ids)
    matrix = np.stack([vectors[i] for i in ids])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    qvecs = kb.embeddings.encode(queries, query=True)
    hits = 0
    for q in qvecs:
        exact = {ids[j] for j in np.argsort(-(matrix @ q))[:10]}
        approx = {cid for cid, _ in kb.vectors.query(q, 10)}
        hits += len(exact & approx)
    return hits / (10 * len(queries))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared/corpus/dangjian_news/docs"))
    parser.add_argument("--out", default=str(ROOT / "bench/out"))
    parser.add_argument("--limit", type=int, default=0, help="only the first N files (0 = all)")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    files = sorted(corpus.glob("*.txt"))
    if args.limit:
        files = files[: args.limit]
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        settings = Settings(data_dir=data_dir)
        kb = KnowledgeBase(settings)
        started = time.perf_counter()
        kb.embeddings  # noqa: B018 - load the model outside the timed ingest
        load_s = time.perf_counter() - started
        report = ingest_paths(kb, files)
        ingest_s = report.seconds
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        titles = [s.title for s in kb.sources()][:: max(1, len(files) // 100)]
        recall = recall_at_10(kb, titles)
        result = {
            "files": len(files), "failed": report.count("failed"), "chunks": report.chunks,
            "model_load_s": round(load_s, 1), "ingest_s": round(ingest_s, 1),
            "chunks_per_s": round(report.chunks / ingest_s, 2), "peak_rss_mb": round(peak_mb),
            "hnsw": {"space": settings.hnsw_space, "ef_construction": settings.hnsw_ef_construction,
                     "ef_search": settings.hnsw_ef_search, "M": settings.hnsw_max_neighbors},
            "recall_at_10_vs_exact": round(recall, 4), "recall_queries": len(titles),
        }
        print(json.dumps(result, ensure_ascii=False, indent=2))
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "ingest_news.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
