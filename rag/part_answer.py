"""A multi-part question's evidence and answer check: each part retrieved alone, each part answered.

``split_evidence`` searches every part of a question (``rag.parts``) on its own and merges
the parts' quotes (``rag.evidence.select_part_evidence``); a part is answerable when the
articles cover its place and its best quote is not weak. ``mark_parts`` gives an
unmarked sentence of the model's answer the mark of the part it is about (the 1.5B
answered "乐山：807名党建指导员" without marks), only when the sentence names that part
alone and its figures (or most of its words) are in the quote; ``complete_parts`` adds to a
model's answer each part it left out: the part's best quote, or 资料中没有找到 for a part
the articles do not answer.

Deliberately not here: splitting the question (``rag.parts``), the model call (``rag.chain``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.citations import has_mark, number_strings
from rag.compose import missing_part_text, part_topic
from rag.evidence import PartEvidence, select_part_evidence
from rag.keyword import tokenize
from rag.knowledge import KnowledgeBase
from rag.parts import distinct_words, part_words
from rag.refusal import is_weak, missing_regions
from rag.retrieval import search
from rag.text import sentence_spans
from rag.types import Answer, Citation, SearchHit, SearchResult

_END = "。！？!?；;"


@dataclass(frozen=True)
class PartSplit:
    """A multi-part question's evidence (``rag.parts``): per part its quotes and whether it is answerable."""

    parts: tuple[str, ...]
    found: PartEvidence
    answered: tuple[bool, ...]


def split_evidence(kb: KnowledgeBase, parts: tuple[str, ...], k: int | None, region: str | None,
                    sources: Sequence[str] | None) -> tuple[PartSplit, list[SearchHit]]:
    """Retrieve each part on its own; a part is answerable when its place is covered and its evidence is not weak."""
    settings = kb.settings
    results: list[SearchResult] = [search(kb, part, k, region, sources) for part in parts]
    found = select_part_evidence(kb, parts, results, settings.evidence_k)
    answered = tuple(not is_weak(best, settings.relevance_threshold) and not missing_regions(kb, part, sources)
                     for part, best in zip(parts, found.best, strict=True))
    hits = list({h.chunk.chunk_id: h for result in results for h in result}.values())
    return PartSplit(parts, found, answered), hits


def complete_parts(answer: Answer, split: PartSplit) -> Answer:
    """Add, after the model's text, each part it left unanswered: the part's best quote, or 资料中没有找到."""
    by_n = {c.n: c for c in answer.evidence}
    cited = {c.n for c in answer.citations}
    added: list[str] = []
    extra: list[Citation] = []
    for part, numbers, answered in zip(split.parts, split.found.numbers, split.answered, strict=True):
        if not answered:
            added.append(missing_part_text(part))
        elif not cited & set(numbers):
            c = by_n[numbers[0]]
            added.append(f"关于“{part_topic(part)}”，原文：{c.quote}[{c.n}]")
            extra.append(c)
    if not added:
        return answer
    citations = tuple(sorted({*answer.citations, *extra}, key=lambda c: c.n))
    notice = "模型的回答缺少问题的部分内容，已补上原文摘录。" if extra else answer.notice
    return replace(answer, text=answer.text.rstrip() + "\n" + "\n".join(added), citations=citations,
                   notice=notice, fallback="missing_parts" if extra else answer.fallback)


def mark_parts(raw: str, split: PartSplit, evidence: Sequence[Citation]) -> str:
    """``raw`` with each unmarked sentence about exactly one part marked with the part's quote that supports it."""
    words = part_words(split.parts)
    own = [distinct_words(words, i) for i in range(len(words))]
    by_n = {c.n: c for c in evidence}
    pieces, last = [], 0
    for start, end in sentence_spans(raw):
        sentence = raw[start:end]
        pieces.append(raw[last:start])
        last = end
        said = set(tokenize(sentence))
        about = [i for i, w in enumerate(own) if w and said & w]
        if has_mark(sentence) or len(about) != 1:
            pieces.append(sentence)
            continue
        quote = _supporting(sentence, [by_n[n] for n in split.found.numbers[about[0]] if n in by_n])
        if quote is None:
            pieces.append(sentence)
            continue
        body = sentence.rstrip(_END)
        pieces.append(f"{body}[{quote.n}]{sentence[len(body):]}")
    pieces.append(raw[last:])
    return "".join(pieces)


def _supporting(sentence: str, quotes: Sequence[Citation]) -> Citation | None:
    """The first quote holding every figure of ``sentence`` (or, without figures, most of its words)."""
    figures = number_strings(sentence)
    tokens = set(tokenize(sentence))
    for c in quotes:
        if figures and figures <= number_strings(c.quote):
            return c
        if not figures and tokens and len(tokens & set(tokenize(c.quote))) >= 0.6 * len(tokens):
            return c
    return None
