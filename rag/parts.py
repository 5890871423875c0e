"""Multi-part questions: "乐山和自贡分别选派了多少名党建指导员？" asks two questions.

``question_parts`` splits a message of several whole questions ("…被罚多少钱？…投资多少钱？")
into them, and a sentence of clauses asking facts of one subject ("邓伦逃税多少钱，被罚了多少钱",
``rag.part_clauses``); otherwise it finds a coordination of like items — places, years, titles in
《》, named entities, or any nouns when the question says 分别/各自 — and
returns one standalone question per item, the coordination replaced by that
item ("乐山选派了多少名党建指导员？", "自贡选派了多少名党建指导员？"). The answer
chain retrieves evidence for each part so a part whose passage ranks low for the
whole question is not lost, and checks that every part is answered.

The items must be alike so that "党建和业务如何融合？" (one question about two
things) stays whole: without 分别/各自, both sides of the 和 must be places, years,
《titles》 or named entities (jieba's nr/ns/nt/nz tags). Two like words that share a character
("澳网男单和女单冠军…", "中国和美国经济分别…"), and two phrases of one shape ("女子双人10米跳台和男子双人
10米跳台冠军"), share what stands before the first and after the second; without 分别 only in a
question that asks for a fact, not how or whether. Set phrases ("国家和地区") are not split.

Deliberately not here: retrieval and answering (``rag.chain``, ``rag.evidence``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.citations import content_chars
from rag.keyword import tokenize
from rag.part_clauses import clause_questions
from rag.part_words import (
    ASKING,
    HOW,
    NAMED,
    SET_PHRASE,
    latin_names,
    men_and_women,
    phrase_pair,
    posseg,
    rest_of_name,
    word_pair,
)
from rag.regions import load_gazetteer

_CONJUNCTIONS = ("以及", "和", "与", "及", "、", "跟", "同")
_KEPT = "\ue000"  # stands for the 和 of a set phrase while the question is split
_EACH = re.compile(r"分别|各自")
# A bare 各 before the verb it distributes ("梅西和C罗各进了几个球") is read as 分别 (jieba would join it
# to the name before it: "罗各"); not the determiner of 各地/各级/各部门.
_BARE_EACH = re.compile(r"(?<=[\u4e00-\u9fffA-Za-z0-9》”])各(?=[是有为在进建选派拿获得占达用花投发举])")
# A message of two or more whole questions: "知网被罚多少钱？台积电计划投资多少钱？".
_QUESTION_END = re.compile(r"(?<=[？?])")
_DEPENDENT_START = re.compile(r"^(?:这|那|其|它|他|她|该|此|为什么|为何|怎么|如何|呢)")
_MIN_QUESTION_CHARS = 6
# a year, also a bare one coordinated with another ("2022和2023年", "EMNLP2022和2023的举办地")
_YEAR = re.compile(r"\d{4}年(?:度)?|\d{1,2}月份?"
                   r"|(?:19|20)\d\d(?=[和与及、](?:19|20)\d\d)|(?<=[和与及、])(?:19|20)\d\d(?!\d)")
_TITLE = re.compile(r"《[^《》]{1,30}》")
_LEAD_OF_ITEM = re.compile(r"(?:^|(?<=[，,：:]))[^，,。？?的和与及、\s在对]{1,6}$")
_REST_OF_ITEM = re.compile(r"[^，,。？?的和与及、\s]{1,5}?(?=分别|各自)")
_MEASURE_HEAD = re.compile(r"(?:率|量|额|数|值|比例|比重|占比|价格|规模|人次)$")
# "A和B分别被罚或计划投资多少钱": one predicate per item, in order, before the question word.
_ALTERNATIVE = re.compile(r"或者|或|、")
# "A和B会晤…" is one event of two parties, not two questions (unless 分别 says so).
_JOINT = re.compile(r".{0,6}?(会晤|会谈|会见|通话|合作|共同|联合|签署|签订|之间|对阵|交锋|相比|比较|"
                    r"(?<![在于])哪个|谁更|关系|差距|区别)")  # "在哪个组" asks where, not which of the two
MAX_PARTS = 4
# regions jieba reads as common nouns, coordinated with places ("《阿凡达：水之道》大陆和香港上映日期")
_REGION_WORDS = {"大陆", "内地", "国内", "国外", "海外", "境内", "境外", "全国", "全球", "本土"}


@dataclass(frozen=True)
class _Item:
    start: int
    end: int
    kind: str  # place / region / year / title / named / noun / word (``rag.part_words.word_pair``)
    tokens: int = 1


def part_words(parts: Sequence[str]) -> list[set[str]]:
    """Each part's search tokens."""
    return [set(tokenize(p)) for p in parts]


