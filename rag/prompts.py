"""The answer prompt: the system and question text, the numbered evidence as the model sees it.

One prompt serves every answer: a one-thing question with its best passages, and each
part of a multi-part question with that part's passages (``rag.chain`` asks the parts one
by one); a cross-case question asks for one line per place instead (``CASES_HUMAN_PROMPT``).
Deliberately not here: which passages are shown (``rag.chain``), parsing the
answer (``rag.citations``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.citations import without_marks
from rag.compose import place_of
from rag.types import Citation

SYSTEM_PROMPT = (
    "你是党建工作案例问答助手。只根据用户提供的编号资料，用简体中文回答。"
    "要求：每句话末尾用资料编号标注出处，例如[1]或[1][2]；不使用资料以外的知识，不编造数字；"
    "资料不能回答问题时，只回答“资料中没有找到相关内容”；回答简洁，不超过200字。"
)
HUMAN_PROMPT = "资料：\n{context}\n\n问题：{question}\n请只根据资料回答，每句话末尾标注资料编号，如[1]。"
# A cross-case question: one line per place (``rag.case_lines`` forces the lines' heads for llama.cpp).
CASES_HUMAN_PROMPT = (
    "资料：\n{context}\n\n问题：{question}\n请按地方逐条回答：每个地方一行，只写一句话："
    "用资料原话写出该地的具体做法和数字，不超过40字，行末标注出处编号，如[1]。"
)
_RELATIVE_PLACES = re.compile(r"其他地方|别的地方|其他地区|其它地方|其它地区|外地")


def evidence_block(evidence: Sequence[Citation]) -> str:
    """The numbered evidence as given to the model: place and quote, nothing else.

    Titles are left out: they are long (prompt reading dominates latency) and
    small models copied "(place｜title)" headers into their answers. An article's own footnote
    marks ("…首次会面[4]", "【4】", from web encyclopedias) are left out of its quote too: they look like
    the evidence numbers the model cites by, so every shape ``rag.citations`` reads as a mark is taken out.
    """
    return "\n".join(f"[{c.n}] {place_of(c)}：{without_marks(c.quote)}" for c in evidence)


def model_question(question: str) -> str:
    """"其他地方…" is relative to nothing the model can see (the 1.5B answered 资料中没有找到); ask "各地…"."""
    return _RELATIVE_PLACES.sub("各地", question)


def generation_prompt(human: str = HUMAN_PROMPT) -> Any:
    """The answer prompt (system + ``human``) as a LangChain ``ChatPromptTemplate``."""
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", human)])


def generation_inputs(evidence: Sequence[Citation], question: str) -> dict[str, str]:
    """What fills the answer prompt for a standalone ``question`` and its numbered evidence."""
    return {"context": evidence_block(evidence), "question": model_question(question)}


def generation_chain(chat_model: Any, human: str = HUMAN_PROMPT) -> Any:
    """prompt | chat model | string parser."""
    from langchain_core.output_parsers import StrOutputParser

    return generation_prompt(human) | chat_model | StrOutputParser()
