"""Words of a question as jieba reads them, and the word pairs ``rag.parts`` splits a question at.

``posseg`` gives each word its offsets and part-of-speech tag, ``person_names`` the people it names.
``word_pair`` finds two like words joined by one 和/与/及 whose context is shared ("澳网男单和女单冠军分别…");
``phrase_pair`` two phrases of one shape ("女子双人10米跳台和男子双人10米跳台冠军", "最佳电视剧和最佳电视动画分别…").
``men_and_women`` reads "男女单打" as the men's and the women's event.
``rest_of_name`` and ``latin_names`` mend names jieba cut ("和英/伟达", "NBA2021", "和耶伦").

Deliberately not here: building the parts' questions (``rag.parts``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

WORD_CONJUNCTIONS = ("和", "与", "及")
NAMED = {"nr", "ns", "nt", "nz", "nrt", "nrfg", "eng"}
_PERSON_TAGS = {"nr", "nrfg", "nrt"}
_NAME_PIECES = {"a", "ag", "zg", "z", "b", "g", "y"}  # what jieba leaves of a name it split
# the words a question asks with; and those that ask how or whether rather than for a fact
ASKING = re.compile(r"多少|几|什么|哪|谁|怎|如何|是否|何时")
HOW = re.compile(r"怎|如何|为什么|为何|是否|吗")
SET_PHRASE = re.compile(r"国家和地区|党和国家|党和政府|党和人民")  # set phrases, not two items
# "男女单打" is "男子单打和女子单打" said short; "男女单" is "男单和女单" (not 男女比例, 男女平等)
_MEN_AND_WOMEN = re.compile(r"男女(单打|双打|单人|双人|团体|单|双)(?![打人])")


@lru_cache(maxsize=256)
def posseg(question: str) -> tuple[tuple[int, int, str, str], ...]:
    """(start, end, word, flag) of jieba's part-of-speech tokens (one question is read several times
    while it is split, whole and in pieces)."""
    import jieba.posseg as pseg

    out, pos = [], 0
    for token in pseg.lcut(question):
        out.append((pos, pos + len(token.word), token.word, token.flag))
        pos += len(token.word)
    return tuple(out)


def person_names(text: str) -> set[str]:
    """The person names jieba finds in ``text`` (two characters or more)."""
    return {word for _, _, word, flag in posseg(text) if flag in _PERSON_TAGS and len(word) >= 2}


def word_pair(q: str) -> list[tuple[int, int]]:
    """Two like words joined by one 和/与/及, with what precedes the first and follows the second
    shared by both: "澳网男单和女单冠军分别…" (男单, 女单: the 澳网 and 冠军 of both), "中国和美国经济分别…".

    Only with 分别/各自, for two nouns (or two verbs) of the same length that share a character; jieba's noun
    merging would otherwise make "澳网男单" and "女单冠军" the items and lose the shared words.
    """
    tokens = posseg(q)
    join = one_join(tokens)
    if join is None:
        return []
    left, right = tokens[join - 1], tokens[join + 1]
    kinds = {_word_kind(left[3]), _word_kind(right[3])}
    if len(left[2]) != len(right[2]) or len(left[2]) < 2 or len(kinds) != 1 or None in kinds:
        return []
    if not set(left[2]) & set(right[2]):  # 男单/女单, 中国/美国; not 公司/中圣 in "兴达公司和中圣科技"
        return []
    return [(left[0], left[1]), (right[0], right[1])]


def phrase_pair(q: str, each: bool) -> list[tuple[int, int]]:
    """Two phrases of one shape joined by one 和/与/及: the same words after a differing head of one
    or two characters ("…冠军赛女子双人10米跳台和男子双人10米跳台冠军": 女子…/男子…, 冠军 shared) or, with
    分别/各自 ending ``q``, the same first word ("金鹰奖最佳电视剧和最佳电视动画": 最佳…/最佳…). Both
    phrases start (and the first ends) where jieba's words do.
    """
    tokens = posseg(q)
    join = one_join(tokens)
    if join is None:
        return []
    bounds = {t[0] for t in tokens} | {t[1] for t in tokens}
    c = tokens[join][0]
    left_start = max((q.rfind(mark, 0, c) for mark in "，,：:；;？?"), default=-1) + 1
    left, right = q[left_start:c], q[c + 1:]
    for head in (1, 2):  # the same words after a differing head
        size = next((k for k in range(min(len(left) - head, len(right) - head), 1, -1)
                     if left.endswith(right[head:head + k])), 0)
        if size and left[-size - head:-size] != right[:head] and c - size - head in bounds \
                and c + 1 + head + size in bounds:
            return [(c - size - head, c), (c + 1, c + 1 + head + size)]
    first = tokens[join + 1][2]
    at = left.rfind(first)
    if each and len(first) >= 2 and at >= 0 and left_start + at in bounds:  # the same first word
        sizes = (len(left) - at, len(right))
        if min(sizes) > len(first) and max(sizes) <= 2 * min(sizes):
            return [(left_start + at, c), (c + 1, len(q))]
    return []


def men_and_women(q: str) -> tuple[str, ...]:
    """The men's and the women's question of "…男女单打冠军是谁" ("…男子单打冠军是谁", "…女子单打冠军是谁";
    "2023年温网男女单冠军" → "2023年温网男单冠军", "2023年温网女单冠军"), or ``()``."""
    pair = _MEN_AND_WOMEN.search(q)
    if pair is None or HOW.search(q):
        return ()
    event = pair.group(1)
    men, women = (f"男{event}", f"女{event}") if len(event) == 1 else (f"男子{event}", f"女子{event}")
    return tuple(q[:pair.start()] + who + q[pair.end():] for who in (men, women))


def one_join(tokens: Sequence[tuple[int, int, str, str]],
             conjunctions: Sequence[str] = WORD_CONJUNCTIONS) -> int | None:
    """The index of the question's one conjunction (和/与/及 unless told), when it has exactly one between two words."""
    joins = [k for k, (_, _, word, flag) in enumerate(tokens) if word in conjunctions and flag == "c"]
    return joins[0] if len(joins) == 1 and 0 < joins[0] < len(tokens) - 1 else None