def distinct_words(words: Sequence[set[str]], i: int) -> set[str]:
    """The words of part ``i`` that no other part has ("乐山" against "自贡"): what tells the parts apart."""
    return words[i] - set().union(*(w for j, w in enumerate(words) if j != i))


def places_among(words: set[str]) -> set[str]:
    """The ``words`` that name a place of the gazetteer ("乐山", "香港"; not "男子", "美国")."""
    return {w for w in words if load_gazetteer().find(w, limit=1)}


def own_and_other_words(words: Sequence[set[str]], i: int) -> tuple[set[str], set[str]]:
    """What tells part ``i`` apart, and what tells each other part apart ("乐山" and "自贡" for the 乐山 part)."""
    other = set().union(*(distinct_words(words, j) for j in range(len(words)) if j != i))
    return distinct_words(words, i), other


@lru_cache(maxsize=256)
def question_parts(question: str) -> tuple[str, ...]:
    """One question per coordinated item (or per whole question of a message that asks several),
    or ``()`` when ``question`` asks about one thing."""
    q = question.strip()
    whole = _whole_questions(q) or clause_questions(q) or men_and_women(q)
    if whole:
        return whole
    masked = SET_PHRASE.sub(lambda m: m.group().replace("和", _KEPT), q)  # "国家和地区" is one thing
    return tuple(part.replace(_KEPT, "和") for part in _coordination_parts(masked))


def _coordination_parts(q: str) -> tuple[str, ...]:
    if not any(c in q for c in _CONJUNCTIONS):
        return ()  # nothing is coordinated: no need for jieba's part-of-speech model (~1 s to load)
    q = _BARE_EACH.sub("分别", q, count=1) if not _EACH.search(q) else q
    each = _EACH.search(q)
    scope = q[:each.start()] if each else q
    # without 分别, like words are split only in a question that asks for a fact, not how or whether
    pair = word_pair(scope) or phrase_pair(scope, each is not None) if each or not HOW.search(q) else []
    if pair and not each and _JOINT.match(q, pair[-1][1]):
        pair = []  # "中国和美国经济相比…": one comparison
    word_level = [_Item(a, b, "word") for a, b in pair]
    items = word_level or _coordinated_items(q, each is not None)
    if items and (each is None or word_level or not re.search(r"\d", _shared_tail(q, items, each))):
        head, after = q[:items[0].start], _EACH.search(q, items[-1].end)
        if each is not None and each.end() <= items[0].start:  # "分别有多少个…参加了A和B": 分别 goes
            head = head[:each.start()] + head[each.end():]
        if after is None:
            tails = [q[items[-1].end:]] * len(items)
        else:  # what lies before 分别 is shared ("的营收"); what follows it may be one predicate per item
            shared = q[items[-1].end:after.start()]
            tails = [shared + t for t in _paired_predicates(q[after.end():], len(items))]
        texts = [q[i.start:i.end] for i in items]
        parts = [f"{head}{text}{_own_tail(text, t)}" for text, t in zip(texts, tails, strict=True)]
    elif each is not None:  # "上海2021年的GDP和2022年中国研发经费总投入分别是多少": whole phrases
        parts = _phrase_parts(q, each)
    else:
        return ()
    unique = tuple(dict.fromkeys(parts))
    return unique if 2 <= len(unique) <= MAX_PARTS else ()


def _own_tail(item: str, tail: str) -> str:
    """``tail`` without its leading "的X" when the item already ends in X: "中超2022赛季开赛时间" and
    "新冠实施乙类乙管" share "的时间", which only the second lacks."""
    shared = re.match(r"的([\u4e00-\u9fffA-Za-z0-9]+?)(?=分别|各自|是|有|为|在|[？?，,]|$)", tail)
    return tail[shared.end():] if shared and item.endswith(shared.group(1)) else tail


