"""The window of a passage that answers a question: one or two sentences, chosen by words, then by meaning.

``ranked_windows`` scores every one- or two-sentence window of a chunk's text by how much of the
question's content it covers (IDF-weighted terms), plus ``rag.intent``'s bonus when it is the kind of
sentence the question wants (a figure for 多少, a date for 何时). ``best_window`` is the first of them,
cut to ``MAX_QUOTE_CHARS``. ``closest_windows`` then re-picks, among a chosen passage's windows that are
nearly as well covered as its best, the one whose embedding is closest to the question's: words miss
what a sentence says in other words ("经营收入…同比增长7.7%" for 营业收入, "将全球经济增长预期…上调至3.0%" for
预计增长), and a neighbouring sentence that repeats the question's words can win on them alone.

Deliberately not here: embedding every sentence of every retrieved chunk (16 ms a sentence on this
CPU: about a second a question). Only the chosen passages' close runners-up are embedded, at most
``_RUNNERS_UP`` each, in one batch. Which passages are chosen, and how relevant they are, stays lexical.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.abbreviations import held_words
from rag.intent import UNIT_BONUS, Intent, says_what_was_done
from rag.knowledge import KnowledgeBase
from rag.text import sentence_spans
from rag.types import Chunk

MAX_QUOTE_CHARS = 220
_SHORT_SENTENCE = 40  # a best sentence shorter than this takes a neighbour for context
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# Words by which a sentence refers to the one before it (a short one is then read with it)
_REFERRING = frozenset("由此 因此 对此 为此 此外 其中 上述 随后 此后 他 她 它 他们 她们 它们 该 此 这 这些 这一 这是 其"
                       .split())
_CONDITION = re.compile(r"^(?:如果|假如|若|如)[^，,。；;]{0,20}[，,]")  # "如果不采取行动，" before "其中的6.7万个…"
# The re-pick by meaning: windows within _CLOSE of the best one's score (coverage + bonus), at most
# _RUNNERS_UP of them, compared by score + _MEANING_WEIGHT * cosine similarity to the question.
# Chosen on the dev sets: weights 0.5 and 1 re-pick the same quotes' answers, 2 loses one more
# (bench/README, twenty-second round).
_CLOSE = 0.15
_RUNNERS_UP = 3
_MEANING_WEIGHT = 0.5

Window = tuple[int, int, float]  # start, end (in the text), the window's own coverage
Key = tuple[float, float, int]  # (score, own-words coverage, -length)
Scored = tuple[Key, Window, float, Key]  # key, window, kind bonus, the key without the title's words


def coverage(tokens: set[str], terms: dict[str, float], total: float) -> float:
    if total <= 0:
        return 0.0
    return sum(w for t, w in terms.items() if t in tokens) / total


def best_window(text: str, terms: dict[str, float], total: float, intent: Intent | None = None,
                context: frozenset[str] = frozenset(), years: frozenset[str] = frozenset()) -> Window:
    """(start, end, coverage) of the best one- or two-sentence window of ``text`` (see ``ranked_windows``)."""
    return top_window(text, ranked_windows(text, terms, total, intent, context, years))


def top_window(text: str, ranked: Sequence[Scored]) -> Window:
    """The first of ``ranked`` windows of ``text``, fitted (the whole text when it has no sentence)."""
    return fit(text, ranked[0][1]) if ranked else (0, len(text), 0.0)


def ranked_windows(text: str, terms: dict[str, float], total: float, intent: Intent | None = None,
                   context: frozenset[str] = frozenset(), years: frozenset[str] = frozenset(),
                   titled: frozenset[str] = frozenset()) -> list[Scored]:
    """Every one- or two-sentence window of ``text`` with its score, best first (ties: the earlier).

    Windows are compared by coverage plus ``intent``'s bonus for being of the wanted kind
    (a figure for 多少, a date for 何时); the coverage kept is the window's own. A sentence
    takes the next one in when that adds the question's words, or the asked kind it lacks
    ("…出游4.22亿人次。" + "实现国内旅游收入2872.1亿元…" for 旅游收益是多少), and a clause ended by "；" takes in
    the next when that one starts by leaning on it (``_continues``). A short sentence is read with a
    neighbour: the next, or, when it ends its paragraph and refers back (由此, 他, 其中…), the one before
    ("MU5735空难由此成为…最严重空难。" with the sentence saying when and where the plane fell). Every sentence also
    holds the ``context`` words: its article's place, which a sentence like "安商办受理…204个" leaves unsaid,
    and the other names of an abbreviation it uses ("地区生产总值" holds GDP: ``rag.abbreviations``). A sentence
    that names no year holds the ``years`` its article's title names ("《北京市2021年国民经济和社会发展统计公报》…
    全年实现地区生产总值40269.6亿元"); one that names a year is about that year.
    """
    intent = intent or Intent()
    spans = sentence_spans(text)
    own = [held_words(text[s:e]) | context for s, e in spans]
    token_sets = [held if YEAR.search(text, s, e) else held | years for held, (s, e) in zip(own, spans, strict=True)]
    ranked: list[Scored] = []
    for i, (s, e) in enumerate(spans):
        cov = coverage(token_sets[i], terms, total)
        window, bonus, first, last = (s, e, cov), intent.bonus(text[s:e]), i, i
        if _joins(text, spans, i + 1):
            joined = coverage(token_sets[i] | token_sets[i + 1], terms, total)
            if joined >= cov:
                joined_bonus = intent.bonus(text[s:spans[i + 1][1]])
                if joined > cov + 0.05 or e - s < _SHORT_SENTENCE or joined_bonus - bonus >= UNIT_BONUS \
                        or _continues(text, e, spans[i + 1]):
                    window, bonus, last = (s, spans[i + 1][1], joined), joined_bonus, i + 1
        elif e - s < _SHORT_SENTENCE and _joins(text, spans, i) and _refers_back(text[s:e]):
            p = spans[i - 1][0]
            window, first = (p, e, coverage(token_sets[i - 1] | token_sets[i], terms, total)), i - 1
            bonus = intent.bonus(text[p:e])
        # equal scores: the window that says the question's words itself (not by its title's year), then the shorter
        own_coverage = coverage(set().union(*own[first:last + 1]), terms, total)
        plain = (window[2] + (bonus if window[2] > 0 else 0.0), own_coverage, window[0] - window[1])
        scored = coverage(set().union(*token_sets[first:last + 1]) | titled, terms, total) if titled else window[2]
        key = (scored + (bonus if scored > 0 else 0.0), own_coverage, window[0] - window[1])
        ranked.append((key, window, bonus, plain))
    ranked.sort(key=lambda scored: scored[0], reverse=True)  # stable: the earlier of equal windows first
    return ranked


def untitled_best(ranked: Sequence[Scored]) -> Window | None:
    """The best of ``ranked`` windows by their own sentences' words, as if the title said nothing (how relevant
    their passage is); None when there is none."""
    return max(ranked, key=lambda scored: scored[3])[1] if ranked else None


def fit(text: str, window: Window) -> Window:
    """``window`` cut, when it is one very long sentence, to its head up to a clause mark within ``MAX_QUOTE_CHARS``."""
    s, e, cov = window
    if e - s > MAX_QUOTE_CHARS:
        cut = max(text.rfind(mark, s, s + MAX_QUOTE_CHARS) for mark in "，；、,;")
        e = cut + 1 if cut > s else s + MAX_QUOTE_CHARS
    return s, e, max(cov, 0.0)


def closest_windows(kb: KnowledgeBase, question: str, chunks: Sequence[Chunk],
                    ranked: Sequence[Sequence[Scored]]) -> list[Window]:
    """For each chosen passage (its text and ranked windows), the window to quote: the best by words, unless a
    runner-up within ``_CLOSE`` of it, and as much of the asked kind (a figure, a date), is enough closer to
    ``question`` in meaning. Not a runner-up that its article's title already shows whole
    ("进入：2023年北京高考查分官网入口" is shown above its quote): it says the question's words again and nothing
    more. One embedding batch in all."""
    close = [_contenders(c, r) for c, r in zip(chunks, ranked, strict=True)]
    contested = [(i, w) for i, windows in enumerate(close) if len(windows) > 1 for w in windows]
    similarity = kb.similarities(question, [chunks[i].text[w[1][0]:w[1][1]] for i, w in contested])
    best: dict[int, tuple[Key, Window]] = {}
    for (i, (key, window, *_)), sim in zip(contested, similarity, strict=True):
        scored = (key[0] + _MEANING_WEIGHT * float(sim), *key[1:])
        if i not in best or scored > best[i][0]:
            best[i] = (scored, window)
    return [fit(c.text, best[i][1]) if i in best else top_window(c.text, r)
            for i, (c, r) in enumerate(zip(chunks, ranked, strict=True))]


def _contenders(chunk: Chunk, ranked: Sequence[Scored]) -> list[Scored]:
    """The best window of ``chunk`` and the runners-up that may replace it: among the next ones, within ``_CLOSE``
    of its score, at least of its asked kind, and not shown whole by the article's title."""
    if not ranked:
        return []
    best = ranked[0]
    return [best] + [w for w in ranked[1:_RUNNERS_UP] if best[0][0] - w[0][0] <= _CLOSE and w[2] >= best[2]
                     and chunk.text[w[1][0]:w[1][1]].strip() not in chunk.title]


