"""Follow-up questions made standalone before retrieval ("那乐山呢？" → a full question).

A follow-up that only names a new place ("那乐山呢？") is the previous question with
the place swapped, written by the rule. Otherwise, with a chat model, the model
rewrites the follow-up given the last turns; its
output is used only when it looks like a standalone question (non-empty,
short, no explanation, not itself a follow-up) that keeps every place the
follow-up names; ``rewrite`` says which of the two wrote the question.
Otherwise, or without a model, a rule handles the common pattern: a short
follow-up that names a new place (or a new subject) takes the previous
question and swaps in the new place or appends the new subject.

Deliberately not here: retrieval and answering (``rag.chain``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.regions import load_gazetteer
from rag.types import RewriteSource, Turn

_FOLLOW_UP = re.compile(r"^(那么?|那|还有|另外|再说说|再问一下|那个)|[呢吗]？?\??$")
_FILLER = re.compile(r"^(那么?|还有|另外|再说说|再问一下)[，,]?|(怎么样|如何|又)?[呢吗]?[？?。]?$")
_MAX_FOLLOW_UP_CHARS = 16
_PROMPT = (
    "根据对话历史，把用户最后的追问改写成一个意思完整、可以单独理解的中文问题。"
    "只输出改写后的问题，不要回答，不要解释。\n\n对话历史：\n{history}\n\n追问：{question}\n改写后的问题："
)


def is_follow_up(question: str) -> bool:
    q = question.strip()
    return len(q) <= _MAX_FOLLOW_UP_CHARS and bool(_FOLLOW_UP.search(q))


def rule_rewrite(question: str, history: Sequence[Turn]) -> str:
    """Swap the new place into the previous question, or append the new subject to it."""
    if not history or not is_follow_up(question):
        return question
    previous = history[-1].question.strip()
    gazetteer = load_gazetteer()
    new_places = gazetteer.mentions(question)
    old_places = gazetteer.mentions(previous)
    if new_places and old_places:
        rewritten = previous
        for _, alias, _ in old_places:
            rewritten = rewritten.replace(alias, "\0")
        return re.sub("\0+", new_places[0][1], rewritten, count=1).replace("\0", "")
    subject = _FILLER.sub("", question.strip())
    if new_places:
        return f"{subject}{previous}" if subject else previous
    return f"{previous.rstrip('？?。')}（{subject}）？" if subject else previous


def llm_rewrite(question: str, history: Sequence[Turn], chat_model: Any) -> str | None:
    """The model's standalone question, or None when its output does not look like one."""
    lines = []
    for turn in history[-3:]:
        lines.append(f"用户：{turn.question}")
        if turn.answer:
            lines.append(f"助手：{turn.answer[:200]}")
    prompt = _PROMPT.format(history="\n".join(lines), question=question)
    try:
        out = chat_model.bind(max_tokens=60).invoke(prompt).content
    except Exception:  # any provider failure falls back to the rule
        return None
    text = str(out).strip().splitlines()[0].strip() if str(out).strip() else ""
    text = text.removeprefix("改写后的问题：").strip("“”\" ")
    if not text or len(text) > 80 or len(text) < 4:
        return None
    return text


def acceptable(candidate: str, question: str, history: Sequence[Turn]) -> bool:
    """A model's rewrite is used only when it is standalone and keeps every place the follow-up names.

    (The 0.5B model answered "那乐山呢？" with "乐山呢？", and "那自贡呢？" after a question about 乐山
    with the 乐山 question again: both are refused for the rule's rewrite.)
    """
    if is_follow_up(candidate) or candidate == question.strip():
        return False
    gazetteer = load_gazetteer()
    new_places = {full for _, full in gazetteer.places(question)}
    return new_places <= {full for _, full in gazetteer.places(candidate)}


def only_places(question: str, history: Sequence[Turn]) -> bool:
    """Whether the follow-up names a new place and nothing else ("那乐山呢？") after a question naming a place.

    Then the question is the previous one with the place swapped, by definition: the rule
    writes it exactly, and a model could only drift from it (seen: "那乐山呢？" after a
    question on 党建指导员 rewritten as a question on 乐山's 党建联盟).
    """
    gazetteer = load_gazetteer()
    rest = _FILLER.sub("", question.strip())
    for _, alias, _ in gazetteer.mentions(question):
        rest = rest.replace(alias, "")
    return bool(gazetteer.mentions(question)) and not rest.strip("，,的") and \
        bool(gazetteer.mentions(history[-1].question))


def rewrite(question: str, history: Sequence[Turn], chat_model: Any = None) -> tuple[str, RewriteSource]:
    """(standalone question, who wrote it): the rule's for a place-only follow-up, else the model's
    rewrite when acceptable, else the rule's."""
    if not history or not is_follow_up(question):
        return question, ""
    if chat_model is not None and not only_places(question, history):
        rewritten = llm_rewrite(question, history, chat_model)
        if rewritten and acceptable(rewritten, question, history):
            return rewritten, "model"
    return rule_rewrite(question, history), "rule"


def standalone_question(question: str, history: Sequence[Turn], chat_model: Any = None) -> str:
    """``question`` made standalone using ``history``; unchanged when it is not a follow-up."""
    return rewrite(question, history, chat_model)[0]
