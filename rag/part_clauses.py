"""Two questions in one sentence about one subject: "邓伦逃税多少钱，被罚了多少钱".

``clause_questions`` splits a question whose clauses (cut at ，or ？) each ask for a fact,
the first ending on its question word ("…多少钱", "…是什么", "…有谁"), and gives the later
clauses the first one's subject: "《心居》的主演有谁，导演是谁？" → "《心居》的主演有谁",
"《心居》的导演是谁"; a pronoun standing for it is replaced ("…是什么类型的电影？它的导演是谁？"
→ "《李茂扮太子》的导演是谁").

Kept whole: a first clause that sets a time or condition ("截至2021年上半年末，…",
"受害者无法足额提交什么后，…"), a clause asking how or whether, and a second clause that
narrows the first ("…有多少名员工，其中党员多少名").

``attribute_questions`` splits two attributes of one subject joined by one 和/及/与 at the end of
the question ("安倍晋三的国葬时间和地点？" → "安倍晋三的国葬时间？", "安倍晋三的国葬地点？";
"《人世间》的导演和编剧是谁？"), only when nothing before them asks ("…建立了多少个党支部和联合党支部"
asks one count) and the question asks for a fact, not how or whether. The chain splits them only
for a model, which reads one attribute at a time better; the quotes of the whole question already
show both attributes (retrieved part by part, the other attribute's passage ranked lower).

Deliberately not here: questions that stand alone (``rag.parts``, ``_whole_questions``) and
coordinations ("A和B分别…").
"""

from __future__ import annotations

import re

from rag.part_words import ASKING, HOW, NAMED, SET_PHRASE, WORD_CONJUNCTIONS, one_join, posseg

_CLAUSE_END = re.compile(r"[，,？?]")
# the clause ends on what it asks: "多少钱", "多少名党建指导员", "是什么类型的电影", "有谁", "在哪里", "何时"
_ASKS_AT_END = re.compile(r"(?:(?:多少|几|什么)[\u4e00-\u9fff的]{0,6}|谁|哪[里儿个些国]?|何时|哪一年)$")
_SETS_A_TIME = re.compile(r"(?:后|时|前|以来|期间|之际)$")  # "…提交什么后，": when, not what
_NARROWS = re.compile(r"^(?:其中|其余|此外|另外|同时|并且|而且|以及|这|那|此)")  # leans on the first answer
_PRONOUN = re.compile(r"^(?:它|其|他|她|该)(的)?")
_TITLE_AT_START = re.compile(r"^《[^《》]{1,30}》")
_OWNER = re.compile(r"^[^，,。？?的]{2,12}的")  # "iPhone SE 3的芯片是什么" → "iPhone SE 3的"
_NAME_TAGS = ("nr", "ns", "nt", "nz", "n", "eng")
_MIN_CLAUSE_CHARS = 4
# what may follow the second attribute: the question word alone ("是谁？", "是什么时候", "分别是多少")
_ASKING_TAIL = re.compile(r"(?:分别|各自)?(?:是|有|为)?(?:谁|什么时候|什么|多少|哪些|哪里|何时)?[？?]?$")
_ATTRIBUTE = re.compile(r"[\u4e00-\u9fffA-Za-z]{2,8}")


def clause_questions(question: str) -> tuple[str, ...]:
    """The questions a two-to-four-clause question asks of one subject, or ``()``."""
    clauses = [c.strip() for c in _CLAUSE_END.split(question.strip()) if c.strip()]
    if not 2 <= len(clauses) <= 4 or any(len(c) < _MIN_CLAUSE_CHARS for c in clauses):
        return ()
    if (HOW.search(question) or "呢" in question  # "…，自贡呢？" leans on the first clause
            or not _ASKS_AT_END.search(clauses[0]) or _SETS_A_TIME.search(clauses[0])):
        return ()
    if any(not ASKING.search(c) or _NARROWS.match(c) for c in clauses[1:]):
        return ()
    subject = _subject(clauses[0])
    if subject is None:
        return ()
    parts = [clauses[0]] + [_with_subject(c, subject) for c in clauses[1:]]
    return tuple(parts) if len(set(parts)) == len(parts) else ()


def _subject(clause: str) -> str | None:
    """What the first clause asks about, with its 的 when it has one: "《心居》的", "iPhone SE 3的",
    "《李茂扮太子》", "邓伦"; None when it does not start with a name or noun."""
    title = _TITLE_AT_START.match(clause)
    if title:
        return title.group() + ("的" if clause[title.end():].startswith("的") else "")
    owner = _OWNER.match(clause)
    if owner and not ASKING.search(owner.group()):
        return owner.group()
    words = posseg(clause)
    if words and words[0][3].startswith(_NAME_TAGS) and len(words[0][2]) >= 2:
        return words[0][2]
    return None


def _with_subject(clause: str, subject: str) -> str:
    """``clause`` about ``subject``: a leading pronoun replaced by it, or it put in front."""
    bare = subject.removesuffix("的")
    if clause.startswith(bare):
        return clause
    pronoun = _PRONOUN.match(clause)
    if pronoun:
        return bare + ("的" if pronoun.group(1) else "") + clause[pronoun.end():]
    return subject + clause


def attribute_questions(question: str) -> tuple[str, ...]:
    """Two questions for "X的A和B…" where A and B, at the end of the question, are two attributes of
    X: the first asks X's A, the second has B in A's place. A is the last word before the 和, with the
    verb before it when that verb follows 的 ("小米13系列手机的发布时间和处理器" → "…手机的处理器");
    ``()`` unless the question has one such 和 and asks nothing before it."""
    q = question.strip()
    if not any(c in q for c in WORD_CONJUNCTIONS) or HOW.search(q) or "呢" in q or SET_PHRASE.search(q):
        return ()  # nothing joined (以及 holds 及): no need for jieba's part-of-speech model (~1 s to load)
    words = posseg(q)
    k = one_join(words, (*WORD_CONJUNCTIONS, "以及"))
    if k is None or k < 2:
        return ()
    asking = _ASKING_TAIL.search(q, words[k][1])  # always matches: at worst the empty end
    second, rest = q[words[k][1]:asking.start()], q[asking.start():]
    a_start = words[k - 2][0] if words[k - 2][3] == "v" and k >= 3 and words[k - 3][2] == "的" else words[k - 1][0]
    first, head = q[a_start:words[k][0]], q[:a_start]  # "的发布时间和处理器": the verb goes with the first
    if not (_ATTRIBUTE.fullmatch(first) and _ATTRIBUTE.fullmatch(second)) or len(first) > 4:
        return ()
    if len(head.rstrip("的")) < 2 or ASKING.search(head) or "的" in second:
        return ()
    if {words[k - 1][3], words[k + 1][3]} & NAMED:
        return ()  # "《阿凡达：水之道》大陆和香港上映日期": two places, not two attributes
    if words[k - 1][3] == words[k + 1][3] == "v":
        return ()  # "2022春运的开始和结束时间": one period, stated in one sentence
    return head + first + rest, head + second + rest
