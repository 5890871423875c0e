"""What the model is asked for one answer: which passages, which question, which prompt.

A one-thing question is one call with its best ``model_evidence_k`` passages (the user still
sees all of them). A multi-part question (``rag.parts``) is one call per answerable part,
with that part's passages (asked together, the 1.5B left parts out or refused one part while
quoting its answer), those that speak of no other part first (the 1.5B answered the 布林肯
part of "布林肯和耶伦访华时间" from a first passage about 耶伦's visit). A cross-case question
gets all its passages, and when it asks what places did (``rag.case_lines.asks_for_cases``)
and they come from two or more articles, the by-place prompt, grammar-bound for the local
llama.cpp server (and for an ``openai:`` endpoint that takes a GBNF grammar, ``RAG_OPENAI_GRAMMAR_FIELD``).

Deliberately not here: streaming the calls and reading their answers (``rag.chain``), the
prompt texts (``rag.prompts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rag.case_lines import asks_for_cases, case_grammar
from rag.compose import article_groups
from rag.part_answer import PartSplit, own_first
from rag.parts import part_words
from rag.prompts import CASES_HUMAN_PROMPT, generation_chain
from rag.retrieval import is_cross_case
from rag.types import Answer, Citation


@dataclass(frozen=True)
class ModelCall:
    """One call to the model: the passages it is shown, the question it is asked, one line per place or not."""

    quotes: tuple[Citation, ...]
    question: str
    by_case: bool = False


def model_calls(base: Answer, split: PartSplit | None, top: int) -> list[ModelCall]:
    """The calls for ``base`` (its evidence and standalone question): one, or one per answerable part.

    ``top`` is how many passages a one-thing question or a part shows the model (0: all).
    """
    evidence, standalone = base.evidence, base.standalone_question
    if split is None:
        if is_cross_case(standalone):
            return [ModelCall(evidence, standalone, asks_for_cases(standalone) and len(article_groups(evidence)) > 1)]
        return [ModelCall(evidence[:top] if top else evidence, standalone)]
    by_n = {c.n: c for c in evidence}
    words = part_words(split.parts)
    calls = []
    for i, (part, numbers, answered) in enumerate(zip(split.parts, split.found.numbers, split.answered,
                                                      strict=True)):
        quotes = tuple(own_first([by_n[n] for n in numbers if n in by_n], words, i))
        if answered and quotes:
            calls.append(ModelCall(quotes[:top] if top else quotes, part))
    return calls


def call_chain(chat_model: Any, call: ModelCall, grammar_key: str) -> Any:
    """The LangChain chain for ``call``: the one-thing prompt, or one line per place, its grammar sent in the
    request-body field ``grammar_key`` ("grammar" for llama.cpp; empty: no grammar; ``rag.llm.grammar_field``)."""
    if not call.by_case:
        return generation_chain(chat_model)
    model = chat_model.bind(extra_body={grammar_key: case_grammar(call.quotes)}) if grammar_key else chat_model
    return generation_chain(model, CASES_HUMAN_PROMPT)