def _word_kind(flag: str) -> str | None:
    if flag in NAMED or flag in {"n", "nr", "j"}:
        return "noun"
    return "verbal" if flag in {"vn", "v"} else None


def rest_of_name(q: str, end: int) -> int:
    """The end of a name jieba cut after its first character: the tokens that follow it that are
    no noun, verb, number or question word ("伟达"/a, "易"/a + "昺"/zg)."""
    for start, stop, _, flag in posseg(q):
        if start < end:
            continue
        if start > end or flag not in _NAME_PIECES:
            break
        end = stop
    return end


def latin_names(tokens: Sequence[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Latin letters and the name that follows them as one named token ("C" + "罗" → "C罗"); a year
    after Latin letters as a token of its own ("NBA2021"); a conjunction jieba joined to the name
    after a name as a token of its own ("布林肯和耶伦": 和耶伦/nr → 和, 耶伦)."""
    out: list[tuple[int, int, str, str]] = []
    for token in tokens:
        start, end, word, flag = token
        if word[0] in WORD_CONJUNCTIONS and len(word) >= 3 and flag in NAMED and out and out[-1][3] in NAMED:
            out += [(start, start + 1, word[0], "c"), (start + 1, end, word[1:], flag)]
            continue
        year = re.fullmatch(r"([A-Za-z]+)((?:19|20)\d\d)", token[2]) if token[3] == "eng" else None
        if year:  # "NBA2021" → "NBA", "2021"
            cut = token[0] + len(year.group(1))
            out += [(token[0], cut, year.group(1), "eng"), (cut, token[1], year.group(2), "m")]
            continue
        if out and out[-1][3] == "eng" and out[-1][1] == token[0] and token[3] in NAMED | {"j", "n"}:
            start, _, word, _ = out[-1]
            out[-1] = (start, token[1], word + token[2], "nz")
            continue
        out.append(token)
    return out
