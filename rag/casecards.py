"""How one article becomes case cards: the topic's pattern, its sentences, 做法 and 成效, one card per place.

* ``Topic``: a topic phrase and the pattern of its variants, found in the articles
  themselves rather than listed by hand. A topic with a Party word (楼宇党建,
  党建指导员) matches its distinctive part next to any Party word within a few
  characters (楼宇党委, 商务楼宇党组织, 党建工作指导员); a topic without one
  (红色物业) matches its words in order with at most two characters between.
* ``cards_of(doc, topic)``: the sentences that match, the 做法 near them (measure
  words: 建立、推行、选派、打造…) and the 成效 (sentences with figures — 覆盖 40 余家,
  807 名 — or outcome words), each a verbatim ``Quote`` with offsets. A roundup
  article whose topic sentences name different cities becomes one card per city.

Deliberately not here: ranking and counting cards (``rag.cases``), any model call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rag.keyword import words as split_words
from rag.regions import load_gazetteer
from rag.text import sentence_spans
from rag.types import Document

_PARTY = "党建|党委|党组织|党支部|党工委|党总支|党员"
_PARTY_IN_TOPIC = re.compile(_PARTY)
_ORGANS = "党委|党组织|党支部|党工委|党总支"
# which Party words a topic's own Party word may be written as: 党建 → any body; a body → a body; 党员 → 党员
_FAMILY = {"党建": f"党建|{_ORGANS}", **dict.fromkeys(_ORGANS.split("|"), _ORGANS)}
_GAP = "(?:(?![的将在由和与了是为对把有等及向从让被党])[\u4e00-\u9fff]){0,3}?"  # 党建[工作]指导员, 商务楼宇党组织
_MEASURE = re.compile(r"建立|推行|实施|打造|开展|选派|设立|探索|创新|推动|组建|成立|构建|搭建|健全|完善|落实|"
                      r"实行|推进|整合|引导|吸纳|聘请|举办|(?<!党)组织(?!部)|选聘|配备|邀请|提供|做好|调配|观看|颁发|联动|"
                      r"刷新|划分")
_SAID = re.compile(r"(?:说|表示|介绍|谈道|感慨)[。！!]?[”\"]?$")  # who said a quote: not itself a measure
_FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:余|多)?\s*(?:个|名|家|%|％|万|亿|人|项|次|场|户|所|条|支|栋|座|处)")
_RESULT = re.compile(r"实现|覆盖|累计|增长|提升|提高|达到|解决|惠及|带动|增加|形成|成功|截至|以来|超过|总人数|认识到")
_EXHORTATION = re.compile(r"^(?:要|必须|应当|应该|务必)")
_SPEAKER = re.compile(r"^[^，,。]{1,16}(?:强调|表示|指出|认为|获悉)")
_OUTCOME = re.compile(r"截至|以来|成功|越来越多|总人数|解决了|形成了|实现了|覆盖[^，。]{0,8}\d|累计|增长")
_ORGANISATION = re.compile(
    r"[\u4e00-\u9fff]{2,20}?(?:街道党工委|党工委|集团党委|公司党委|党委|党总支|党支部)(?!书记|委员)")
_NOT_IN_NAME = re.compile(r"[的将在由和与了是为对把有等及向从让被]")
SentenceKind = Literal["做法", "成效", "背景"]
MAX_MEASURES, MAX_RESULTS = 3, 2
_MIN_CHARS = 16


@dataclass(frozen=True)
class Quote:
    """A verbatim span ``[start, end)`` of an article's cleaned text."""

    quote: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"quote": self.quote, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class CaseCard:
    source: str
    title: str
    regions: tuple[str, ...]
    organisation: str | None
    date: str | None
    outlet: str | None
    score: float
    measures: tuple[Quote, ...]
    results: tuple[Quote, ...]
    summary: str | None = None
    mentions: tuple[str, ...] = ()  # the topic's variants as this article writes them

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "title": self.title, "regions": list(self.regions),
                "organisation": self.organisation, "date": self.date, "outlet": self.outlet,
                "score": round(self.score, 4), "measures": [q.to_json() for q in self.measures],
                "results": [q.to_json() for q in self.results], "summary": self.summary}


@dataclass(frozen=True)
class Topic:
    phrase: str
    pattern: re.Pattern[str]
    anchor: str  # a literal every match contains (to preselect articles)


def topic(phrase: str) -> Topic:
    """The pattern of ``phrase`` and its variants (see the module docstring)."""
    party = _PARTY_IN_TOPIC.search(phrase)
    if party is not None:
        before, after = phrase[: party.start()], phrase[party.end():]
        if not before and not after:
            return Topic(phrase, re.compile(re.escape(phrase)), phrase)
        family = _FAMILY.get(party.group(), party.group())
        parts = ([re.escape(before), _GAP] if before else []) + [f"(?:{family})"] + \
            ([_GAP, re.escape(after)] if after else [])
        return Topic(phrase, re.compile("".join(parts)), max(before, after, key=len))
    words = split_words(phrase)
    if len(words) < 2:
        return Topic(phrase, re.compile(re.escape(phrase)), phrase)
    pattern = "[\u4e00-\u9fff]{0,2}?".join(re.escape(w) for w in words)
    return Topic(phrase, re.compile(pattern), max(words, key=len))