def title_years(title: str) -> frozenset[str]:
    """The years ``title`` names, with 年, as a question's "2021年" is tokenized (none: empty)."""
    years = YEAR.findall(title)
    return frozenset([*years, "年"]) if years else frozenset()


def _refers_back(sentence: str) -> bool:
    """``sentence`` leans on the one before it: "…空难由此成为…", "他的表现…", "其中…"."""
    import jieba

    return any(word in _REFERRING for word in jieba.lcut(sentence))


def _continues(text: str, end: int, following: tuple[int, int]) -> bool:
    """A clause that ends at ``end`` on "；" is followed by one that starts leaning on it, after a condition if any
    ("…增幅近11.5万个；" + "如果不采取行动，其中的6.7万个工作岗位可能面临无人可用的风险。"): half a sentence, read with
    its other half."""
    if text[end - 1:end] not in "；;":
        return False
    import jieba

    clause = _CONDITION.sub("", text[following[0]:following[1]].lstrip(), count=1)
    words = jieba.lcut(clause[:8])
    return bool(words) and words[0] in _REFERRING


def _joins(text: str, spans: Sequence[tuple[int, int]], i: int) -> bool:
    """Sentence ``i`` can be read with the one before it: same paragraph, together within ``MAX_QUOTE_CHARS``."""
    return 0 < i < len(spans) and "\n" not in text[spans[i - 1][1]:spans[i][0]] \
        and spans[i][1] - spans[i - 1][0] <= MAX_QUOTE_CHARS


def with_measures(text: str, start: int, end: int) -> int:
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
