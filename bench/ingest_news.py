"""Benchmark: ingest the ~1k real news articles end to end, with the stage split and two baselines.

Usage: python bench/ingest_news.py [--corpus DIR] [--limit N] [--baseline-chunks 320] [--out bench/out]

Prints (and writes ``<out>/ingest_news.json``):
- wall time, chunks/s and peak RSS of ``ingest.pipeline.ingest_paths`` into a fresh data folder;
- where the time went: loading/cleaning/chunking, embedding, Chroma, manifest (incl. jieba
  tokens) and the BM25 build, with everything-but-embedding as a share of the ingest;
- the embedding baseline: a plain sentence-transformers ``encode`` loop, float32, batch 32,
  over an evenly spaced sample of the same chunk texts (``--baseline-chunks 0`` = all of
  them, about 25 minutes here), timed against our embedder on that same sample;
- recall@10 of Chroma's HNSW (our settings) against exact cosine search in numpy.
The model is loaded before the timed ingest; its load time is printed separately.
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
from rag.knowledge import KnowledgeBase, embedding_text
from rag.models import resolve_embedding_model

ROOT = Path(__file__).resolve().parents[1]


def recall_at_10(kb: KnowledgeBase, queries: list[str]) -> float:
    ids = kb.chunk_ids()
    vectors = kb.vectors_of(ids)
    matrix = np.stack([vectors[i] for i in ids])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    qvecs = kb.embeddings.encode(queries, query=True)
    hits = 0
    for q in qvecs:
        exact = {ids[j] for j in np.argsort(-(matrix @ q))[:10]}
        approx = {cid for cid, _ in kb.dense_search(q, 10)}
        hits += len(exact & approx)
    return hits / (10 * len(queries))


def baseline_rate(settings: Settings, texts: list[str]) -> float:
    """Texts/s of a plain fp32 sentence-transformers loop, batch 32, the model's document prompt."""
    import torch
    from sentence_transformers import SentenceTransformer

    path = resolve_embedding_model(settings.embedding_model, settings.models_dir, None)
    model = SentenceTransformer(path, device="cpu", model_kwargs={"torch_dtype": torch.float32})
    prompt = "document" if "document" in (model.prompts or {}) else None
    model.encode(texts[:2], prompt_name=prompt)  # warm-up
    started = time.perf_counter()
    for i in range(0, len(texts), 32):
        model.encode(texts[i:i + 32], batch_size=32, prompt_name=prompt, show_progress_bar=False)
    rate = len(texts) / (time.perf_counter() - started)
    del model
    return rate


def ours_rate(kb: KnowledgeBase, texts: list[str]) -> float:
    started = time.perf_counter()
    kb.embeddings.encode(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared/corpus/dangjian_news/docs"))
    parser.add_argument("--out", default=str(ROOT / "bench/out"))
    parser.add_argument("--limit", type=int, default=0, help="only the first N files (0 = all)")
    parser.add_argument("--baseline-chunks", type=int, default=320, help="chunks in the baseline sample (0 = all)")
    args = parser.parse_args()
    files = sorted(Path(args.corpus).glob("*.txt"))[: args.limit or None]
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        settings = Settings(data_dir=data_dir)
        kb = KnowledgeBase(settings)
        started = time.perf_counter()
        kb.embeddings  # noqa: B018 - load the model outside the timed ingest
        load_s = time.perf_counter() - started
        report = ingest_paths(kb, files)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stages = {k: round(v, 1) for k, v in sorted(report.stages.items())}
        not_embedding = report.seconds - report.stages.get("embed", 0.0)
        chunks = kb.chunks(kb.chunk_ids())
        texts = [embedding_text(chunks[cid]) for cid in sorted(chunks)]
        step = max(1, len(texts) // args.baseline_chunks) if args.baseline_chunks else 1
        sample = texts[::step][: args.baseline_chunks or None]
        ours = ours_rate(kb, sample)
        base = baseline_rate(settings, sample)
        ingest_embed_rate = report.chunks / report.stages["embed"] if report.stages.get("embed") else 0.0
        titles = [s.title for s in kb.sources()][:: max(1, len(files) // 100)]
        result = {
            "files": len(files), "failed": report.count("failed"), "chunks": report.chunks,
            "model_load_s": round(load_s, 1), "ingest_s": round(report.seconds, 1),
            "chunks_per_s": round(report.chunks / report.seconds, 2), "peak_rss_mb": round(peak_mb),
            "stages_s": stages, "not_embedding_share": round(not_embedding / report.seconds, 4),
            "embedding": {
                "dtype": settings.embedding_dtype, "batch": settings.embedding_batch_size,
                "ingest_chunks_per_s": round(ingest_embed_rate, 2),
                "sample_chunks": len(sample), "ours_on_sample_per_s": round(ours, 2),
                "baseline_fp32_b32_per_s": round(base, 2),
                "ratio_sample": round(ours / base, 2), "ratio_ingest": round(ingest_embed_rate / base, 2),
            },
            "hnsw": {"space": settings.hnsw_space, "ef_construction": settings.hnsw_ef_construction,
                     "ef_search": settings.hnsw_ef_search, "M": settings.hnsw_max_neighbors},
            "recall_at_10_vs_exact": round(recall_at_10(kb, titles), 4), "recall_queries": len(titles),
        }
        print(json.dumps(result, ensure_ascii=False, indent=2))
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "ingest_news.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