def classify(sentence: str) -> SentenceKind:
    """做法 (a measure), 成效 (an outcome) or 背景 (anything else: scene, quote, lead, exhortation).

    An outcome states a result word with a figure (覆盖 40 余家, 解决问题 192 个, 超 3.8 万) or a
    result word alone; a measure has a measure word; quotes, attributions and sentences
    of exhortation (要…、必须…) are background.
    """
    s = sentence.strip()
    if (s.startswith(("“", "\"", "「")) or _SAID.search(s) or _EXHORTATION.match(s) or len(s) < _MIN_CHARS
            or _SPEAKER.match(s) or "正文：" in s or not s.endswith(("。", "！", "；", "!", ";"))):
        return "背景"
    figure, measure = bool(_FIGURE.search(s)), bool(_MEASURE.search(s))
    if _OUTCOME.search(s) or (_RESULT.search(s) and figure):
        return "成效"
    return "做法" if measure else "背景"


def organisation_in(sentence: str) -> str | None:
    """The Party organisation a sentence names ("某某街道党工委", "某某集团党委"), or None."""
    for match in _ORGANISATION.finditer(sentence):
        name = _NOT_IN_NAME.split(match.group())[-1]
        if len(name) >= 5:
            return name
    return None


def _pick(text: str, spans: Sequence[tuple[int, int]], about: list[int], kind: SentenceKind, limit: int,
          exclude: set[int]) -> list[int]:
    """Up to ``limit`` sentences of ``kind``: those about the topic first, then their neighbours, with figures first."""
    near = {j for i in about for j in (i - 1, i, i + 1) if 0 <= j < len(spans)}
    scored = []
    for i in near - exclude:
        sentence = text[spans[i][0]:spans[i][1]]
        if classify(sentence) != kind:
            continue
        scored.append((-(i in about) - bool(_FIGURE.search(sentence)), i))
    return sorted(i for _, i in sorted(scored)[:limit])


def _city(full_name: str) -> str:
    """The city-level place a region belongs to (四川省乐山市沙湾区 → 四川省乐山市), for grouping."""
    gazetteer = load_gazetteer()
    code = gazetteer.by_full_name.get(full_name)
    if code is None:
        return full_name
    chain = [c for c in (*gazetteer.by_code[code].parent_codes, code) if c in gazetteer.by_code]
    keep = [c for c in chain if gazetteer.by_code[c].level <= 1]
    return gazetteer.full_name(keep[-1]) if keep else full_name


def _places(text: str, spans: Sequence[tuple[int, int]], about: list[int]) -> dict[int, str]:
    """The city each topic sentence is about: the one it names, else the last one named before it in its paragraph."""
    gazetteer = load_gazetteer()
    out: dict[int, str] = {}
    for i in about:
        s, e = spans[i]
        named = {_city(full) for _, full in gazetteer.places(text[s:e])}
        if len(named) == 1:
            out[i] = named.pop()
        elif not named:
            paragraph_start = text.rfind("\n", 0, s) + 1
            earlier = gazetteer.places(text[paragraph_start:s])
            if earlier:
                out[i] = _city(earlier[-1][1])
    return out


def cards_of(doc: Document, topic_: Topic) -> list[CaseCard]:
    """The case cards of one article: none when it does not mention the topic, one per city in a roundup."""
    text = doc.text
    spans = sentence_spans(text)
    about = [i for i, (s, e) in enumerate(spans) if topic_.pattern.search(text, s, e)]
    if not about:
        return []
    mentions = tuple(dict.fromkeys(m.group() for s, e in (spans[i] for i in about)
                                   for m in topic_.pattern.finditer(text, s, e)))
    in_title = bool(topic_.pattern.search(doc.title))
    share = len(about) / max(1, len(spans))
    places = _places(text, spans, about) if len({_city(r) for r in doc.regions}) > 1 else {}
    groups: dict[str, list[int]] = {}
    for i in about:
        groups.setdefault(places.get(i, ""), []).append(i)
    named = [g for g in groups if g]
    if len(named) < 2:  # one place (or none told apart): the article is one case, of that place when it is known
        groups = {named[0] if named else "": about}
    cards = []
    for place, indexes in groups.items():
        cards.append(_card(doc, text, spans, indexes, share, in_title, mentions, (place,) if place else doc.regions))
    return cards


def _card(doc: Document, text: str, spans: Sequence[tuple[int, int]], about: list[int], share: float,
          in_title: bool, mentions: tuple[str, ...], regions: tuple[str, ...]) -> CaseCard:
    results = _pick(text, spans, about, "成效", MAX_RESULTS, set())
    measures = _pick(text, spans, about, "做法", MAX_MEASURES, set(results))
    if not measures and not results:
        measures = about[:1]  # the article names the topic without a measure word: quote where it does
    organisation = next((o for i in about if (o := organisation_in(text[spans[i][0]:spans[i][1]]))), None)
    score = min(1.0, 0.5 * in_title + min(0.5, share * 2) + 0.05 * min(len(about), 6))

    def quotes(indexes: list[int]) -> tuple[Quote, ...]:
        return tuple(Quote(text[spans[i][0]:spans[i][1]], spans[i][0], spans[i][1]) for i in indexes)

    return CaseCard(doc.source, doc.title, regions, organisation, doc.date or None, doc.outlet or None,
                    round(score, 4), quotes(measures), quotes(results), mentions=mentions)
