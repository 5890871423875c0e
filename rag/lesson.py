"""备课包 (lesson pack): a topic's cases turned into teaching material in which every fact is a checked quote.

``build_lesson(report)`` takes a ``rag.cases.CaseReport`` and chooses 3–8 cases for
variety (a case from each province first, then strength of evidence), numbers
their 做法 / 成效 quotes [1]..[n], and builds from those quotes only:

* talking points (讲解要点): the strongest 做法 quotes, one per case first, each
  labelled as a quote and citing its number;
* discussion questions (讨论题): contrasts between cases of different places,
  citing the quotes they contrast;
* a quiz (随堂测验) of 填空 / 单选 / 判断 items whose answer is a span of a quote (a
  figure such as 807名, or the organisation named); a 单选 item's wrong options
  are other cases' spans of the same unit (another place's figure), never
  invented; a 判断 item states its quote, or the quote with another case's figure
  put in (answer 错).

``check_lesson`` re-checks all of it against the article texts: every quote at
its offsets, every answer inside its quote, no wrong option inside it, every
point's and question's marks pointing at quotes of the pack. Nothing here is
written by a model (``rag.lesson_phrasing`` may rephrase points and questions);
the quiz stays extractive so its answers are always right.

Deliberately not here: writing Word, slides or Markdown (``ui.lesson_export``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from rag.casecards import CaseCard
from rag.cases import CaseReport, province_of

QuizKind = Literal["单选", "判断", "填空"]
PhrasedPart = Literal["points", "discussion"]
BLANK = "______"
_FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:余|多)?\s*(个|名|家|%|％|万|亿|人|项|次|场|户|所|条|支|栋|座|处)")
_NAMED = re.compile(r"“([^“”]{2,14})”")  # a named measure or brand: “红色向导”、“一总部五基地”
_YEAR = re.compile(r"(?:19|20)\d{2}年")
_MARK = re.compile(r"\[(\d+)\]")
MIN_CASES, MAX_CASES, MAX_POINTS, MAX_QUIZ = 3, 8, 6, 10


@dataclass(frozen=True)
class LessonQuote:
    """Quote [n] of a pack: a 做法 or 成效 sentence of one chosen case."""

    n: int
    case: int  # index into ``LessonPack.cases``
    kind: Literal["做法", "成效"]
    place: str
    source: str
    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class QuizItem:
    kind: QuizKind
    question: str
    options: tuple[str, ...]
    answer: str
    quote: str
    source: str
    start: int
    end: int
    wrong: str = ""  # for a 判断 item answered 错: the figure put in place of the quote's

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "question": self.question, "options": list(self.options), "answer": self.answer,
                "quote": self.quote, "source": self.source, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class LessonPack:
    """``rag lesson --json`` (documented in the README); ``files`` is filled in by the exporter."""

    topic: str
    cases: tuple[CaseCard, ...]
    quotes: tuple[LessonQuote, ...]
    points: tuple[tuple[str, tuple[int, ...]], ...]
    discussion: tuple[str, ...]
    quiz: tuple[QuizItem, ...]
    header: str = ""
    files: dict[str, str] = field(default_factory=dict)
    written_by: tuple[PhrasedPart, ...] = ()  # the parts a model phrased (rag.lesson_phrasing); () = all extractive

    def phrasing_note(self) -> str:
        """Who wrote the points and questions, for every output ("" when all are quotes)."""
        if not self.written_by:
            return ""
        parts = "、".join({"points": "讲解要点", "discussion": "讨论题"}[p] for p in self.written_by)
        return f"{parts}由模型归纳，每句已标注并核对出处；未通过核对的句子已换成原文。"

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "cases": [c.to_json() for c in self.cases],
                "points": [{"text": t, "cites": list(c)} for t, c in self.points],
                "discussion": list(self.discussion), "quiz": [q.to_json() for q in self.quiz],
                "written_by": list(self.written_by), "files": dict(self.files)}


def place(card: CaseCard) -> str:
    """How a case is named in questions: its place, else its organisation, else its article."""
    return card.regions[0] if card.regions else card.organisation or f"《{card.title[:20]}》一文"


def choose_cases(report: CaseReport, n: int) -> tuple[CaseCard, ...]:
    """Up to ``n`` cases (3–8): the best case of each province first, cases with both 做法 and 成效 before others."""
    n = max(MIN_CASES, min(MAX_CASES, n))
    ranked = sorted(report.cases, key=lambda c: (not (c.measures and c.results), -c.score, c.source))
    chosen: list[CaseCard] = []
    provinces: set[str] = set()
    for card in ranked:  # one per province
        province = province_of(place(card))
        if province not in provinces and len(chosen) < n:
            chosen.append(card)
            provinces.add(province)
    for card in ranked:  # then strength of evidence
        if card not in chosen and len(chosen) < n:
            chosen.append(card)
    return tuple(chosen)


def _quotes(cases: tuple[CaseCard, ...]) -> tuple[LessonQuote, ...]:
    out: list[LessonQuote] = []
    for i, card in enumerate(cases):
        for kind, quotes in (("做法", card.measures), ("成效", card.results)):
            for q in quotes:
                out.append(LessonQuote(len(out) + 1, i, kind, place(card), card.source, q.quote, q.start, q.end))
    return tuple(out)


def _points(quotes: tuple[LessonQuote, ...]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    measures = [q for q in quotes if q.kind == "做法"]
    first_per_case = list({q.case: q for q in reversed(measures)}.values())[::-1]
    picked = (first_per_case + [q for q in measures if q not in first_per_case])[:MAX_POINTS]
    if len(picked) < 3:
        picked += [q for q in quotes if q.kind == "成效" and q not in picked][: 3 - len(picked)]
    return tuple((f"（原文）{q.place}：“{q.quote}”[{q.n}]", (q.n,)) for q in picked)


def _discussion(topic: str, quotes: tuple[LessonQuote, ...]) -> tuple[str, ...]:
    first = list({q.case: q for q in reversed([q for q in quotes if q.kind == "做法"])}.values())[::-1]
    out = []
    for a, b in pairwise(first):
        if province_of(a.place) == province_of(b.place) and len(first) > 2:
            continue
        out.append(f"对比{a.place}[{a.n}]和{b.place}[{b.n}]的做法：两地推进{topic}时各自抓住了哪些关键环节？"
                   "哪些做法适合本单位借鉴？")
        if len(out) == 3:
            break
    result = next((q for q in quotes if q.kind == "成效" and _FIGURE.search(q.quote)), None)
    if result is not None:
        out.append(f"{result.place}的成效[{result.n}]是靠哪些具体措施取得的？如果在本地推行，需要哪些条件？")
    return tuple(out[:4])


def _spans(quote: LessonQuote) -> list[tuple[str, str]]:
    """(span, kind) of what a quiz may ask about in a quote: figures by unit ("807名", "名"), years, named measures."""
    figures = [(m.group(), m.group(2)) for m in _FIGURE.finditer(quote.quote)]
    years = [(m.group(), "年份") for m in _YEAR.finditer(quote.quote)]
    names = [(m.group(1), "名称") for m in _NAMED.finditer(quote.quote)]
    return figures + names + years


def _quiz(quotes: tuple[LessonQuote, ...], cases: tuple[CaseCard, ...]) -> tuple[QuizItem, ...]:
    by_unit: dict[str, list[tuple[str, LessonQuote]]] = {}
    for q in quotes:
        for span, unit in _spans(q):
            by_unit.setdefault(unit, []).append((span, q))
    candidates = []  # (quote, answer span, other cases' spans of the same unit absent from the quote)
    for q in quotes:
        for span, unit in _spans(q)[:2]:
            others = dict.fromkeys(s for s, other in by_unit[unit] if other.case != q.case and s not in q.quote)
            candidates.append((q, span, list(others)))
    for i, card in enumerate(cases):  # names: the organisation a case's quote names
        q = next((x for x in quotes if x.case == i and card.organisation and card.organisation in x.quote), None)
        if q is not None and card.organisation:
            candidates.append((q, card.organisation, []))
    candidates.sort(key=lambda c: (len(c[2]) < 2, c[0].n))  # items that can have wrong options first
    items: list[QuizItem] = []
    used: set[int] = set()
    cycle: tuple[QuizKind, ...] = ("单选", "判断", "填空")
    for q, span, others in candidates:
        if q.n in used or len(items) >= MAX_QUIZ:
            continue
        wanted = cycle[len(items) % 3]
        kind = wanted if wanted != "单选" or len(others) >= 2 else ("判断" if len(items) % 2 else "填空")
        items.append(_item(kind, q, span, others))
        used.add(q.n)
    return tuple(items)


def _item(kind: QuizKind, q: LessonQuote, span: str, others: list[str]) -> QuizItem:
    blanked = q.quote.replace(span, BLANK, 1)
    if kind == "填空":
        return QuizItem("填空", f"根据{q.place}的案例填空：{blanked}", (), span, q.quote, q.source, q.start, q.end)
    if kind == "单选":
        options = tuple(sorted({span, *others[:3]}, key=_numeric))
        return QuizItem("单选", f"根据{q.place}的案例，横线处应为哪一项？{blanked}", options, span, q.quote, q.source,
                        q.start, q.end)
    if others and q.n % 2 == 0:  # every other 判断 item puts another case's figure in: answer 错
        wrong = others[0]
        statement = q.quote.replace(span, wrong, 1)
        return QuizItem("判断", f"判断对错：{q.place}的案例中，“{statement}”", ("对", "错"), "错", q.quote, q.source,
                        q.start, q.end, wrong)
    return QuizItem("判断", f"判断对错：{q.place}的案例中，“{q.quote}”", ("对", "错"), "对", q.quote, q.source, q.start,
                    q.end)


def _numeric(span: str) -> float:
    match = re.match(r"\d+(?:\.\d+)?", span)
    return float(match.group()) if match else 0.0


def build_lesson(report: CaseReport, cases: int = 5) -> LessonPack:
    """The extractive lesson pack of a topic's case report (see the module docstring)."""
    chosen = choose_cases(report, cases)
    quotes = _quotes(chosen)
    return LessonPack(report.topic, chosen, quotes, _points(quotes), _discussion(report.topic, quotes),
                      _quiz(quotes, chosen), header=report.header())


