"""Evidence selection: the sentences of the retrieved chunks that answer the question.

For each retrieved chunk the best window of one or two consecutive sentences (within one paragraph) is
scored by how much of the question's content it covers, plus a small bonus when it is the kind of
sentence the question wants (``rag.windows``, ``rag.intent``): question terms (jieba tokens) weighted by
their inverse document frequency in the knowledge base, so rare, specific words (党建指导员, 乐山) count
more than common ones (党建, 企业). A sentence also holds its article's place (``rag.regions.article_place``),
which news leaves unsaid after the lead, unless the question asks across places, and, when it names no
year, the years its article's title names (a statistics bulletin's); in choosing among a passage's
windows (not in how relevant the passage is), every sentence holds its title's words too. Windows that
overlap one already chosen from the same article are skipped. Once the passages are chosen, each one's
quote is re-picked among its nearly-as-well-covered windows by closeness in meaning to the question
(``closest_windows``).
For a 怎么做 question a chosen window runs on, in its article's text, through the following sentences of
its paragraph that say what was done (``rag.windows.with_measures``). Each window becomes a ``Citation``
whose ``quote`` is exactly ``document.text[start:end]``. A quote that says word for word (spaces aside)
what an earlier one says, the same report carried by another outlet, gives its place to the next passage.

``relevance`` of a passage (0..1, higher is better) mixes its best window's term coverage with the dense
similarity of its chunk; the answer chain refuses when the best relevance is under the calibrated
``relevance_threshold``. Passages much less relevant than the best are dropped, so a one-fact question
gets one or two quotes rather than a pile. The re-pick by meaning changes no relevance.

``select_part_evidence`` does the same for each part of a multi-part question
(``rag.parts``) and merges the parts' quotes so that every part keeps its own; a part told apart by a place
shows the quotes that name it, when some do.

``states_answer`` says, without the model, whether a quote states what a question asks
(nearly all its content terms, the asked kind of answer, the asked years in its article);
the chain uses it to override a model's refusal that the shown evidence contradicts.

Deliberately not here: embedding every sentence of every retrieved chunk (see ``rag.windows``) or any LLM call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rag.abbreviations import held_words
from rag.intent import question_intent
from rag.keyword import place_tokens, tokenize
from rag.knowledge import KnowledgeBase
from rag.parts import distinct_words, part_words, places_among
from rag.regions import load_gazetteer
from rag.retrieval import is_cross_case
from rag.text import normalize
from rag.types import Citation, Document, SearchHit
from rag.windows import (
    YEAR,
    Scored,
    closest_windows,
    coverage,
    ranked_windows,
    title_years,
    top_window,
    untitled_best,
    with_measures,
)

_COVERAGE_WEIGHT = 0.6  # relevance = 0.6 * term coverage + 0.4 * dense similarity
# Keep a passage only when it is nearly as relevant as the best one: on the gold set the
# passage holding the answer of a one-place question is far ahead of the rest (ratio < 0.7),
# while the several places of a cross-case question are close to each other.
_KEEP_RATIO = 0.7
_KEEP_RATIO_CROSS_CASE = 0.6
# The words a question asks with (什么样, 哪个, 哪一年, 谁, 几个): no quote states them, so they are not
# terms a quote must hold to state the answer (the common ones are already search stopwords). Not a
# name that starts like one (哪吒).
_ASKING_WORD = re.compile(r"什么.*|哪一?[个些种类家支位项年天国里儿座部款条所样]?|谁|几[个名次位年天岁家条项人]?|"
                          r"何[时处地]|为什么|为何|多[大长久高远]|怎.*|如何|啥")

# The word right after 多少/几 ("多少人", "多少钱"), any of them (``rag.intent``'s asked unit is one of a list and
# reads 多少钱 as 元): the quote states it with its figure ("1269万人"), or not at all
_AFTER_HOW_MANY = re.compile(r"(?:多少|几)(\w)")

# The word a question asks for a date with ("上映日期", "国葬时间"): the quote states a date, not the word.
_TIME_WORD = re.compile(r"时间|日期|时候")


@dataclass(frozen=True)
class Evidence:
    """A numbered quote with how relevant it is and which retrieved chunk it came from."""

    citation: Citation
    relevance: float
    coverage: float
    chunk_id: str


def question_terms(kb: KnowledgeBase, question: str) -> dict[str, float]:
    """Content tokens of the question with their IDF weights."""
    tokens = list(dict.fromkeys(tokenize(question)))
    return kb.idf(tokens)


def _compound_parts(terms: dict[str, float]) -> dict[str, list[str]]:
    """Each compound question term with the other question terms inside it. A quote holds the
    compound when it holds all of them: "投入量" is held by "…经费投入达30870亿元" (jieba's search mode
    gives both 投入 and 投入量), "长安汽车" is not held by "宝马…汽车" (its part 长安 is missing)."""
    return {term: parts for term in terms if (parts := [p for p in terms if p != term and p in term])}


def stated_terms(kb: KnowledgeBase, question: str) -> tuple[dict[str, float], dict[str, list[str]]]:
    """The terms (with IDF weights) a quote must hold to state ``question``'s answer, and each compound
    term's parts (``_compound_parts``): years, 年, the words it asks with (and the unit after 多少/几) and,
    for a date, 时间/日期 left aside; a term inside a longer one counts only through it ("卡塔尔", not
    卡塔 + 塔尔 + 卡塔尔)."""
    intent = question_intent(question)
    asked_units = set(_AFTER_HOW_MANY.findall(question))
    every = {t: w for t, w in question_terms(kb, question).items()
             if t != "年" and not YEAR.fullmatch(t) and not _ASKING_WORD.fullmatch(t) and t not in asked_units
             and not (intent.time and _TIME_WORD.fullmatch(t))}
    compounds = _compound_parts(every)
    inside = {p for parts in compounds.values() for p in parts}
    return {t: w for t, w in every.items() if t not in inside}, compounds


def states_answer(kb: KnowledgeBase, question: str, quotes: Sequence[Citation], at: float) -> bool:
    """True when one of ``quotes`` states what ``question`` asks, judged without the model.

    The quote holds at least ``at`` of the question's ``stated_terms`` (IDF-weighted; a compound held when
    all its parts are; its article's place held as in ``select_evidence``: not for questions across places),
    is of the kind asked (a figure for 多少, a date for 何时: ``rag.intent``), and its article names every year
    the question names ("2021年…" answered by a 2023 report: no). "…新增就业了多少人" is stated by "全年城镇新增
    就业1269万人" (人 is the asked unit, not a word to hold); "卡塔尔世界杯季军是哪支球队" is not stated by a
    quote without 季军 (卡塔尔 weighs once, not as 卡塔 + 塔尔 + 卡塔尔, which held it at 0.81).
    """
    intent = question_intent(question)
    terms, compounds = stated_terms(kb, question)
    total = sum(terms.values())
    years = set(YEAR.findall(question))
    document_of = kb.document_lookup()
    placed = not is_cross_case(question)
    for c in quotes:
        doc = document_of(c.source)
        # plain tokens, not ``held_words``: with 生产总值 holding GDP, gold's unanswerable "乐山市2021年的地区生产总值
        # 是多少？" was overridden (replayed on the stored refusals, round twenty)
        held = set(tokenize(c.quote)) | (place_tokens(doc.title, doc.regions) if placed and doc is not None else set())
        held |= {term for term, parts in compounds.items() if all(p in held for p in parts)}
        if coverage(held, terms, total) < at:
            continue
        if (intent.quantity or intent.time) and intent.bonus(c.quote) <= 0:
            continue
        if all(y in c.title or (doc is not None and y in doc.text) for y in years):
            return True
    return False


def passage_regions(text: str, fallback: Sequence[str]) -> tuple[str, ...]:
    """Regions a passage is about: those it names, else its article's main region."""
    found = load_gazetteer().find(text, limit=3)
    return found or tuple(fallback[:1])