def _paired_predicates(tail: str, n: int) -> list[str]:
    """``n`` tails, one per item: "被罚或计划投资多少钱？" for two items → "被罚多少钱？", "计划投资多少钱？".

    Only when the words before the question word are exactly ``n`` alternatives (或/或者/、), each
    of two to six characters; otherwise every item keeps the whole tail.
    """
    asking = ASKING.search(tail)
    if asking is None:
        return [tail] * n
    verbs = _ALTERNATIVE.split(tail[:asking.start()])
    if len(verbs) != n or any(not 2 <= len(v) <= 6 or not re.fullmatch(r"[\u4e00-\u9fff]+", v) for v in verbs):
        return [tail] * n
    return [v + tail[asking.start():] for v in verbs]


def _whole_questions(q: str) -> tuple[str, ...]:
    """The questions of a message that asks two to four whole questions, each standing on its own.

    "这是为什么？" or "怎么做的？" after a first question leans on it: such a message is one question.
    """
    pieces = [p.strip() for p in _QUESTION_END.split(q) if p.strip()]
    if not 2 <= len(pieces) <= MAX_PARTS:
        return ()
    if any(content_chars(p) < _MIN_QUESTION_CHARS or _DEPENDENT_START.match(p) for p in pieces):
        return ()
    return tuple(pieces) if len(set(pieces)) == len(pieces) else ()


def _shared_tail(q: str, items: list[_Item], each: re.Match[str]) -> str:
    """What lies between the last item and 分别, a year there left out when nothing before it has a figure:
    "苹果和华为的2022年营收分别…" shares its year; "2022年全国棉花产量和塔里木油田2021年的油气产量分别…" does not."""
    tail = q[items[-1].end:each.start()]
    return tail if re.search(r"\d", q[:items[-1].end]) else _YEAR.sub("", tail)


def _phrase_parts(q: str, each: re.Match[str]) -> list[str]:
    """"A和B分别…" where A and B are unlike phrases: one question per phrase, each with the predicate.

    A shared "的X" on the last phrase goes to the others too when they are as short as its own
    item and lack X ("北京冬奥会和冬残奥会的吉祥物" → "北京冬奥会的吉祥物"), not when they already have it
    ("2022年全国棉花产量和塔里木油田2021年的油气产量").
    """
    start = max(q.rfind(mark, 0, each.start()) for mark in "，,：:；;") + 1
    body, tail = q[start:each.start()], q[each.end():]
    cuts = [(s, e) for s, e, word, flag in posseg(body) if word in _CONJUNCTIONS and (flag == "c" or word == "、")]
    if not cuts:  # jieba joined the conjunction to a name ("特斯拉和蔚来" → 和蔚/来): cut at the character
        cuts = [m.span() for m in re.finditer(r"[和与、]", body)]
    bounds = [0, *[x for cut in cuts for x in cut], len(body)]
    pieces = [body[bounds[i]:bounds[i + 1]] for i in range(0, len(bounds), 2)]
    last = pieces[-1]
    sizes = [len(p) for p in pieces[:-1]] + [len(last.split("的")[0])]
    if len(pieces) < 2 or min(sizes) < 2 or max(sizes) > 2 * min(sizes):
        return []  # "世界杯冠军和亚军": a shared word, not whole phrases
    measure = _MEASURE_HEAD.search(last)
    if measure and "的" not in last and not any(p.endswith(measure.group()) for p in pieces[:-1]):
        return []  # "非公企业、社会组织党组织覆盖率": the 覆盖率 of both
    if "的" in last:
        d = last.index("的")
        shared, head_word = last[d:], posseg(last[d:])[-1][2]
        pieces = [p + shared if "的" not in p and len(p) <= d + 2 and head_word not in p else p
                  for p in pieces[:-1]] + [last]
    tails = _paired_predicates(tail, len(pieces))
    return [f"{q[:start]}{p}{t}" for p, t in zip(pieces, tails, strict=True)]


