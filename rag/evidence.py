"""Evidence selection: the sentences of the retrieved chunks that answer the question.

For each retrieved chunk the best window of one or two consecutive sentences
(within one paragraph) is chosen by how much of the question's content it covers, plus a small
bonus when it is the kind of sentence the question wants (``rag.intent``: a figure for 多少,
a date for 何时, a measure for 怎么做): question terms
(jieba tokens) weighted by their inverse document frequency in the knowledge
base, so rare, specific words (党建指导员, 乐山) count more than common ones
(党建, 企业). A sentence also holds its article's place (``rag.regions.article_place``),
which news leaves unsaid after the lead, unless the question asks across places, and, when it
names no year, the years its article's title names (a statistics bulletin's). Windows
that overlap one already chosen from the same article are skipped. For a 怎么做 question
a chosen window runs on, in its article's text, through the following sentences of its
paragraph that say what was done (``_with_measures``). Each window
becomes a ``Citation`` whose ``quote`` is exactly ``document.text[start:end]``.

``relevance`` of a window (0..1, higher is better) mixes that term coverage
with the dense similarity of its chunk; the answer chain refuses when the best
relevance is under the calibrated ``relevance_threshold``. Passages much less
relevant than the best are dropped, so a one-fact question gets one or two
quotes rather than a pile.

``select_part_evidence`` does the same for each part of a multi-part question
(``rag.parts``) and merges the parts' quotes so that every part keeps its own.

``states_answer`` says, without the model, whether a quote states what a question asks
(nearly all its content terms, the asked kind of answer, the asked years in its article);
the chain uses it to override a model's refusal that the shown evidence contradicts.

Deliberately not here: embedding individual sentences (too slow on this CPU
for an answer that must show evidence within a second) or any LLM call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.abbreviations import held_words
from rag.intent import UNIT_BONUS, Intent, question_intent, says_what_was_done
from rag.keyword import place_tokens, tokenize
from rag.knowledge import KnowledgeBase
from rag.parts import distinct_words, part_words
from rag.regions import load_gazetteer
from rag.retrieval import is_cross_case
from rag.text import sentence_spans
from rag.types import Citation, SearchHit

MAX_QUOTE_CHARS = 220
_SHORT_SENTENCE = 40  # a best sentence shorter than this takes a neighbour for context
_COVERAGE_WEIGHT = 0.6  # relevance = 0.6 * term coverage + 0.4 * dense similarity
# Keep a passage only when it is nearly as relevant as the best one: on the gold set the
# passage holding the answer of a one-place question is far ahead of the rest (ratio < 0.7),
# while the several places of a cross-case question are close to each other.
_KEEP_RATIO = 0.7
_KEEP_RATIO_CROSS_CASE = 0.6
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# The words a question asks with (什么样, 哪个, 哪一年, 谁, 几个): no quote states them, so they are not
# terms a quote must hold to state the answer (the common ones are already search stopwords). Not a
# name that starts like one (哪吒).
_ASKING_WORD = re.compile(r"什么.*|哪一?[个些种类家支位项年天国里儿座部款条所样]?|谁|几[个名次位年天岁家条项人]?|"
                          r"何[时处地]|为什么|为何|多[大长久高远]|怎.*|如何|啥")

# Words by which a sentence refers to the one before it (a short one is then read with it)
_REFERRING = frozenset("由此 因此 对此 为此 此外 其中 上述 随后 此后 他 她 它 他们 她们 它们 该 此 这 这些 这一 这是 其"
                       .split())
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


def _coverage(tokens: set[str], terms: dict[str, float], total: float) -> float:
    if total <= 0:
        return 0.0
    return sum(w for t, w in terms.items() if t in tokens) / total


def _compound_parts(terms: dict[str, float]) -> dict[str, list[str]]:
    """Each compound question term with the other question terms inside it. A quote holds the
    compound when it holds all of them: "投入量" is held by "…经费投入达30870亿元" (jieba's search mode
    gives both 投入 and 投入量), "长安汽车" is not held by "宝马…汽车" (its part 长安 is missing)."""
    return {term: parts for term in terms if (parts := [p for p in terms if p != term and p in term])}


def states_answer(kb: KnowledgeBase, question: str, quotes: Sequence[Citation], at: float) -> bool:
    """True when one of ``quotes`` states what ``question`` asks, judged without the model.

    The quote holds at least ``at`` of the question's content terms (IDF-weighted; years, 年,
    the words it asks with and, when it asks for a date, 时间/日期 left aside; a compound held when
    all its parts are; its article's
    place held as in ``select_evidence``: not for questions across places), is of the kind
    asked (a figure for 多少, a date for 何时: ``rag.intent``), and its article names every year
    the question names ("2021年…" answered by a 2023 report: no).
    """
    intent = question_intent(question)
    terms = {t: w for t, w in question_terms(kb, question).items()
             if t != "年" and not _YEAR.fullmatch(t) and not _ASKING_WORD.fullmatch(t)
             and not (intent.time and _TIME_WORD.fullmatch(t))}
    total = sum(terms.values())
    years = set(_YEAR.findall(question))
    document_of = kb.document_lookup()
    compounds = _compound_parts(terms)  # the question's: computed once, checked against each quote
    placed = not is_cross_case(question)
    for c in quotes:
        doc = document_of(c.source)
        # plain tokens, not ``held_words``: with 生产总值 holding GDP, gold's unanswerable "乐山市2021年的地区生产总值
        # 是多少？" was overridden (replayed on the stored refusals, round twenty)
        held = set(tokenize(c.quote)) | (place_tokens(doc.title, doc.regions) if placed and doc is not None else set())
        held |= {term for term, parts in compounds.items() if all(p in held for p in parts)}
        if _coverage(held, terms, total) < at:
            continue
        if (intent.quantity or intent.time) and intent.bonus(c.quote) <= 0:
            continue
        if all(y in c.title or (doc is not None and y in doc.text) for y in years):
            return True
    return False


def _best_window(text: str, terms: dict[str, float], total: float, intent: Intent | None = None,
                 context: frozenset[str] = frozenset(), years: frozenset[str] = frozenset()) -> tuple[int, int, float]:
    """(start, end, coverage) of the best one- or two-sentence window of ``text``.

    Windows are compared by coverage plus ``intent``'s bonus for being of the wanted kind
    (a figure for 多少, a date for 何时); the coverage returned is the window's own. A sentence
    takes the next one in when that adds the question's words, or the asked kind it lacks
    ("…出游4.22亿人次。" + "实现国内旅游收入2872.1亿元…" for 旅游收益是多少). A short sentence is read with a
    neighbour: the next, or, when it ends its paragraph and refers back (由此, 他, 其中…), the one before
    ("MU5735空难由此成为…最严重空难。" with the sentence saying when and where the plane fell). Every sentence also
    holds the ``context`` words: its article's place, which a sentence like "安商办受理…204个" leaves unsaid,
    and the other names of an abbreviation it uses ("地区生产总值" holds GDP: ``rag.abbreviations``). A sentence
    that names no year holds the ``years`` its article's title names ("《北京市2021年国民经济和社会发展统计公报》…
    全年实现地区生产总值40269.6亿元"); one that names a year is about that year.
    """
    intent = intent or Intent()
    spans = sentence_spans(text)
    if not spans:
        return 0, len(text), 0.0
    own = [held_words(text[s:e]) | context for s, e in spans]
    token_sets = [held if _YEAR.search(text, s, e) else held | years for held, (s, e) in zip(own, spans, strict=True)]
    best, best_key = (spans[0][0], spans[0][1], -1.0), (-1.0, -1.0, 0)
    for i, (s, e) in enumerate(spans):
        cov = _coverage(token_sets[i], terms, total)
        window, bonus, first, last = (s, e, cov), intent.bonus(text[s:e]), i, i
        if _joins(text, spans, i + 1):
            joined = _coverage(token_sets[i] | token_sets[i + 1], terms, total)
            if joined >= cov:
                joined_bonus = intent.bonus(text[s:spans[i + 1][1]])
                if joined > cov + 0.05 or e - s < _SHORT_SENTENCE or joined_bonus - bonus >= UNIT_BONUS:
                    window, bonus, last = (s, spans[i + 1][1], joined), joined_bonus, i + 1
        elif e - s < _SHORT_SENTENCE and _joins(text, spans, i) and _refers_back(text[s:e]):
            p = spans[i - 1][0]
            window, first = (p, e, _coverage(token_sets[i - 1] | token_sets[i], terms, total)), i - 1
            bonus = intent.bonus(text[p:e])
        # equal scores: the window that says the question's words itself (not by its title's year), then the shorter
        key = (window[2] + (bonus if window[2] > 0 else 0.0),
               _coverage(set().union(*own[first:last + 1]), terms, total), window[0] - window[1])
        if key > best_key:
            best, best_key = window, key
    s, e, cov = best
    if e - s > MAX_QUOTE_CHARS:  # one very long sentence: keep its head, cut at a clause mark
        cut = max(text.rfind(mark, s, s + MAX_QUOTE_CHARS) for mark in "，；、,;")
        e = cut + 1 if cut > s else s + MAX_QUOTE_CHARS
    return s, e, max(cov, 0.0)


def title_years(title: str) -> frozenset[str]:
    """The years ``title`` names, with 年, as a question's "2021年" is tokenized (none: empty)."""
    years = _YEAR.findall(title)
    return frozenset([*years, "年"]) if years else frozenset()