def select_evidence(
    kb: KnowledgeBase, question: str, hits: Sequence[SearchHit], limit: int
) -> list[Evidence]:
    """Up to ``limit`` numbered quotes from ``hits``, most relevant first."""
    terms = question_terms(kb, question)
    total = sum(terms.values())
    intent = question_intent(question)
    cross_case = is_cross_case(question)  # "四川省有哪些地方…": the quotes must name the places themselves
    candidates: list[tuple[float, float, SearchHit, list[Scored]]] = []
    for hit in hits:
        context = frozenset() if cross_case else place_tokens(hit.chunk.title, hit.chunk.regions)
        ranked = ranked_windows(hit.chunk.text, terms, total, intent, context, title_years(hit.chunk.title),
                                held_words(hit.chunk.title))
        cov = max(best[2], 0.0) if (best := untitled_best(ranked)) else 0.0
        similarity = hit.similarity if hit.similarity is not None else 0.0
        candidates.append((_COVERAGE_WEIGHT * cov + (1 - _COVERAGE_WEIGHT) * similarity, cov, hit, ranked))
    candidates.sort(key=lambda c: -c[0])
    if candidates:
        ratio = _KEEP_RATIO_CROSS_CASE if cross_case else _KEEP_RATIO
        floor = candidates[0][0] * ratio
        candidates = [c for c in candidates if c[0] >= floor]
    chosen = _quotes(kb, question, candidates, limit, intent.how)
    while copies := _copies(chosen):  # the same report carried by another outlet: the next passage instead
        candidates = [c for c in candidates if c[2].chunk.chunk_id not in copies]
        chosen = _quotes(kb, question, candidates, limit, intent.how)
    return chosen


