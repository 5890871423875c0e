"""Hybrid retrieval: dense (Chroma) + keyword (BM25) fused by reciprocal rank.

Filters by region (a name a user types, normalized by the gazetteer, matching
the region and everything inside it) and by source file. The fused score is
the reciprocal-rank-fusion sum scaled to 0..1 (1 = ranked first by both
retrievers); ``dense_rank`` / ``keyword_rank`` say where each hit came from.

Deliberately not here: source diversification, relevance calibration and
evidence selection, which belong to the answer chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rag.errors import RagError
from rag.knowledge import KnowledgeBase
from rag.regions import load_gazetteer
from rag.types import SearchHit


def region_tag(region: str) -> str:
    """Normalized full path of a region typed by a user, or a Chinese error."""
    tag = load_gazetteer().normalize(region)
    if tag is None:
        raise RagError(f"无法识别地区“{region}”：请使用省、市或区县名称，例如 四川、乐山市、市北区")
    return tag


def _allowed_sources(kb: KnowledgeBase, tag: str | None, sources: Sequence[str] | None) -> set[str] | None:
    if tag is None and not sources:
        return None
    gazetteer = load_gazetteer()
    return {s.source for s in kb.sources()
               if (tag is None or tag in gazetteer.tags(s.regions)) and (not sources or s.source in sources)}


def _where(tag: str | None, sources: Sequence[str] | None) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if tag:
        clauses.append({"regions": {"$contains": tag}})
    if sources:
        clauses.append({"source": {"$in": list(sources)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def search(
    kb: KnowledgeBase,
    query: str,
    k: int | None = None,
    region: str | None = None,
    sources: Sequence[str] | None = None,
) -> list[SearchHit]:
    """The ``k`` best chunks for ``query`` by fused dense + keyword rank."""
    if not query.strip():
        raise RagError("问题不能为空")
    settings = kb.settings
    k = k or settings.search_k
    tag = region_tag(region) if region else None
    allowed = _allowed_sources(kb, tag, sources)
    if allowed is not None and not allowed:
        return []
    depth = max(settings.candidate_k, k)
    dense = kb.vectors.query(kb.embeddings.encode([query], query=True)[0], depth, _where(tag, sources))
    keyword = kb.keyword.search(query, depth, allowed)

    fused: dict[str, float] = {}
    dense_rank = {cid: r for r, (cid, _) in enumerate(dense, 1)}
    keyword_rank = {cid: r for r, (cid, _) in enumerate(keyword, 1)}
    for ranks in (dense_rank, keyword_rank):
        for cid, rank in ranks.items():
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (settings.rrf_k + rank)
    best = 2.0 / (settings.rrf_k + 1)
    top = sorted(fused, key=lambda cid: -fused[cid])[:k]
    chunks = kb.manifest.chunks_by_id(top)
    return [SearchHit(chunks[cid], fused[cid] / best, dense_rank.get(cid), keyword_rank.get(cid))
            for cid in top if cid in chunks]
