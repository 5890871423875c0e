"""Lists of people the model cut short: "《护卫者》的主演是谁？" answered "张丰毅、王媛可[1]" while another
quote shown with it names 王栎鑫 as the third.

``more_names`` adds, after the model's answer, each quote shown with it that the answer does not
cite, that states what the question asks (judged without the model, as a refused answer is:
``rag.evidence.states_answer``) and that names a person the answer does not name: "另据资料：…[3]",
fallback ``more_items``. Only for questions that ask for several people ("…的主演是谁", "…有谁",
"哪些…选手…"); a question for one person ("…的导演是谁", "谁获得了金牌") keeps the model's answer.

Names are jieba's person names (nr, two characters or more); it mistakes some words for names
("黄金档"), which at worst adds a quote that states the answer anyway.

Deliberately not here: lists of places (cross-case answers, ``rag.case_lines``), parts a
multi-part answer left out (``rag.part_answer.complete_parts``), and judging which names are right.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from rag.part_words import person_names
from rag.support import MORE_QUOTE
from rag.types import Answer, Citation

_ROLES = "人员|演员|主演|选手|球员|运动员|成员|嘉宾|明星|得主"  # roles that several people fill
# "哪些中国斯诺克选手…", not "哪些企业组建了党员攻坚队" (the 哪些 asks for 企业)
_ASKS_PEOPLE = re.compile(rf"有谁|都有谁|哪些[^\s，。？了的在和与]{{0,5}}?(?:{_ROLES}|专家|代表|党员|干部|人)"
                          rf"|(?:{_ROLES})(?:是谁|有哪些|都有)")
MORE_ITEMS_NOTICE = "模型列出的可能不全，已补上其他提到相关人名的原文摘录。"


def asks_for_people(question: str) -> bool:
    """The question asks for several people: "《心居》的主演有哪些", "同组对手有谁", "哪些中国斯诺克选手…"."""
    return _ASKS_PEOPLE.search(question) is not None


def more_names(answer: Answer, states: Callable[[Citation], bool]) -> Answer:
    """``answer`` followed by the shown quotes it left uncited that state the answer and name other people."""
    question = answer.standalone_question or answer.question
    if answer.answered_by != "model" or answer.parts or not asks_for_people(question):
        return answer
    cited = {c.n for c in answer.citations}
    named = person_names(answer.text) | person_names(question)
    extra = [c for c in answer.evidence if c.n not in cited and person_names(c.quote) - named and states(c)]
    if not extra:
        return answer
    added = "\n".join(f"{MORE_QUOTE}{c.quote}[{c.n}]" for c in extra)
    return replace(answer, text=f"{answer.text.rstrip()}\n{added}",
                   citations=tuple(sorted({*answer.citations, *extra}, key=lambda c: c.n)),
                   notice=MORE_ITEMS_NOTICE, fallback="more_items")
