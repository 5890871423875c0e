"""Case comparison (案例对比): every article about a topic as case cards, by place, 做法 and 成效 quoted.

``find_cases(kb, "其他地方是怎么做楼宇党建的？")`` takes the topic out of the
question and looks at **every** stored article that contains the topic's
anchor word, not the top k chunks: each article whose sentences match the
topic or one of its variants (``rag.casecards.topic``) gives one case card, or
one per city for a roundup article. Cards are ordered by how much the article
is about the topic (in its title, share of its sentences); the report counts
cases per province and names the variants the articles use. Every quote is
checked against the stored text before the report is returned.

Deliberately not here: model-written summaries and the overview (``summary``
and ``overview`` stay None: cards are extractive), the UI table and exports.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rag.casecards import CaseCard, Quote, cards_of, topic
from rag.errors import RagError
from rag.keyword import words
from rag.knowledge import KnowledgeBase
from rag.regions import load_gazetteer
from rag.retrieval import region_tag
from rag.timing import Timer
from rag.types import Document

__all__ = ["CaseCard", "CaseReport", "Quote", "cases_in", "check_quotes", "find_cases", "province_of", "topic_of"]

# words that frame a cross-place question rather than name its topic
_FRAME = frozenset(
    "其他 其它 别的 地方 地区 各地 各个 各 多地 不同 是 怎么 怎样 如何 怎么样 为什么 做 做好 做了 的 了 有 哪些 什么 "
    "做法 经验 案例 举措 措施 方面 在 呢 吗 啊 都 又 还 请问 介绍 一下 我们 他们 可以 能 要 该 是否".split()
)
_LEADING = frozenset("管理 发展 落实 推行 开展 建立 选派 打造 建设 推进 实施 加强 做 搞 抓 创新 探索 组织 培育 "
                     "建 建了 建成 建起 设立 成立 搭建".split())
_TRAILING = frozenset("建设 工作 开展 起来 建起来 情况 问题 管理".split())
_PROVINCE = re.compile(r"^(北京市|天津市|上海市|重庆市|.+?(?:省|自治区|特别行政区))")
_SHORT = re.compile(r"(壮族|回族|维吾尔)?(?:省|市|自治区|特别行政区)$")
NO_REGION = "未注明地区"
MAX_VARIANTS = 6


@dataclass(frozen=True)
class CaseReport:
    """``rag cases --json`` (documented in the README)."""

    question: str
    topic: str
    topic_terms: tuple[str, ...]
    cases: tuple[CaseCard, ...]
    by_region: tuple[tuple[str, int], ...]
    overview: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def matched(self) -> int:
        return len(self.cases)

    def header(self) -> str:
        """"资料中共有 N 篇文章涉及楼宇党建，分布在 M 个省（区、市）：山东 3、四川 2"."""
        if not self.cases:
            return f"资料中没有找到涉及{self.topic}的文章。"
        articles = len({c.source for c in self.cases})
        places = "、".join(f"{region} {n}" for region, n in self.by_region)
        provinces = sum(1 for region, _ in self.by_region if region != NO_REGION)
        split = f"（共 {self.matched} 个案例）" if self.matched != articles else ""
        return f"资料中共有 {articles} 篇文章涉及{self.topic}{split}，分布在 {provinces} 个省（区、市）：{places}。"

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "topic_terms": list(self.topic_terms), "matched": self.matched,
                "by_region": [{"region": r, "cases": n} for r, n in self.by_region],
                "cases": [c.to_json() for c in self.cases], "overview": self.overview,
                "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()}}


def topic_of(question: str) -> str:
    """The topic a cross-place question asks about: "其他地方是怎么做楼宇党建的？" → "楼宇党建".

    The question's words are split at the words that frame a question (其他地方、是怎么、哪些…);
    the longest run left, without a leading verb (推行、管理…) or a trailing 建设/工作, is the topic.
    """
    runs: list[list[str]] = [[]]
    for word in words(question):
        if _is_frame(word) or not re.search(r"[\w\u4e00-\u9fff]", word):
            runs.append([])
        else:
            runs[-1].append(word)
    run = max(runs, key=lambda r: sum(map(len, r)))
    while len(run) > 1 and run[0] in _LEADING:
        run = run[1:]
    while len(run) > 1 and run[-1] in _TRAILING:
        run = run[:-1]
    topic_ = "".join(run).rstrip("有的是呢吗了") or "".join(run)  # jieba may glue 建有 / 做的 together
    return topic_ or question.strip()


def _is_frame(word: str) -> bool:
    """A framing word, or one made only of framing words (哪些地方 = 哪些 + 地方)."""
    ends = {0}
    for i in range(1, len(word) + 1):
        if any(j in ends and word[j:i] in _FRAME for j in range(max(0, i - 3), i)):
            ends.add(i)
    return len(word) in ends


def province_of(region: str) -> str:
    """"四川省乐山市" → "四川"; "北京市朝阳区" → "北京"; "广西壮族自治区" → "广西"."""
    match = _PROVINCE.match(region)
    return _SHORT.sub("", match.group(1)) if match else region


def find_cases(kb: KnowledgeBase, question: str, *, region: str | None = None,
               since: str | None = None) -> CaseReport:
    """Every stored article about the question's topic, as case cards, most about the topic first."""
    if not question.strip():
        raise RagError("问题不能为空")
    timer = Timer()
    phrase = topic_of(question)
    wanted = topic(phrase)
    tag = region_tag(region) if region else None
    allowed = kb.sources_in_region(tag) if tag else None
    since_key = _since(since) if since else ""
    cards: list[CaseCard] = []
    with timer.stage("match"):
        for doc in kb.documents(containing=wanted.anchor):
            if (allowed is None or doc.source in allowed) and (not since_key or doc.date >= since_key):
                cards.extend(c for c in cards_of(doc, wanted) if tag is None or tag in load_gazetteer().tags(c.regions))
    with timer.stage("verify"):
        check_quotes(cards, kb.text_lookup())
    return _report(question, phrase, cards, timer)


