"""Model-written lines for case cards: a one-line summary per case, and an overview across cases.

Each summary is one short model call over **that case's quotes only** (its 做法
and 成效, numbered [1]..[n]); the overview is one call over the cases' first
quotes, numbered by case. Both go through the same checks as answers
(``rag.citations.parse_answer``): a line is kept only when it cites what it
was shown, states no number its quotes lack and leaves no claim unmarked —
otherwise the case keeps no summary (``None``) rather than an unverified one;
an overview line must cite at least two cases. Calls wait in the process-wide
generation queue (``rag.chain.generation_slots``), and summaries are cached by
(article hash, topic, model), so asking again costs nothing.

Deliberately not here: finding the cases (``rag.cases``); showing them (``ui``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from itertools import pairwise
from typing import Any

from rag.casecards import CaseCard
from rag.cases import CaseReport
from rag.citations import content_chars, parse_answer
from rag.knowledge import KnowledgeBase
from rag.text import sentence_spans

_SUMMARY_PROMPT = (
    "下面是一篇文章中关于“{topic}”的原文摘录，已编号。请只根据这些摘录，用一句话（不超过60字）概括"
    "{place}的主要做法和成效，句末标注所依据的编号，如[1][2]。不要添加摘录中没有的内容和数字。\n\n{quotes}\n\n概括："
)
_OVERVIEW_PROMPT = (
    "下面是各地关于“{topic}”的案例摘录，编号即案例编号。请只根据这些摘录，总结不超过三条各地共同的做法，"
    "每条一句话，每条末尾标注至少两个案例编号，如[1][3]。不要添加摘录中没有的内容和数字。\n\n{quotes}\n\n共同做法："
)
_CJK = re.compile(r"[\u4e00-\u9fff0-9]")
_ANY_MARK = re.compile(r"[\[［【]\s*\d")
_MIN_SHARE = 0.34
_LINE_START = re.compile(r"^\s*(?:\d+[.、)）]|[-•·])\s*")
_MAX_OVERVIEW_CASES = 8
_cache: dict[tuple[str, str, str], str | None] = {}
_cache_lock = threading.Lock()


def generate(chat_model: Any, prompt: str, settings: Any, max_tokens: int) -> str:
    from rag.chain import generation_slots

    slots = generation_slots(settings.llm_concurrency)
    if not slots.acquire(timeout=settings.llm_queue_timeout_s):
        return ""
    try:
        return str(chat_model.bind(max_tokens=max_tokens).invoke(prompt).content)
    except Exception:  # a failed call leaves the card without a summary
        return ""
    finally:
        slots.release()


def _bigrams(text: str) -> set[str]:
    chars = _CJK.findall(text)
    return {a + b for a, b in pairwise(chars)}


def _attributed(line: str, quotes: dict[int, str]) -> str:
    """``line`` with marks for the quotes it was written from, when the model gave none (small models often don't).

    A quote counts when at least a third of the line's character pairs occur in it; the number
    check of ``parse_answer`` then still holds the line to what those quotes say.
    """
    if _ANY_MARK.search(line):
        return line
    pairs = _bigrams(line)
    shares = {n: len(pairs & _bigrams(q)) / len(pairs) for n, q in quotes.items()} if pairs else {}
    cited = [n for n, share in shares.items() if share >= _MIN_SHARE]
    if not cited:
        return line
    marks = "".join(f"[{n}]" for n in cited)
    body = line.rstrip("。；;！!")
    return f"{body}{marks}{line[len(body):] or '。'}"


def checked_line(raw: str, quotes: dict[int, str], min_cited: int = 1) -> str | None:
    """The line when every claim in it is cited and supported by what was shown, else None."""
    parsed = parse_answer(_attributed(raw.strip(), quotes), quotes)
    text = parsed.text.strip()
    if parsed.flagged or len(set(parsed.cited)) < min_cited or content_chars(text) < 4:
        return None
    return text


def summarize_case(kb: KnowledgeBase, card: CaseCard, topic: str, chat_model: Any, model_label: str) -> str | None:
    """One cited sentence about ``card`` from its own quotes, or None when the model's line fails the checks."""
    doc = kb.document(card.source)
    key = (doc.sha256 if doc else card.source, topic, model_label + "|" + "、".join(card.regions))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    quotes = {i: q.quote for i, q in enumerate((*card.measures, *card.results), 1)}
    prompt = _SUMMARY_PROMPT.format(topic=topic, place=card.regions[0] if card.regions else "该地",
                                    quotes="\n".join(f"[{n}] {q}" for n, q in quotes.items()))
    raw = generate(chat_model, prompt, kb.settings, 120).strip()
    spans = sentence_spans(raw.splitlines()[0]) if raw else []
    first = raw.splitlines()[0][spans[0][0]:spans[0][1]] if spans else ""
    line = checked_line(first, quotes)
    with _cache_lock:
        _cache[key] = line
    return line


def with_summaries(kb: KnowledgeBase, report: CaseReport, chat_model: Any,
                   model_label: str) -> Iterator[tuple[int, CaseCard]]:
    """(index, card with its summary) for each case in order, as each summary is written."""
    for i, card in enumerate(report.cases):
        yield i, replace(card, summary=summarize_case(kb, card, report.topic, chat_model, model_label))


def overview(kb: KnowledgeBase, report: CaseReport, chat_model: Any) -> str | None:
    """At most three common threads, each citing two or more cases ([n] = case n); None without two cases."""
    cases = report.cases[:_MAX_OVERVIEW_CASES]
    if len(cases) < 2:
        return None
    quotes = {i: (c.measures or c.results)[0].quote for i, c in enumerate(cases, 1)}
    prompt = _OVERVIEW_PROMPT.format(topic=report.topic, quotes="\n".join(
        f"[{n}] {cases[n - 1].regions[0] if cases[n - 1].regions else ''}：{q}" for n, q in quotes.items()))
    raw = generate(chat_model, prompt, kb.settings, 240)
    lines = [checked_line(_LINE_START.sub("", line), quotes, min_cited=2) for line in raw.splitlines() if line.strip()]
    kept = [line for line in lines if line][:3]
    return "\n".join(kept) or None


def summarized(kb: KnowledgeBase, report: CaseReport, llm: str) -> CaseReport:
    """``report`` with each case's summary and the overview written by the ``llm`` model (unchanged for none)."""
    from rag.llm import make_chat_model, parse_llm
    from rag.timing import Timer

    choice = parse_llm(llm, kb.settings)
    if choice.kind == "none" or not report.cases:
        return report
    timer = Timer()
    with timer.stage("load_model"):
        chat_model = make_chat_model(choice, kb.settings)
    with timer.stage("summaries"):
        cards = tuple(card for _, card in with_summaries(kb, report, chat_model, choice.label))
    done = replace(report, cases=cards)
    with timer.stage("overview"):
        lines = overview(kb, done, chat_model)
    return replace(done, overview=lines, timings_ms={**report.timings_ms, **timer.seconds_ms()})