_Candidate = tuple[float, float, SearchHit, list[Scored]]  # (relevance, coverage, hit, its ranked windows)


def _quotes(kb: KnowledgeBase, question: str, candidates: Sequence[_Candidate], limit: int,
            how: bool) -> list[Evidence]:
    """Up to ``limit`` numbered quotes of ``candidates`` (best first): which passages, by their best window
    in words; then which window of each, by meaning too."""
    document_of = kb.document_lookup()  # a 怎么做 window runs on in its article: each article read once
    picked: list[_Candidate] = []
    taken: list[tuple[str, int, int]] = []
    for candidate in candidates:
        if len(picked) >= limit:
            break
        chunk, ranked = candidate[2].chunk, candidate[3]
        s, e, _ = top_window(chunk.text, ranked)
        start, end = _extent(chunk.start + s, chunk.start + e, chunk.source, how, document_of)
        if not _overlaps(taken, chunk.source, start, end):
            picked.append(candidate)
            taken.append((chunk.source, start, end))
    windows = closest_windows(kb, question, [c[2].chunk for c in picked], [c[3] for c in picked])
    chosen: list[Evidence] = []
    for i, ((relevance, cov, hit, ranked), (s, e, _)) in enumerate(zip(picked, windows, strict=True)):
        chunk = hit.chunk
        _, start, end = taken[i]  # the window by words
        if (s, e) != top_window(chunk.text, ranked)[:2]:  # re-picked by meaning, unless it runs into another quote
            a, b = _extent(chunk.start + s, chunk.start + e, chunk.source, how, document_of)
            if not _overlaps(taken[:i] + taken[i + 1:], chunk.source, a, b):
                start, end = a, b
        doc = document_of(chunk.source) if how else None
        quote = doc.text[start:end] if doc is not None else chunk.text[start - chunk.start:end - chunk.start]
        citation = Citation(
            n=len(chosen) + 1, source=chunk.source, title=chunk.title,
            regions=passage_regions(chunk.text, chunk.regions), quote=quote, start=start, end=end,
            page=chunk.page_at(start), ocr_confidence=chunk.ocr_confidence,
        )
        chosen.append(Evidence(citation, round(relevance, 4), round(cov, 4), chunk.chunk_id))
    return chosen