def cases_in(documents: Iterable[Document], question: str) -> CaseReport:
    """``find_cases`` over documents in hand rather than a knowledge base (tests, benchmarks, other stores)."""
    timer = Timer()
    phrase = topic_of(question)
    wanted = topic(phrase)
    with timer.stage("match"):
        docs = {d.source: d for d in documents if wanted.anchor in d.text}
        cards = [c for d in docs.values() for c in cards_of(d, wanted)]
    with timer.stage("verify"):
        check_quotes(cards, lambda source: docs[source].text if source in docs else None)
    return _report(question, phrase, cards, timer)


def _report(question: str, phrase: str, cards: list[CaseCard], timer: Timer) -> CaseReport:
    cards.sort(key=lambda c: (-c.score, c.source))
    counts = Counter(province_of(c.regions[0]) if c.regions else NO_REGION for c in cards)
    variants = Counter(m for c in cards for m in c.mentions)
    terms = (phrase, *[v for v, _ in variants.most_common() if v != phrase][:MAX_VARIANTS])
    by_region = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return CaseReport(question, phrase, terms, tuple(cards), by_region, None, timer.ms())


def check_quotes(cards: Iterable[CaseCard], text_of: Callable[[str], str | None]) -> None:
    """Every quote of every card is its article's text at its offsets (an AssertionError otherwise)."""
    for card in cards:
        text = text_of(card.source) or ""
        for q in (*card.measures, *card.results):
            if text[q.start:q.end] != q.quote:
                raise AssertionError(f"quote not verbatim: {card.source} {q.start}:{q.end}")


def _since(value: str) -> str:
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", value.strip())
    if not match:
        raise RagError(f"无法识别日期“{value}”：请写成 2022、2022-06 或 2022-06-01")
    year, month, day = match.group(1), match.group(2) or "1", match.group(3) or "1"
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