def _refers_back(sentence: str) -> bool:
    """``sentence`` leans on the one before it: "…空难由此成为…", "他的表现…", "其中…"."""
    import jieba

    return any(word in _REFERRING for word in jieba.lcut(sentence))


def _joins(text: str, spans: Sequence[tuple[int, int]], i: int) -> bool:
    """Sentence ``i`` can be read with the one before it: same paragraph, together within ``MAX_QUOTE_CHARS``."""
    return 0 < i < len(spans) and "\n" not in text[spans[i - 1][1]:spans[i][0]] \
        and spans[i][1] - spans[i - 1][0] <= MAX_QUOTE_CHARS


def _with_measures(text: str, start: int, end: int) -> int:
    """``end`` moved past the sentences right after it, in its paragraph, that say what was done.

    A 怎么做 answer's best-covered sentence is often the situation ("…以个体户为主，党员流动性
    大。"); the measures follow it without repeating the question's words ("…摸清党员底数，把支部
    建在行业上…"). The window keeps within ``MAX_QUOTE_CHARS`` of its start.
    """
    paragraph_end = text.find("\n", end)
    for s, e in sentence_spans(text, end, len(text) if paragraph_end < 0 else paragraph_end):
        if not says_what_was_done(text[s:e]) or e - start > MAX_QUOTE_CHARS:
            break
        end = e
    return end


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
    candidates: list[tuple[float, float, SearchHit, int, int]] = []
    for hit in hits:
        context = frozenset() if cross_case else place_tokens(hit.chunk.title, hit.chunk.regions)
        s, e, cov = _best_window(hit.chunk.text, terms, total, intent, context, title_years(hit.chunk.title))
        similarity = hit.similarity if hit.similarity is not None else 0.0
        relevance = _COVERAGE_WEIGHT * cov + (1 - _COVERAGE_WEIGHT) * similarity
        candidates.append((relevance, cov, hit, s, e))
    candidates.sort(key=lambda c: -c[0])
    if candidates:
        ratio = _KEEP_RATIO_CROSS_CASE if cross_case else _KEEP_RATIO
        floor = candidates[0][0] * ratio
        candidates = [c for c in candidates if c[0] >= floor]

    chosen: list[Evidence] = []
    taken: dict[str, list[tuple[int, int]]] = {}
    document_of = kb.document_lookup()  # a 怎么做 window runs on in its article: each article read once
    for relevance, cov, hit, s, e in candidates:
        if len(chosen) >= limit:
            break
        chunk = hit.chunk
        start, end = chunk.start + s, chunk.start + e
        if any(start < b and a < end for a, b in taken.get(chunk.source, [])):
            continue
        quote = chunk.text[s:e]
        if intent.how and (doc := document_of(chunk.source)) is not None:
            end = _with_measures(doc.text, start, end)
            quote = doc.text[start:end]
        taken.setdefault(chunk.source, []).append((start, end))
        citation = Citation(
            n=len(chosen) + 1, source=chunk.source, title=chunk.title,
            regions=passage_regions(chunk.text, chunk.regions), quote=quote, start=start, end=end,
            page=chunk.page_at(start), ocr_confidence=chunk.ocr_confidence,
        )
        chosen.append(Evidence(citation, round(relevance, 4), round(cov, 4), chunk.chunk_id))
    return chosen


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
    lists = [_own(candidates, i, words)[:per_part] for i, candidates in enumerate(lists)]
    chosen: list[Evidence] = []
    numbers: list[list[int]] = [[] for _ in parts]
    for rank in range(per_part):
        for i, candidates in enumerate(lists):
            if rank >= len(candidates) or (rank > 0 and len(chosen) >= max(limit, len(parts))):
                continue
            e = candidates[rank]
            c = e.citation
            same = next((x for x in chosen if x.citation.source == c.source
                         and x.citation.start < c.end and c.start < x.citation.end), None)
            if same is None:
                same = replace(e, citation=replace(c, n=len(chosen) + 1))
                chosen.append(same)
            if same.citation.n not in numbers[i]:
                numbers[i].append(same.citation.n)
    best = tuple(max((e.relevance for e in candidates), default=0.0) for candidates in lists)
    return PartEvidence(tuple(chosen), tuple(tuple(n) for n in numbers), best)


def _own(candidates: list[Evidence], i: int, words: Sequence[set[str]]) -> list[Evidence]:
    """Part ``i``'s quotes without those about another part: a quote (with its title and places) that names
    only another part's own words ("自贡" for the 乐山 part) answers that part, not this one."""
    mine = distinct_words(words, i)
    others = set().union(*(w - words[i] for j, w in enumerate(words) if j != i))
    kept = []
    for e in candidates:
        c = e.citation
        seen = held_words(f"{c.title} {' '.join(c.regions)} {c.quote}")
        if not (seen & others and not seen & mine):
            kept.append(e)
    return kept