def _copies(chosen: Sequence[Evidence]) -> set[str]:
    """The chunks of quotes that say word for word (spaces aside) what an earlier quote says, or all of it and more."""
    said: list[str] = []
    copies = set()
    for e in chosen:
        words = normalize(e.citation.quote)
        if any(earlier in words or words in earlier for earlier in said):
            copies.add(e.chunk_id)
        said.append(words)
    return copies


def _overlaps(taken: Sequence[tuple[str, int, int]], source: str, start: int, end: int) -> bool:
    """``[start, end)`` of ``source`` overlaps one of the ``taken`` (source, start, end) spans."""
    return any(src == source and start < b and a < end for src, a, b in taken)


def _extent(start: int, end: int, source: str, how: bool,
            document_of: Callable[[str], Document | None]) -> tuple[int, int]:
    """A quote's (start, end) in its article: for a 怎么做 question, run on through the measures that follow."""
    if how and (doc := document_of(source)) is not None:
        return start, with_measures(doc.text, start, end)
    return start, end


@dataclass(frozen=True)
class PartEvidence:
    """Evidence for a multi-part question: the merged numbered quotes and, per part, its numbers."""

    evidence: tuple[Evidence, ...]
    numbers: tuple[tuple[int, ...], ...]  # per part, the numbers of its quotes, best first
    best: tuple[float, ...]  # per part, the relevance of its best quote (0 when none)


def select_part_evidence(kb: KnowledgeBase, parts: Sequence[str], hits_per_part: Sequence[Sequence[SearchHit]],
                         limit: int) -> PartEvidence:
    """Each part's best quotes, taken in turn (every part's first, then every part's second…).

    A quote that another part already took is shared, not repeated; every part keeps at
    least its best quote even when ``limit`` is small.
    """
    per_part = max(2, limit // max(1, len(parts)))
    lists = [select_evidence(kb, part, hits, per_part + 1) for part, hits in zip(parts, hits_per_part, strict=True)]
    words = part_words(parts)
    lists = [own_quotes(candidates, i, words)[:per_part] for i, candidates in enumerate(lists)]
    chosen: list[Evidence] = []
    numbers: list[list[int]] = [[] for _ in parts]
    for rank in range(per_part):
        for i, candidates in enumerate(lists):
            if rank >= len(candidates) or (rank > 0 and len(chosen) >= max(limit, len(parts))):
                continue
            e = candidates[rank]
            c = e.citation
            same = next((x for x in chosen if (x.citation.source == c.source
                         and x.citation.start < c.end and c.start < x.citation.end)
                         or normalize(x.citation.quote) == normalize(c.quote)), None)
            if same is None:
                same = replace(e, citation=replace(c, n=len(chosen) + 1))
                chosen.append(same)
            if same.citation.n not in numbers[i]:
                numbers[i].append(same.citation.n)
    best = tuple(max((e.relevance for e in candidates), default=0.0) for candidates in lists)
    return PartEvidence(tuple(chosen), tuple(tuple(n) for n in numbers), best)


def own_quotes(candidates: list[Evidence], i: int, words: Sequence[set[str]]) -> list[Evidence]:
    """Part ``i``'s quotes without those about another part: a quote (with its title and places) that names
    only another part's own words ("自贡" for the 乐山 part) answers that part, not this one. When what tells
    the part apart is a place ("2021年香港和澳门的GDP增长率") and a quote names it, the quotes naming it
    are the part's: one about a third place (美国's GDP, 乐山高新区 for 自贡高新区) is not shown under it. Other
    words are not held to that: "女子" is named by a table-tennis quote and not by the IRONMAN quote that answers."""
    mine = distinct_words(words, i)
    others = set().union(*(w - words[i] for j, w in enumerate(words) if j != i))
    places = places_among(mine)
    kept: list[tuple[Evidence, bool]] = []  # each quote not about another part, and whether it names the place
    for e in candidates:
        c = e.citation
        seen = held_words(f"{c.title} {' '.join(c.regions)} {c.quote}")
        if not (seen & others and not seen & mine):
            kept.append((e, bool(seen & places)))
    placed = any(named for _, named in kept)
    return [e for e, named in kept if named or not placed]
