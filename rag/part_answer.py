"""A multi-part question's evidence and answer check: each part retrieved alone, each part answered.

``split_evidence`` searches every part of a question (``rag.parts``) on its own and merges
the parts' quotes (``rag.evidence.select_part_evidence``); a part is answerable when the
articles cover its place and its best quote is not weak. The model answers each part
on its own (``rag.chain``); ``join_part_answers`` puts those answers together, giving an
unmarked sentence its part's mark only when its figures (or most of its words) are in
the part's quote and leaving out an answer that speaks of another part ("…男子500米金牌" for
the 女子 part) or rests only on quotes another part's answer cites that do not speak of this
one, and ``complete_parts`` adds each part the model left out or refused — also when another
part's answer cites a quote the two share: the part's quotes that speak of it, those of no
other part first (``speaking_of_part``), or 资料中没有找到 for a part the articles do not answer.

Deliberately not here: splitting the question (``rag.parts``), the model call (``rag.chain``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.abbreviations import held_words
from rag.citations import (
    figures,
    has_mark,
    mark_numbers,
    number_strings,
    only_restates,
    parse_answer,
    shown_marks_only,
    states_something,
    without_marks,
)
from rag.compose import missing_part_text, part_topic
from rag.evidence import PartEvidence, select_part_evidence
from rag.intent import lacks_asked_kind
from rag.keyword import tokenize
from rag.knowledge import KnowledgeBase
from rag.parts import distinct_words, own_and_other_words, part_words
from rag.refusal import is_refusal, is_weak, missing_regions
from rag.retrieval import search
from rag.support import PART_QUOTE, strip_support
from rag.text import sentence_spans
from rag.types import Answer, Citation, SearchHit, SearchResult
from rag.windows import YEAR

_END = "。！？!?；;"
_TITLE = re.compile(r"《[^《》]{1,40}》")


@dataclass(frozen=True)
class PartSplit:
    """A multi-part question's evidence (``rag.parts``): per part its quotes and whether it is answerable."""

    parts: tuple[str, ...]
    found: PartEvidence
    answered: tuple[bool, ...]
    left_out: frozenset[int] = frozenset()  # parts whose model answer was refused or about another part


def split_evidence(kb: KnowledgeBase, parts: tuple[str, ...], k: int | None, region: str | None,
                    sources: Sequence[str] | None) -> tuple[PartSplit, list[SearchHit]]:
    """Retrieve each part on its own; a part is answerable when its place is covered and its evidence is not weak."""
    settings = kb.settings
    results: list[SearchResult] = [search(kb, part, k, region, sources, place_extra=True) for part in parts]
    found = select_part_evidence(kb, parts, results, settings.evidence_k)
    answered = tuple(not is_weak(best, settings.relevance_threshold) and not missing_regions(kb, part, sources)
                     for part, best in zip(parts, found.best, strict=True))
    hits = list({h.chunk.chunk_id: h for result in results for h in result}.values())
    return PartSplit(parts, found, answered), hits


def complete_parts(answer: Answer, split: PartSplit) -> Answer:
    """Add, after the model's text, each part it left unanswered (``split.left_out``, or none of the part's
    quotes cited): the part's quotes that speak of it (``speaking_of_part``), or 资料中没有找到."""
    by_n = {c.n: c for c in answer.evidence}
    cited = {c.n for c in answer.citations}
    words = part_words(split.parts)
    added: list[str] = []
    extra: list[Citation] = []
    for i, (part, numbers, answered) in enumerate(zip(split.parts, split.found.numbers, split.answered, strict=True)):
        if not answered:
            added.append(missing_part_text(part))
        elif i in split.left_out or not cited & set(numbers):  # a quote another part's answer cites is not enough
            shown = speaking_of_part([by_n[n] for n in numbers], words, i)
            added.append(PART_QUOTE.format(topic=part_topic(part)) + "".join(f"{c.quote}[{c.n}]" for c in shown))
            extra.extend(shown)
    if not added:
        return answer
    citations = tuple(sorted({*answer.citations, *extra}, key=lambda c: c.n))
    notice = "模型的回答缺少问题的部分内容，已补上原文摘录。" if extra else answer.notice
    return replace(answer, text=answer.text.rstrip() + "\n" + "\n".join(added), citations=citations,
                   notice=notice, fallback="missing_parts" if extra else answer.fallback)


