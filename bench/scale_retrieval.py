"""Benchmark: retrieval at ≥ 100k chunks — latency, dense recall@10 vs exact, ratio to a numpy + bm25s floor.

Usage: python bench/scale_retrieval.py [--target 100000] [--work bench/out/scale] [--queries 150]

1. Seed: the news articles ingested for real (``<work>/seed``, reused when present).
2. Grow: copies of every seed document under ``copyNNN/<file>`` with their chunks' ids made
   distinct and each vector perturbed by Gaussian noise (σ = 0.01 per dimension, cosine to the
   original ≈ 0.96) and renormalized, written through ``KnowledgeBase.put_many`` — the same
   Chroma + manifest + BM25 code as an ingest — until ``--target`` chunks (``<work>/grown``,
   reused when big enough).
3. Measure, per query (gold questions + article titles), ``rag.retrieval.search`` end to end:
   uncached (first time a question is seen) and cached (asked again), with and without a
   region filter (the region whose chunks are closest to 3% of the base); the stage split
   (query embedding, filter, dense, keyword, fusion); dense recall@10 of Chroma's HNSW against
   exact cosine top-10 in numpy over the same vectors (whole base, and inside the region);
   and the floor: numpy exact top-40 + bm25s top-40 on the same question vector and tokens,
   compared with our cached-vector timings (retrieval without the query embedding); and
   ``rag.cases.find_cases`` on the dev topics (every matching article of the grown base).
Writes ``<work>/scale_retrieval.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np

from eval.datasets import GOLD_SET, read_jsonl
from eval.metrics import percentile
from ingest.pipeline import ingest_paths
from rag.config import Settings
from rag.keyword import tokenize
from rag.knowledge import KnowledgeBase
from rag.regions import load_gazetteer
from rag.retrieval import search

ROOT = Path(__file__).resolve().parents[1]
SIGMA = 0.01


def all_vectors(kb: KnowledgeBase, ids: list[str]) -> np.ndarray:
    rows = []
    for i in range(0, len(ids), 5000):
        got = kb.vectors_of(ids[i:i + 5000])
        rows.extend(got[cid] for cid in ids[i:i + 5000])
    return np.stack(rows).astype(np.float32)


def grow(seed: KnowledgeBase, kb: KnowledgeBase, target: int) -> None:
    """Copy seed documents (perturbed vectors, distinct ids) into ``kb`` until it holds ``target`` chunks."""
    rng = np.random.default_rng(0)
    docs = [seed.document(s.source) for s in seed.sources()]
    chunks = seed.chunks(seed.chunk_ids())
    by_source: dict[str, list] = {}
    for c in sorted(chunks.values(), key=lambda c: (c.source, c.ordinal)):
        by_source.setdefault(c.source, []).append(c)
    seed_ids = [c.chunk_id for d in docs for c in by_source[d.source]]
    vectors = dict(zip(seed_ids, all_vectors(seed, seed_ids), strict=True))
    copy = len({s.source.split("/")[0] for s in kb.sources() if s.source.startswith("copy")})
    with kb.write_lock():
        while len(kb.chunk_ids()) < target:
            copy += 1
            items: list = []
            for doc in docs:
                source = f"copy{copy:03d}/{doc.source}"
                new = [dataclasses.replace(c, source=source, chunk_id=f"{source}#{c.ordinal}")
                       for c in by_source[doc.source]]
                vec = np.stack([vectors[c.chunk_id] for c in by_source[doc.source]])
                vec = vec + rng.normal(0, SIGMA, vec.shape).astype(np.float32)
                vec /= np.linalg.norm(vec, axis=1, keepdims=True)
                items.append((dataclasses.replace(doc, source=source), new, vec))
                if sum(len(i[1]) for i in items) >= 2000:
                    kb.put_many(items)
                    items = []
            if items:
                kb.put_many(items)
            print(f"copy {copy}: {len(kb.chunk_ids())} chunks", flush=True)
        kb.refresh_keyword_index()


def pick_region(kb: KnowledgeBase, share: float = 0.03) -> tuple[str, float]:
    gazetteer = load_gazetteer()
    counts: Counter[str] = Counter()
    total = 0
    for info in kb.sources():
        total += info.chunks
        for tag in gazetteer.tags(info.regions):
            counts[tag] += info.chunks
    tag = min(counts, key=lambda t: abs(counts[t] / total - share))
    return tag, counts[tag] / total


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, (time.perf_counter() - started) * 1000


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 0.5), 1), "p95": round(percentile(values, 0.95), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared/corpus/dangjian_news/docs"))
    parser.add_argument("--work", default=str(ROOT / "bench/out/scale"))
    parser.add_argument("--target", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=150)
    args = parser.parse_args()
    work = Path(args.work)
    seed = KnowledgeBase(Settings(data_dir=work / "seed"))
    seed_report = ingest_paths(seed, [Path(args.corpus)])
    print(f"seed: {len(seed.sources())} articles, {len(seed.chunk_ids())} chunks "
          f"({seed_report.seconds:.0f} s)", flush=True)
    grown_dir = work / "grown"
    if not grown_dir.exists():
        shutil.copytree(work / "seed", grown_dir, dirs_exist_ok=True)
    kb = KnowledgeBase(Settings(data_dir=grown_dir), embeddings=seed.embeddings)
    started = time.perf_counter()
    grow(seed, kb, args.target)
    grow_s = time.perf_counter() - started
    ids = kb.chunk_ids()
    print(f"base: {len(ids)} chunks, {len(kb.sources())} documents (grown in {grow_s:.0f} s)", flush=True)
    run_measurements(kb, ids, args, grow_s, work)


def run_measurements(kb: KnowledgeBase, ids: list[str], args: argparse.Namespace, grow_s: float,
                     work: Path) -> None:
    gold = [item.question for item in read_jsonl(GOLD_SET)]
    titles = [s.title for s in kb.sources() if not s.source.startswith("copy")]
    half = args.queries // 2
    queries = gold[:half] + titles[:: max(1, len(titles) // (args.queries - half))][: args.queries - half]
    matrix = all_vectors(kb, ids)
    tag, share = pick_region(kb)
    gazetteer = load_gazetteer()
    in_region_sources = {s.source for s in kb.sources() if tag in gazetteer.tags(s.regions)}
    source_of = kb.chunks(ids)
    region_rows = np.array([i for i, cid in enumerate(ids) if source_of[cid].source in in_region_sources])
    search(kb, "预热", region=tag)  # open Chroma, load BM25 and the JIT once
    out: dict = {"chunks": len(ids), "documents": len(kb.sources()), "grow_s": round(grow_s),
                 "queries": len(queries), "region": tag, "region_share": round(share, 4)}
    for label, region in (("unfiltered", None), ("region_filtered", tag)):
        kb.embeddings.clear_query_cache()
        runs = [timed(search, kb, q, region=region) for q in queries]
        uncached = [ms for _, ms in runs]
        stages: dict[str, float] = {}
        for result, _ in runs:  # each search's own stages
            for k, v in result.timings_ms.items():
                if k != "total":
                    stages[k] = stages.get(k, 0.0) + v / 1000 / len(queries)
        cached = [timed(search, kb, q, region=region)[1] for q in queries]
        out[label] = {"uncached_ms": summary(uncached), "cached_ms": summary(cached),
                      "mean_stage_ms": {k: round(v * 1000, 1) for k, v in stages.items()}}
    qvecs = kb.embeddings.encode(queries, query=True)
    out["unfiltered"]["recall_at_10"] = recall(kb, ids, matrix, qvecs, None, None)
    out["region_filtered"]["recall_at_10"] = recall(kb, ids, matrix, qvecs, region_rows, tag)
    out["floor_ms"] = floor(kb, matrix, qvecs, queries, ours=out["unfiltered"])
    out["cases_ms"] = cases_timing(kb)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    (work / "scale_retrieval.json").write_text(json.dumps(out, ensure_ascii=False, indent=2), "utf-8")


def cases_timing(kb: KnowledgeBase) -> dict:
    """``find_cases`` over the grown base (every copy is an article), each dev topic three times warm."""
    from rag.cases import find_cases

    topics = [json.loads(line)["question"] for line in
              (ROOT / "eval/gold/case_topics.jsonl").read_text("utf-8").splitlines() if line.strip()]
    find_cases(kb, topics[0])
    runs = [timed(find_cases, kb, q) for q in topics for _ in range(3)]
    return {**summary([ms for _, ms in runs]), "mean_cases": round(sum(r.matched for r, _ in runs) / len(runs), 1)}


def recall(kb: KnowledgeBase, ids: list[str], matrix: np.ndarray, qvecs: np.ndarray,
           rows: np.ndarray | None, tag: str | None) -> float:
    sub = matrix if rows is None else matrix[rows]
    sub_ids = ids if rows is None else [ids[i] for i in rows]
    hits = 0
    for q in qvecs:
        exact = {sub_ids[j] for j in np.argsort(-(sub @ q))[:10]}
        hits += len(exact & {cid for cid, _ in kb.dense_search(q, 10, tag)})
    return round(hits / (10 * len(qvecs)), 4)


def floor(kb: KnowledgeBase, matrix: np.ndarray, qvecs: np.ndarray, queries: list[str], ours: dict) -> dict:
    """Exact numpy top-40 + bm25s top-40 (same index object as ours) per question; no fusion, no filter."""
    import bm25s

    bm25 = bm25s.BM25.load(str(kb.settings.bm25_dir / "index"))  # the index files ours saved, loaded as bm25s does
    bm25.backend = "numba" if len(kb.chunk_ids()) >= 20_000 else "numpy"
    depth = kb.settings.candidate_k
    times = []
    for q, text in zip(qvecs, queries, strict=True):
        started = time.perf_counter()
        scores = matrix @ q
        top = np.argpartition(-scores, depth)[:depth]
        top[np.argsort(-scores[top])]
        tokens = [t for t in tokenize(text) if t in bm25.vocab_dict]
        if tokens:
            bm25.retrieve([tokens], k=depth, show_progress=False, n_threads=1)
        times.append((time.perf_counter() - started) * 1000)
    s = summary(times)
    cached = ours["cached_ms"]  # the question's vector comes from the cache: retrieval alone
    return {**s, "ours_cached_p50": cached["p50"], "ours_cached_p95": cached["p95"],
            "ratio_p50": round(cached["p50"] / s["p50"], 2), "ratio_p95": round(cached["p95"] / s["p95"], 2)}

if __name__ == "__main__":
    main()
