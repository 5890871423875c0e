"""Common abbreviations and the full names they stand for: a sentence that says one holds the other's words.

A question asks "2021年北京的GDP" and the statistics bulletin says "全年实现地区生产总值40269.6亿元";
"消费者价格指数" is reported as "CPI"; "国企" is written "国有企业"; a question's "中国" is "我国" in the
article ("2021年，我国国内生产总值比上年增长8.1%"). Term coverage (``rag.evidence``) counts
a question word only when the sentence has it, so the sentence that states the answer lost to one that
repeats the question's words with another figure ("上海和北京都是全年GDP首次超过4万亿大关。2021年上海市
实现GDP43214.85亿元"). ``equivalent_tokens(text)`` gives, for every group of names ``text`` uses one of, the
tokens of all the group's names, to be added to what the sentence holds; ``held_words(text)`` is both.

Deliberately not here: synonyms in general (最后/最终, 出分/成绩公布: a word's meaning depends on its
sentence), expanding the search query (the index stays as stored; dense search already finds the
sentence's chunk), or names of people and places (``rag.regions`` has the places' own aliases; 我国 is
not a name but the word Chinese news uses for its own country).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from rag.keyword import tokenize

# Each group: names that mean the same thing in news and Party-building articles, abbreviation first.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("中国", "我国"),
    ("GDP", "生产总值"),
    ("CPI", "居民消费价格", "消费者价格指数", "消费价格指数"),
    ("PPI", "生产者价格指数", "工业生产者出厂价格"),
    ("PMI", "采购经理指数", "采购经理人指数"),
    ("央行", "中国人民银行"),
    ("美联储", "联邦储备委员会"),
    ("世卫组织", "世界卫生组织"),
    ("发改委", "发展和改革委员会"),
    ("国资委", "国有资产监督管理委员会"),
    ("国企", "国有企业"),
    ("民企", "民营企业"),
    ("外企", "外资企业"),
    ("非公企业", "非公有制企业"),
    ("高校", "高等学校", "高等院校"),
    ("政协", "政治协商会议"),
)


_WHOLE_WORD = 4  # a name shorter than this is found as a token: "中国企业" holds 国企 as letters, not as a word


@lru_cache(maxsize=1)
def _group_tokens() -> tuple[tuple[tuple[str, ...], tuple[str, ...], frozenset[str]], ...]:
    """Per group, its short names (lowercased, found among a text's tokens), its long names (found in the text)
    and the tokens of all of them."""
    return tuple((tuple(n.lower() for n in group if len(n) < _WHOLE_WORD),
                  tuple(n for n in group if len(n) >= _WHOLE_WORD),
                  frozenset(t for name in group for t in tokenize(name)))
                 for group in GROUPS)


def equivalent_tokens(text: str, tokens: Iterable[str] | None = None) -> frozenset[str]:
    """The tokens of every name of each group ``text`` uses one name of: "地区生产总值" gives "gdp" too.

    A short name counts only as a word of ``text`` (its ``tokens``, from ``rag.keyword.tokenize``): "国企" is in
    "中国企业的国企改革" once, as the word 国企, and not in "中国企业" at all."""
    words = set(tokenize(text) if tokens is None else tokens)
    found = [group for short, long, group in _group_tokens()
             if any(name in words for name in short) or any(name in text for name in long)]
    return frozenset().union(*found) if found else frozenset()


def held_words(text: str) -> set[str]:
    """The words ``text`` holds: its tokens and the other names of each abbreviation it uses ("我国" holds 中国)."""
    tokens = set(tokenize(text))
    return tokens | equivalent_tokens(text, tokens)