def speaking_of_part(quotes: Sequence[Citation], words: Sequence[set[str]], i: int) -> list[Citation]:
    """The quotes a left-out part is completed with: every one of its quotes that speaks of it, those of it alone
    first (``own_first``'s order), or its first quote when none does. The quotes answer shows all of a part's
    quotes; one alone lost the answer when it was not the one that states it (RGB "2022年英伟达全年营收": the
    first quote gave a quarter's revenue, the third the year's)."""
    ranked = _ranked(quotes, words, i)
    return [c for rank, c in ranked if rank < _SPEAKS_OF_NEITHER] or [c for _, c in ranked[:1]]


def own_first(quotes: Sequence[Citation], words: Sequence[set[str]], i: int) -> list[Citation]:
    """Part ``i``'s quotes, those that speak of it and of no other part first ("布林肯于6月18日至19日访华"
    for the 布林肯 part before "耶伦于7月6日至9日访华…是布林肯访华时间的两倍"), then those that speak of it,
    each group in its own order."""
    return [c for _, c in _ranked(quotes, words, i)]


_SPEAKS_OF_NEITHER = 2


def _ranked(quotes: Sequence[Citation], words: Sequence[set[str]], i: int) -> list[tuple[int, Citation]]:
    """Part ``i``'s quotes with their rank, best first (stable): 0 speaks of it alone, 1 of it and another
    part, 2 (``_SPEAKS_OF_NEITHER``) of neither. Each quote (with its title) is read once."""
    own, other = own_and_other_words(words, i)

    def rank(c: Citation) -> int:
        read = held_words(f"{c.title} {c.quote}")
        return 0 if read & own and not read & other else 1 if read & own else _SPEAKS_OF_NEITHER
    return sorted(((rank(c), c) for c in quotes), key=lambda pair: pair[0])


def join_part_answers(texts: Sequence[str], quotes: Sequence[Sequence[Citation]],
                      parts: Sequence[str]) -> tuple[str, frozenset[int]]:
    """The model's answers to the parts, one per line, each unmarked sentence marked with its part's quote,
    and the parts left out. A part's answer keeps only marks to the quotes shown with that part: "[1][2]" where
    [2] is another part's quote (the 1.5B's habit) is "[1]"; a sentence left without a mark is marked as if unmarked.

    A part the model refused, answered with nothing but marks ("[5]" for "2022年超级碗冠军是谁") or its own
    question's words ("2023年温网男单冠军[1]"),
    answered about another part or with the very sentence kept for another part ("《长津湖之水门桥》…领跑春节档"
    for both 2022 and 2023) or with its figure or 《title》 from the same quotes (``_another_parts_answer``),
    or answered only with figures its quotes do not state ("布林肯访华时间：6月19日" where the quote says
    "6月18日至19日") or people they do not name, or with no date or figure where one was asked
    ("流浪地球2在俄罗斯的上映时间" answered "流浪地球二上映俄罗斯[5]") is left out (``complete_parts`` then adds
    its own quote). When every part is left out, the first refusal
    stands for the whole answer; with none refused the text is empty (no line of the model answers
    a part: the chain gives the quotes).
    """
    words = part_words(parts)
    kept, left_out = [], set()
    said: set[str] = set()  # the kept answers without their marks: one sentence answers one part
    answered: list[tuple[set[int], set[str]]] = []  # per kept answer, the quotes it cites and what it states
    for i, (text, part_quotes) in enumerate(zip(texts, quotes, strict=True)):
        marked = mark_part(shown_marks_only(text, {c.n for c in part_quotes}), part_quotes).strip()
        plain = without_marks(marked).strip(_END + "，, ")
        if (is_refusal(text) or not states_something(text, parts[i]) or only_restates(text, parts[i])
                or lacks_asked_kind(without_marks(text), parts[i]) or plain in said
                or _about_another_part(marked, part_quotes, words, i)
                or _another_parts_answer(marked, part_quotes, answered, words, i)
                or parse_answer(marked, {c.n: c.quote for c in part_quotes}, parts[i],
                                {c.n: c.title for c in part_quotes}).only_unsupported):
            left_out.add(i)
        else:
            kept.append(marked)
            said.add(plain)
            answered.append((mark_numbers(marked), _stated(marked)))
    if kept:
        return "\n".join(kept), frozenset(left_out)
    return next((text for text in texts if is_refusal(text)), ""), frozenset(left_out)


def _another_parts_answer(text: str, quotes: Sequence[Citation], answered: Sequence[tuple[set[int], set[str]]],
                          words: Sequence[set[str]], i: int) -> bool:
    """The answer to part ``i`` is another part's answer again: it states a figure or 《title》 that answer states,
    citing only quotes that answer cites, and they (with their titles) do not say what tells part ``i`` apart. The
    1.5B answered "2023年春节档票房冠军" with "《长津湖之水门桥》…[1]" as it had the 2022 part, from a quote naming
    neither year. A quote that names both parts ("乐山选派807名，自贡选派72名") may answer both; so
    may one quote two attributes ("…11月15日至16日在…巴厘省努沙杜瓦举行" for the time and the place), each
    answer stating something else."""
    own, marks = distinct_words(words, i), mark_numbers(text)
    if not own or not marks:
        return False
    stated = _stated(text)
    if not any(marks <= cited and stated & said for cited, said in answered):
        return False
    return not _cited_words(quotes, marks) & own