def check_lesson(pack: LessonPack, text_of: Callable[[str], str | None]) -> list[str]:
    """Every problem found (empty when the pack holds): quotes at their offsets, answers in them, marks valid."""
    problems = []
    numbers = {q.n for q in pack.quotes}
    for q in pack.quotes:
        if (text_of(q.source) or "")[q.start:q.end] != q.quote:
            problems.append(f"quote [{q.n}] is not {q.source}[{q.start}:{q.end}]")
    for text in [t for t, _ in pack.points] + list(pack.discussion):
        cited = {int(n) for n in _MARK.findall(text)}
        if not cited or not cited <= numbers:
            problems.append(f"cites nothing of the pack: {text[:40]}")
    for item in pack.quiz:
        if (text_of(item.source) or "")[item.start:item.end] != item.quote:
            problems.append(f"quiz quote is not its source's text: {item.question[:30]}")
        if item.kind == "判断":
            stated = item.question.split("“", 1)[-1].rsplit("”", 1)[0]
            if (item.answer == "对") != (stated == item.quote) or (item.wrong and item.wrong in item.quote):
                problems.append(f"判断 not proved by its quote: {item.question[:30]}")
        elif item.answer not in item.quote or any(o in item.quote for o in item.options if o != item.answer):
            problems.append(f"answer or option wrong: {item.question[:30]}")
        elif item.kind == "单选" and item.answer not in item.options:
            problems.append(f"answer not among the options: {item.question[:30]}")
    return problems
