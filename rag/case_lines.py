"""Cross-case answers written place by place: one line per article, each line's head forced.

A cross-case question ("各地是怎样选派党建指导员的？") needs every case. Asked freely, the
1.5B merged the cases into one sentence about one place ("各地通过机关、乡办选派77名…"):
on the gold set's cross-case questions its answers held the key facts 5 times of 9, the
quotes alone 8. Here the model is asked for one line per article of the evidence, in the
article's own words. With llama.cpp a GBNF grammar (``case_grammar``) forces every line's
head ("- 四川省乐山市：") and its end (one or two of that article's marks: unbounded, the 1.5B
wrote "[1][1][1]…" until it ran out of tokens), keeps each line to one
sentence of at most ``MAX_LINE_CHARS`` characters, and leaves no room for a refusal (the
evidence already passed the calibrated relevance level). ``tidy_case_lines`` tidies a line
the limit cut mid-clause: a short last fragment is dropped, a longer one kept with "……" after
the marks (before them, "…" would end the claim and the citation check would flag it).

Deliberately not here: recognising cross-case questions (``rag.retrieval``; here only
whether one asks what places did, ``asks_for_cases``), the model call (``rag.chain``),
reading the marks back and checking them (``rag.citations``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from rag.compose import article_groups, place_of
from rag.intent import names_a_measure
from rag.retrieval import is_cross_case
from rag.types import Citation

MAX_LINE_CHARS = 60  # a line's statement; the 1.5B copies whole 150-character sentences otherwise
_BODY_EXCLUDED = "\\n\\[\\]【】［］。！？!?；;"  # one sentence per line, marks only at its end
_CUT_SLACK = 6  # a token holds up to about this many characters
_FRAGMENT_CHARS = 12
_DANGLING = "和与及并或、的“‘（(《"
_CLAUSE_MARKS = "，,：:"  # not 、: that splits a list, not a clause
_ACROSS_CASES = re.compile(r"各地|各个地方|其他地方|别的地方|其他地区|其它地方|其它地区|各[省市区县]|多地|不同地[区方]|"
                           r"案例|经验|做法|举措|措施")
_LINE = re.compile(r"^(- [^：\n]+：)(.*?)((?:\[\d+\])+)(。?)$")


def asks_for_cases(question: str) -> bool:
    """A cross-case question about what places did ("各地…", "哪些地方建立了党建联盟？").

    Not one about which places one event touched ("台风可能在哪些地方登陆？", "哪些地区维持防汛
    三级应急响应？"): there the articles are reports of the same event, and one line per article
    had the 1.5B write the same sentence under every place.
    """
    return is_cross_case(question) and (_ACROSS_CASES.search(question) is not None or names_a_measure(question))


def case_heads(evidence: Sequence[Citation]) -> list[tuple[str, tuple[int, ...]]]:
    """Per article of ``evidence`` (most relevant first): the place its line is headed with, and its marks."""
    return [(place_of(group[0]), tuple(c.n for c in group)) for group in article_groups(evidence)]


def _literal(text: str) -> str:
    """A GBNF string literal (JSON escaping is a subset GBNF reads: quotes, backslashes, control chars)."""
    return json.dumps(text, ensure_ascii=False)


def case_grammar(evidence: Sequence[Citation]) -> str:
    """A GBNF grammar for one line per article: ``- <place>：<one sentence><its marks>`` and nothing else."""
    heads = case_heads(evidence)
    rules = [f"root ::= {' '.join(f'line{i}' for i in range(len(heads)))}"]
    for i, (place, numbers) in enumerate(heads):
        marks = " | ".join(_literal(f"[{n}]") for n in numbers)
        rules.append(f'line{i} ::= {_literal(f"- {place}：")} body ({marks}) ({marks})? "。"? "\\n"')
    rules.append(f"body ::= [^{_BODY_EXCLUDED}]{{4,{MAX_LINE_CHARS}}}")
    return "\n".join(rules) + "\n"


def _trim(body: str) -> tuple[str, bool]:
    """A statement the length limit cut, and whether it still ends mid-phrase.

    A short last fragment (under ``_FRAGMENT_CHARS``) is dropped back to the clause mark before
    it; a longer one usually carries the case's figure ("从机关、乡办选派77名党员干部到企业担任
    党建工作指导员和") and is kept, without a dangling joining word, and marked as cut.
    """
    cut = max(body.rfind(mark) for mark in _CLAUSE_MARKS)
    if cut > 0 and len(body) - cut - 1 < _FRAGMENT_CHARS:
        return body[:cut], False
    return body.rstrip(_DANGLING), True


def tidy_case_lines(raw: str) -> str:
    """The grammar's lines, a line cut near ``MAX_LINE_CHARS`` trimmed to its last whole clause.

    A line is taken as cut when its statement is within ``_CUT_SLACK`` characters of the limit:
    there the grammar leaves the model only tokens short enough to fit, so it may have had to
    end mid-phrase ("推动党的活动与[2]").
    """
    lines = []
    for line in raw.strip().splitlines():
        match = _LINE.match(line.strip())
        if match and len(match.group(2)) >= MAX_LINE_CHARS - _CUT_SLACK:
            head, body, marks, _ = match.groups()
            kept, cut = _trim(body)
            line = f"{head}{kept}{marks}{'……' if cut else '。'}"  # after the marks: "…" would end the claim
        lines.append(line)
    return "\n".join(lines)