def _stated(text: str) -> set[str]:
    """The figures (not years) and 《titles》 an answer states itself, its copied 原文 left aside. Not names: jieba
    reads places as names too ("巴厘省努沙杜瓦")."""
    plain = without_marks(strip_support(text))
    return {f for f in figures(plain) if not YEAR.fullmatch(f)} | set(_TITLE.findall(plain))


def _about_another_part(text: str, quotes: Sequence[Citation], words: Sequence[set[str]], i: int) -> bool:
    """The answer to part ``i`` speaks of what tells another part apart and not of its own: "武大靖…男子500米金牌"
    for the 女子 part. Read in the answer, else in the quotes it cites (with their titles)."""
    own, other = own_and_other_words(words, i)
    if not own or not other:
        return False
    said = held_words(strip_support(text))
    if said & own or said & other:
        return not said & own
    read = _cited_words(quotes, mark_numbers(text))
    return bool(read & other) and not read & own


def _cited_words(quotes: Sequence[Citation], marks: set[int]) -> set[str]:
    """The words of the ``quotes`` numbered in ``marks``, with their titles."""
    return held_words(" ".join(c.title + c.quote for c in quotes if c.n in marks))


def mark_part(text: str, quotes: Sequence[Citation]) -> str:
    """``text`` with each unmarked sentence marked with the first of ``quotes`` that supports it, and each
    sentence marked with a quote that lacks its figures re-marked with the quotes that state them.

    The 1.5B answered "乐山：807名党建指导员" without marks, and "2023年3月14日[1]" for the GPT4
    part citing the ChatGPT quote it was also shown; a sentence whose figures (or most of its
    words) are not in any of its part's quotes keeps what it had, and is flagged later.
    """
    pieces, last = [], 0
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        pieces.append(text[last:start])
        last = end
        support = _supporting(sentence, quotes) if not has_mark(sentence) else _remarked(sentence, quotes)
        if not support:
            pieces.append(sentence)
            continue
        sentence = without_marks(sentence)
        body = sentence.rstrip(_END)
        pieces.append(body + "".join(f"[{c.n}]" for c in support) + sentence[len(body):])
    pieces.append(text[last:])
    return "".join(pieces)


def _remarked(sentence: str, quotes: Sequence[Citation]) -> tuple[Citation, ...]:
    """For a sentence whose marked quotes lack one of its figures: the quotes that state them all and hold
    as many of its words as the marked ones, or (). "山东省：657000人[3]" is not moved to 广东's quote that
    states 657000: the claim is wrong, not its mark, and stays flagged."""
    wanted = figures(sentence)
    marked = [c for c in quotes if c.n in mark_numbers(sentence)]
    if not wanted or not wanted - {f for c in marked for f in figures(c.quote)}:
        return ()
    support = _supporting(sentence, quotes)
    if not wanted <= {f for c in support for f in figures(c.quote)}:
        return ()
    words = {t for t in tokenize(without_marks(sentence)) if not t.isdigit()}

    def held(cs: Sequence[Citation]) -> int:
        return len(words & set(tokenize(" ".join(f"{c.title} {c.quote}" for c in cs))))
    return support if held(support) >= max(held(marked), 1) else ()


def _supporting(sentence: str, quotes: Sequence[Citation]) -> tuple[Citation, ...]:
    """The quotes holding every figure of ``sentence`` (the first that holds them all, else the fewest that
    do together: "乐山12个红色驿站，自贡23个…"), or, without figures, the first holding most of its words."""
    figures = number_strings(sentence)
    if not figures:
        tokens = set(tokenize(sentence))
        for c in quotes:
            if tokens and len(tokens & set(tokenize(c.quote))) >= 0.6 * len(tokens):
                return (c,)
        return ()
    held = [(c, figures & number_strings(c.quote)) for c in quotes]
    chosen: list[Citation] = []
    left = set(figures)
    while left:
        best, covered = max(held, key=lambda pair: len(pair[1] & left), default=(None, set()))
        if best is None or not covered & left:
            return ()  # a figure no quote holds: leave the sentence unmarked (it is flagged)
        chosen.append(best)
        left -= covered
    return tuple(sorted(chosen, key=lambda c: c.n))
