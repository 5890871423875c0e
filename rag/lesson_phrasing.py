"""Talking points and discussion questions of a lesson pack phrased by a model, each line cited and checked.

``phrased(kb, pack, llm)`` asks the model for small things a 0.5B model does well
rather than one long list it does badly (measured: asked for five points over 14
quotes, it copies one quote five times):

* a talking point per case: the case's one-line summary
  (``rag.case_summaries.summarize_case``, written from that case's quotes only and
  cached), its marks renumbered to the pack's quote numbers;
* a discussion question per pair of neighbouring cases from different places,
  written from exactly those two 做法 quotes; it must end with a question mark
  and name both places, and it cites the two quotes it was written from.

Every line goes through the answer checks (``rag.case_summaries.checked_line``,
i.e. ``rag.citations.parse_answer``): kept only when it cites quotes of the pack,
states no number those quotes lack and leaves no claim unmarked. Lines that fail
are dropped and the extractive ones fill in, so a pack never holds an unchecked
line and never has fewer points than without a model; ``LessonPack.written_by``
says which parts the model wrote.

Deliberately not here: the quiz — it stays extractive (``rag.lesson``) so its
answers are always right — and choosing cases.
"""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import pairwise
from typing import Any

from rag.case_summaries import checked_line, generate, summarize_case
from rag.cases import province_of
from rag.knowledge import KnowledgeBase
from rag.lesson import MAX_POINTS, LessonPack, LessonQuote

_QUESTION_PROMPT = (
    "下面是两个地方关于“{topic}”的做法摘录。\n[{a}] {a_place}：{a_quote}\n[{b}] {b_place}：{b_quote}\n\n"
    "请出一道党课讨论题，比较{a_place}和{b_place}做法的不同，不超过50字，以问号结尾，题末标注[{a}][{b}]。\n\n讨论题："
)
_MARK = re.compile(r"\[(\d+)\]")
_PLACE_SUFFIX = re.compile(r"(?:省|市|区|县|自治区|特别行政区)$")
MIN_POINTS, MAX_QUESTIONS = 3, 3


def renumbered(summary: str, case_quotes: list[LessonQuote]) -> tuple[str, tuple[int, ...]] | None:
    """A case summary citing its own quotes [1]..[k] rewritten to cite the pack's numbers of those quotes."""
    local = {i: q.n for i, q in enumerate(case_quotes, 1)}
    marks = [int(n) for n in _MARK.findall(summary)]
    if not marks or not set(marks) <= set(local):
        return None
    text = _MARK.sub(lambda m: f"[{local[int(m.group(1))]}]", summary)
    return text, tuple(dict.fromkeys(local[n] for n in marks))


def _short(place: str) -> str:
    """The place as a question may name it: its last unit without the suffix (乐山市 -> 乐山)."""
    last = re.split(r"(?<=[省市区县])", place.strip())
    name = next((p for p in reversed(last) if p), place)
    return _PLACE_SUFFIX.sub("", name) or name


def checked_question(raw: str, a: LessonQuote, b: LessonQuote) -> str | None:
    """The model's question about quotes ``a`` and ``b`` when it asks, names both places and passes the checks."""
    line = raw.strip().splitlines()[0].strip() if raw.strip() else ""
    body = _MARK.sub("", line).strip().rstrip("。")
    if not body.endswith(("？", "?")) or not all(_short(q.place) in body for q in (a, b)):
        return None
    return checked_line(f"{body}[{a.n}][{b.n}]", {a.n: a.quote, b.n: b.quote}, min_cited=2)


def _points(kb: KnowledgeBase, pack: LessonPack, chat_model: Any, label: str) -> list[tuple[str, tuple[int, ...]]]:
    out = []
    for i, card in enumerate(pack.cases):
        summary = summarize_case(kb, card, pack.topic, chat_model, label)
        point = renumbered(summary, [q for q in pack.quotes if q.case == i]) if summary else None
        if point:
            out.append(point)
    return out[:MAX_POINTS]


def _questions(pack: LessonPack, chat_model: Any, settings: Any) -> list[str]:
    first = list({q.case: q for q in reversed([q for q in pack.quotes if q.kind == "做法"])}.values())[::-1]
    out: list[str] = []
    for a, b in pairwise(first):
        if (province_of(a.place) == province_of(b.place) and len(first) > 2) or a.place == b.place:
            continue
        prompt = _QUESTION_PROMPT.format(topic=pack.topic, a=a.n, b=b.n, a_place=a.place, b_place=b.place,
                                         a_quote=a.quote, b_quote=b.quote)
        question = checked_question(generate(chat_model, prompt, settings, 120), a, b)
        if question and question not in out:
            out.append(question)
        if len(out) == MAX_QUESTIONS:
            break
    return out


def phrase(kb: KnowledgeBase, pack: LessonPack, chat_model: Any, label: str) -> LessonPack:
    """``pack`` with the model's checked points and questions, extractive ones filling any gap."""
    points = _points(kb, pack, chat_model, label)
    questions = _questions(pack, chat_model, kb.settings)
    written: list[Any] = []
    if points:
        written.append("points")
        cited = {n for _, c in points for n in c}
        fill = [p for p in pack.points if not set(p[1]) & cited]
        points = (points + fill)[:max(MIN_POINTS, len(points))]
    if questions:
        written.append("discussion")
        questions = (questions + [q for q in pack.discussion if q not in questions])[:max(2, len(questions))]
    return replace(pack, points=tuple(points) or pack.points, discussion=tuple(questions) or pack.discussion,
                   written_by=tuple(written))


def phrased(kb: KnowledgeBase, pack: LessonPack, llm: str) -> LessonPack:
    """``pack`` phrased by the ``llm`` model (unchanged for none); see the module docstring."""
    from rag.llm import make_chat_model, parse_llm

    choice = parse_llm(llm, kb.settings)
    if choice.kind == "none" or not pack.quotes:
        return pack
    return phrase(kb, pack, make_chat_model(choice, kb.settings), choice.label)
