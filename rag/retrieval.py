"""Hybrid retrieval: dense (Chroma) + keyword (BM25) fused by reciprocal rank.

Filters by region (a name a user types, normalized by the gazetteer, matching
the region and everything inside it) and by source file. The fused score is
the reciprocal-rank-fusion sum scaled to 0..1 (1 = ranked first by both
retrievers); ``dense_rank`` / ``keyword_rank`` say where each hit came from and
``similarity`` is the dense cosine similarity (0..1, higher is better).

A chunk that states every figure the question states with its unit ("哪家公司的股价上涨了8%？": "…当天上涨
了大约8%") ranks as if a third retriever had put it first: a same-topic article without the figure, first
by meaning, came before it (crud). Its score, which the chain's refusal reads, is left as fused.
Results are diversified across articles: no source takes more than
``per_source_cap`` of the k slots, and questions that ask across places or
cases (各地、其他地方、哪些地区、有哪些做法…) take one chunk per article first.
For the answer chain (``place_extra``), a question that names one place (and
no region filter) also gets, after those k, the best chunks of the articles
tagged with that place (as a region filter would take) that the cap left out: an article's fourth chunk, "安商办受理
企业问题诉求共204个", answers "上饶经开区受理了多少个企业问题" without naming
上饶. The first k, and their ranks, stay as they were.

Deliberately not here: relevance calibration and evidence selection, which
belong to the answer chain (``rag.evidence``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from rag.errors import RagError
from rag.knowledge import KnowledgeBase
from rag.regions import load_gazetteer, named_place
from rag.timing import Timer
from rag.types import SearchHit, SearchResult

# A figure a question states with its unit ("上涨了8%", "500米", "未满20岁"); not a date (7月份), a year, a name
_FIGURE_WITH_UNIT = re.compile(r"(?<![A-Za-z\d.])(\d+(?:\.\d+)?)\s*"
                               r"([%％]|万|亿|千米|平方米|公里|米|岁|个|名|家|位|人|元|倍|强|吨|辆|次)")
_CROSS_CASE = re.compile(
    r"各地|各个地方|其他地方|别的地方|其他地区|哪些地[区方]|哪些城市|哪些企业|哪些做法|有哪些|"
    r"各[省市区县]|多地|不同地[区方]|案例|经验做法|做法有哪些"
)


def is_cross_case(question: str) -> bool:
    """True when the question asks across places or cases rather than about one."""
    return bool(_CROSS_CASE.search(question))


def diversify(ranked: Sequence[str], source_of: dict[str, str], k: int, cap: int) -> list[str]:
    """Take ``ranked`` ids in order, at most ``cap`` per source, filling up to ``k``.

    With ``cap == 1`` this is a round robin: the best chunk of each article
    first, then second-best chunks, and so on.
    """
    taken: list[str] = []
    per_source: dict[str, int] = {}
    limit = cap
    while len(taken) < min(k, len(ranked)):
        before = len(taken)
        for cid in ranked:
            if len(taken) >= k:
                break
            src = source_of[cid]
            if cid not in taken and per_source.get(src, 0) < limit:
                taken.append(cid)
                per_source[src] = per_source.get(src, 0) + 1
        if len(taken) == before:
            limit += cap
    return taken


def region_tag(region: str) -> str:
    """Normalized full path of a region typed by a user, or a Chinese error."""
    tag = load_gazetteer().normalize(region)
    if tag is None:
        raise RagError(f"无法识别地区“{region}”：请使用省、市或区县名称，例如 四川、乐山市、市北区")
    return tag


def _allowed_sources(kb: KnowledgeBase, tag: str | None, sources: Sequence[str] | None) -> set[str] | None:
    if tag is None and not sources:
        return None
    if tag is None:
        return set(sources or ())
    in_region = kb.sources_in_region(tag)
    return set(in_region) if not sources else in_region.intersection(sources)


def search(
    kb: KnowledgeBase,
    query: str,
    k: int | None = None,
    region: str | None = None,
    sources: Sequence[str] | None = None,
    diversify_cap: int | None = None,
    place_extra: bool = False,
) -> SearchResult:
    """The ``k`` best chunks for ``query`` by fused dense + keyword rank, diversified by source.

    With ``place_extra``, up to ``k`` more follow: those of the articles tagged with the one place
    the query names that the per-source cap left out (the answer chain's candidates).

    The result carries this search's own stage timings; opening the knowledge base
    (loading the embedding model, Chroma, BM25) is its own stage, ``load``.
    """
    if not query.strip():
        raise RagError("问题不能为空")
    settings = kb.settings
    k = k or settings.search_k
    tag = region_tag(region) if region else None
    timer = Timer()
    if not kb.is_open:
        with timer.stage("load"):
            kb.open()
    with timer.stage("filter"):
        allowed = _allowed_sources(kb, tag, sources)
    if allowed is not None and not allowed:
        return SearchResult((), timer.ms())
    depth = max(settings.candidate_k, k)
    with timer.stage("query_embed"):
        vector = kb.embed_query(query)
    with timer.stage("dense"):
        dense = kb.dense_search(vector, depth, tag, sources)
    with timer.stage("keyword"):
        keyword = kb.keyword_search(query, depth, allowed)
    with timer.stage("fuse"):
        hits = _fuse(kb, query, dense, keyword, k, diversify_cap)
    place = named_place(query) if place_extra and tag is None else None
    if place is not None:
        with timer.stage("place"):
            hits += _place_hits(kb, query, vector, place, sources, depth, k, {h.chunk.chunk_id for h in hits})
    return SearchResult(tuple(hits), timer.ms())


def _place_hits(kb: KnowledgeBase, query: str, vector: np.ndarray, place: str, sources: Sequence[str] | None,
                depth: int, k: int, seen: set[str]) -> list[SearchHit]:
    """The best chunks of the articles tagged with ``place`` that are not in ``seen``, at most ``k``."""
    allowed = _allowed_sources(kb, place, sources)
    if not allowed:
        return []
    dense = kb.dense_search(vector, depth, place, sources)
    keyword = kb.keyword_search(query, depth, allowed)
    local = _fuse(kb, query, dense, keyword, k + len(seen), k + len(seen))  # no cap: the place's articles are few
    return [h for h in local if h.chunk.chunk_id not in seen][:k]


def _fuse(kb: KnowledgeBase, query: str, dense: list[tuple[str, float]], keyword: list[tuple[str, float]], k: int,
          diversify_cap: int | None) -> list[SearchHit]:
    settings = kb.settings
    fused: dict[str, float] = {}
    similarity = dict(dense)
    dense_rank = {cid: r for r, (cid, _) in enumerate(dense, 1)}
    keyword_rank = {cid: r for r, (cid, _) in enumerate(keyword, 1)}
    for ranks, weight in ((dense_rank, 1.0), (keyword_rank, settings.keyword_weight)):
        for cid, rank in ranks.items():
            fused[cid] = fused.get(cid, 0.0) + weight / (settings.rrf_k + rank)
    best = (1.0 + settings.keyword_weight) / (settings.rrf_k + 1)
    ranked = sorted(fused, key=lambda cid: -fused[cid])
    chunks = kb.chunks(ranked)
    ranked = [cid for cid in ranked if cid in chunks]
    stated = _stated_figures(query)
    if stated:  # a chunk stating them all ranks as if one more retriever had put it first; its score stays
        bonus = 1.0 / (settings.rrf_k + 1)
        order = {cid: fused[cid] + bonus * all(f.search(chunks[cid].text) for f in stated) for cid in ranked}
        ranked = sorted(ranked, key=lambda cid: -order[cid])
    cap = 1 if is_cross_case(query) else (diversify_cap or settings.per_source_cap)
    top = diversify(ranked, {cid: chunks[cid].source for cid in ranked}, k, cap)
    return [SearchHit(chunks[cid], min(1.0, fused[cid] / best), dense_rank.get(cid), keyword_rank.get(cid),
                      similarity.get(cid))
            for cid in top]


def _stated_figures(query: str) -> list[re.Pattern[str]]:
    """A pattern per figure ``query`` states with its unit (``_FIGURE_WITH_UNIT``), matching that figure and unit
    and not a longer figure ("8%" is not in "18%" or "0.8%")."""
    return [re.compile(rf"(?<![\d.]){re.escape(number)}\s*{'[%％]' if unit in '%％' else re.escape(unit)}")
            for number, unit in dict.fromkeys(_FIGURE_WITH_UNIT.findall(query))]