def _coordinated_items(q: str, each: bool) -> list[_Item]:
    """The longest run of like items joined by conjunctions (any nouns alike when the question says 分别)."""
    spans = _typed_spans(q, each)
    best: list[_Item] = []
    for i, first in enumerate(spans):
        run = [first]
        for nxt in spans[i + 1:]:
            gap = q[run[-1].end:nxt.start]
            if gap not in _CONJUNCTIONS or not _alike(run[-1], nxt, each):
                break
            run.append(nxt)
        if len(run) > len(best):
            best = run
    if len(best) < 2 or (not each and _JOINT.match(q, best[-1].end)):
        return []
    lead = _LEAD_OF_ITEM.search(q, 0, best[0].start) if each else None
    if lead and not any(i.kind == "year" and lead.start() < i.end for i in spans):
        first = best[0]  # "首都" (jieba: an adverb) + "互联网协会党委", "上饶经" + "开区"
        best[0] = _Item(lead.start(), first.end, first.kind, first.tokens + 1)
    rest = _REST_OF_ITEM.match(q, best[-1].end) if each else None
    if rest:  # "上饶" + "经开区" (jieba: 经/p 开区/ns) up to 分别
        last = best[-1]
        best[-1] = _Item(last.start, rest.end(), last.kind, last.tokens + 1)
    elif best[-1].end - best[-1].start == 1:  # "英" + "伟达" (jieba: 和英 → 和/英/伟达), "吴" + "易昺"
        last, end = best[-1], rest_of_name(q, best[-1].end)
        best[-1] = _Item(last.start, end, last.kind, last.tokens + 1)
    first, size = best[0], best[-1].end - best[-1].start
    if first.kind == "named" and first.tokens > 1 and first.end - first.start > 2 * size:
        # "马德里大师赛" + "张之臻" (jieba: nr nr nr) and "吴易昺": the name alone is the item
        start = max(s for s, _, _, _ in posseg(q) if first.start <= s <= first.end - size)
        best[0] = _Item(start, first.end, "named")
    if any(i.kind == "noun" for i in best) and not q[best[-1].start:best[-1].end].startswith(_places(q)):
        counts = {i.tokens for i in best}
        if max(counts) - min(counts) > 1:
            return []  # "世界杯冠军和亚军", "非公企业、社会组织党组织覆盖率": a shared word, not two items
    return best


def _places(q: str) -> tuple[str, ...]:
    return tuple(alias for _, alias, _ in load_gazetteer().mentions(q)) or ("\0",)


def _alike(a: _Item, b: _Item, each: bool) -> bool:
    if a.kind == b.kind and a.kind != "noun":
        return True
    if "region" in {a.kind, b.kind} and {a.kind, b.kind} <= {"region", "place", "named"}:
        return True  # "大陆和香港", "内地和北美": a region and a place
    # with 分别/各自 any two nouns are parallel items, but not a noun and a year or a title
    return each and not {a.kind, b.kind} & {"year", "title"}


def _typed_spans(q: str, each: bool) -> list[_Item]:
    """Candidate items in order: places, years, titles, then jieba's named entities and (with 分别) nouns."""
    taken: list[_Item] = []

    def add(start: int, end: int, kind: str) -> None:
        if not any(start < t.end and t.start < end for t in taken):
            taken.append(_Item(start, end, kind))

    tokens = latin_names(posseg(q))
    for m in _TITLE.finditer(q):
        add(m.start(), m.end(), "title")
    for m in _YEAR.finditer(q):
        add(m.start(), m.end(), "year")
    for pos, alias, _ in load_gazetteer().mentions(q):
        if not any(s <= pos and pos + len(alias) <= e and e - s > len(alias) and f in NAMED - {"ns"}
                   for s, e, _, f in tokens):  # "阿里" in 阿里巴巴 is a company, not 阿里地区
            add(pos, pos + len(alias), "place")
    for start, end, word, flag in tokens:
        if word in _CONJUNCTIONS or not re.search(r"[\u4e00-\u9fffA-Za-z]", word):
            continue
        if word in _REGION_WORDS:
            add(start, end, "region")
        elif flag in NAMED:
            add(start, end, "named")
        elif each and (flag.startswith(("n", "j", "v")) or flag in {"t", "b"}):
            add(start, end, "noun")
    taken.sort(key=lambda t: t.start)
    return _merged_nouns(q, taken, each)


def _merged_nouns(q: str, items: list[_Item], each: bool) -> list[_Item]:
    """Adjacent tokens with nothing between them form one item ("冬" + "残奥会" → "冬残奥会"; with 分别
    also a place and its nouns: "上饶" + "经开区")."""
    out: list[_Item] = []
    for item in items:
        if out and out[-1].end == item.start and q[out[-1].start:item.end] not in _CONJUNCTIONS:
            prev = out[-1]
            nouns = ("noun", "named", "place") if each else ("noun", "named")
            if prev.kind in nouns and item.kind in nouns and not (prev.kind == item.kind == "place"):
                kind = "named" if prev.kind == item.kind == "named" else "noun"
                out[-1] = _Item(prev.start, item.end, kind, prev.tokens + item.tokens)
                continue
        out.append(item)
    return out
