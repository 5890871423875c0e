"""The answer chain: question → retrieval → numbered evidence → model → verified citations.

``ask_stream`` yields events in the order a user should see them: the
evidence first (as soon as retrieval is done, before any model output), then
the model's tokens, then the final ``Answer``. ``ask`` returns only the final
answer. The generation step is a LangChain chain (prompt | chat model | string
parser); its output goes through ``rag.citations`` so the answer cites only
evidence that was actually shown, and every quote is checked against the
stored article text.

Refusal: a place the knowledge base does not cover, evidence under the
calibrated relevance threshold, or a model saying the materials do not answer
give ``refused=True`` and a plain "资料中没有找到…" with nearby material labelled
as such — except that a model's refusal of evidence far above that threshold
(``override_refusal_relevance``), or of a shown quote that states the answer by a check
outside the model (``rag.evidence.states_answer``, ``override_refusal_coverage``; for a
multi-part question, a part's quote that states that part), gives the evidence answer with a
notice. A model
that fails, times out, writes only marks, cites no quote it was shown, gives a short answer ("北京市[1]")
that stands in none of its cited quotes, or whose every claim states a figure
its quote does not contain degrades to the evidence-only answer, with a notice
saying so. A short model sentence keeps its words and gets the clause of its cited
quote it was taken from ("807名党建指导员（原文：…担任“红色向导”）[1]", ``rag.support``).
``Answer.answered_by`` says which of these made the final text and ``Answer.fallback``
why the evidence was used.

A multi-part question ("A和B分别…", ``rag.parts``) is retrieved part by part and
answered part by part (``rag.part_answer``): the model is asked each answerable part on
its own, with that part's best ``model_evidence_k`` passages, and the answers are joined.
A one-thing question shows the model only its best ``model_evidence_k`` passages; the
user still sees all of them. A list of people the model cut short ("…的主演是谁") is followed
by the shown quotes that state the answer and name others (``rag.list_answer``). A
cross-case question whose evidence spans two or more articles is answered one line per
article (``rag.case_lines``; for the local llama.cpp server, or an ``openai:`` endpoint that takes a
GBNF grammar in ``RAG_OPENAI_GRAMMAR_FIELD``, a grammar forces each line's place and marks).
Which passages, question and prompt each model call gets is ``rag.model_calls``; the prompt texts
are ``rag.prompts``.

Timings (``Answer.timings_ms``, milliseconds) belong to the call: the stages
``load`` (embedding model, Chroma, BM25, only when not yet open), ``rewrite``,
``retrieve`` (search and evidence selection) and ``load_model``, and the
milestones since the call started ``evidence``, ``first_token``, ``generate``
and ``total``.

Deliberately not here: provider construction (``rag.llm``), UI or CLI output.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rag.case_lines import tidy_case_lines
from rag.citations import only_attribution, parse_answer, states_something, unquoted_short, verify_quotes
from rag.compose import compose_answer, compose_parts, refusal_text
from rag.config import Settings
from rag.evidence import Evidence, select_evidence, states_answer
from rag.knowledge import KnowledgeBase
from rag.list_answer import more_names
from rag.llm import LlmChoice, grammar_field, make_chat_model, parse_llm
from rag.model_calls import ModelCall, call_chain, model_calls
from rag.part_answer import PartSplit, complete_parts, join_part_answers, split_evidence
from rag.part_clauses import attribute_questions
from rag.parts import question_parts
from rag.prompts import generation_inputs
from rag.refusal import is_refusal, is_weak, missing_regions
from rag.retrieval import search
from rag.rewrite import is_follow_up, rewrite
from rag.support import add_support
from rag.timing import Timer
from rag.types import Answer, Citation, EventKind, Fallback, Turn

_RELATED_ON_REFUSAL = 3


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: ``evidence``, ``waiting`` (queued for the model), ``token``, ``answer``."""

    kind: EventKind
    evidence: tuple[Citation, ...] = ()
    token: str = ""
    answer: Answer | None = None


def ask_stream(
    kb: KnowledgeBase,
    question: str,
    *,
    llm: str | None = None,
    chat_model: Any = None,
    history: Sequence[Turn] = (),
    k: int | None = None,
    region: str | None = None,
    sources: Sequence[str] | None = None,
) -> Iterator[Event]:
    """Answer ``question`` from ``kb``, yielding evidence, tokens, then the ``Answer``.

    ``llm`` overrides the ``RAG_LLM`` setting; ``chat_model`` injects a ready
    LangChain chat model (tests, the UI's shared instance) and is then labelled ``llm``.
    """
    settings = kb.settings
    timer = Timer()
    choice = parse_llm(llm or settings.llm, settings)
    notice = ""
    if chat_model is None and choice.kind != "none" and is_follow_up(question) and history:
        with timer.stage("load_model"):
            chat_model, notice = _load_model(choice, settings)  # rewriting needs it before retrieval
    with timer.stage("rewrite"):
        standalone, rewritten_by = rewrite(question, history, chat_model)
    if not kb.is_open:
        with timer.stage("load"):  # the embedding model, Chroma and BM25: not retrieval time
            kb.open()
    parts = question_parts(standalone)
    if not parts and choice.kind != "none":  # the model reads one attribute at a time; the quotes show them together
        parts = attribute_questions(standalone)
    split: PartSplit | None = None
    with timer.stage("retrieve"):
        if parts:
            split, hits = split_evidence(kb, parts, k, region, sources)
            picked = list(split.found.evidence)
        else:
            hits = list(search(kb, standalone, k, region, sources, place_extra=True))
            picked = select_evidence(kb, standalone, hits, settings.evidence_k)
    evidence = tuple(e.citation for e in picked)
    base = Answer(question=question, text="", citations=(), llm=choice.label, retrieved=tuple(hits),
                  evidence=evidence, standalone_question=standalone, notice=notice, rewritten_by=rewritten_by,
                  parts=parts)

    missing = missing_regions(kb, standalone, sources)
    if split is not None and any(split.answered):
        missing = []  # "乐山和南山区分别…": the parts the articles cover are answered, the others say so
    if missing or is_weak(max((e.relevance for e in picked), default=None), settings.relevance_threshold) \
            or (split is not None and not any(split.answered)):
        yield from _refuse(base, missing, picked, timer)
        return
    yield Event("evidence", evidence=evidence)
    timer.mark("evidence")
    if chat_model is None and choice.kind != "none" and not notice:
        with timer.stage("load_model"):
            chat_model, notice = _load_model(choice, settings)  # after the evidence is on screen
    if chat_model is None:
        timer.mark("generate")
        yield _final(kb, _evidence_answer(base, notice, split, "unavailable" if notice else ""), timer)
        return

    slots = generation_slots(settings.llm_concurrency)
    if not slots.acquire(blocking=False):
        yield Event("waiting")  # the UI says "queued"; retrieval above never waits here
        if not slots.acquire(timeout=settings.llm_queue_timeout_s):
            busy = "模型繁忙（排队超时），以下为根据原文摘录整理的答案。"
            timer.mark("generate")
            yield _final(kb, _evidence_answer(base, busy, split, "busy"), timer)
            return
    try:
        yield from _generate(kb, chat_model, base, picked, timer, split, grammar_field(choice, settings))
    finally:
        slots.release()


def _generate(kb: KnowledgeBase, chat_model: Any, base: Answer, picked: list[Evidence],
              timer: Timer, split: PartSplit | None = None, grammar_key: str = "") -> Iterator[Event]:
    settings = kb.settings
    calls = model_calls(base, split, settings.model_evidence_k)
    texts: list[str] = []
    first = True
    try:
        deadline = time.monotonic() + settings.llm_timeout_s
        for call in calls:
            if texts:
                yield Event("token", token="\n")  # the next part's answer on its own line
            tokens: list[str] = []
            chain = call_chain(chat_model, call, grammar_key)
            for token in chain.stream(generation_inputs(call.quotes, call.question)):
                if first:  # the first token of any part (a first part may come back empty)
                    timer.mark("first_token")
                    first = False
                tokens.append(token)
                yield Event("token", token=token)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"超过 {settings.llm_timeout_s:.0f} 秒")
            texts.append(tidy_case_lines("".join(tokens)) if call.by_case else "".join(tokens))
    except Exception as exc:  # the user still gets the evidence-only answer
        timer.mark("generate")
        failed = f"模型生成失败（{type(exc).__name__}: {str(exc)[:120]}），以下为根据原文摘录整理的答案。"
        yield _final(kb, _evidence_answer(base, failed, split, "failed"), timer)
        return
    timer.mark("generate")
    if split is None:
        raw = texts[0]
    else:
        raw, left_out = join_part_answers(texts, [call.quotes for call in calls], [call.question for call in calls])
        asked = [split.parts.index(call.question) for call in calls]  # one call per answerable part
        split = replace(split, left_out=frozenset(asked[i] for i in left_out))
    answer = _from_model(raw, base, picked, lambda: _refusal_contradicted(kb, picked, calls), split,
                         support=not calls[0].by_case)
    question = base.standalone_question or base.question
    yield _final(kb, more_names(answer, lambda c: states_answer(kb, question, [c], settings.override_refusal_coverage)),
                 timer)


def _refusal_contradicted(kb: KnowledgeBase, picked: list[Evidence], calls: list[ModelCall]) -> bool:
    """The evidence answers what the model refused: far above the answerable level, or a quote shown for a
    question (the whole one, or one part of a multi-part question) states what it asks."""
    settings = kb.settings
    return (max((e.relevance for e in picked), default=0.0) >= settings.override_refusal_relevance
            or any(states_answer(kb, call.question, call.quotes, settings.override_refusal_coverage)
                   for call in calls))


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def generation_slots(limit: int) -> threading.BoundedSemaphore:
    """The process-wide queue in front of the models: at most ``limit`` generations at once."""
    with _slots_lock:
        return _slots.setdefault(limit, threading.BoundedSemaphore(limit))


def _load_model(choice: LlmChoice, settings: Settings) -> tuple[Any, str]:
    """(chat model, "") or (None, a notice saying why the evidence-only answer is given)."""
    try:
        return make_chat_model(choice, settings), ""
    except Exception as exc:  # any failure degrades to the evidence-only answer
        return None, f"模型“{choice.label}”不可用（{exc}），以下为根据原文摘录整理的答案。"


def _refuse(base: Answer, missing: list[str], picked: list[Evidence], timer: Timer) -> Iterator[Event]:
    related = tuple(e.citation for e in picked[:_RELATED_ON_REFUSAL])
    yield Event("evidence", evidence=related)
    timer.mark("evidence")
    timer.mark("generate")
    text = refusal_text(missing, related)
    answer = replace(base, text=text, refused=True, evidence=related, citations=related, answered_by="refusal")
    yield Event("answer", answer=replace(answer, timings_ms=timer.ms()))


def _from_model(raw: str, base: Answer, picked: list[Evidence], contradicted: Callable[[], bool],
                split: PartSplit | None = None, support: bool = True) -> Answer:
    """The final answer from the model's text; ``contradicted`` is asked only when the model refused.

    With ``support``, each cited claim gets the clause of its quote it was taken from (``rag.support``).
    """
    evidence = base.evidence
    quotes = {c.n: c.quote for c in evidence}
    question = base.standalone_question or base.question
    parsed = parse_answer(raw, quotes, question, {c.n: c.title for c in evidence})
    if is_refusal(raw):
        if contradicted():  # show the evidence rather than a refusal it contradicts
            return _evidence_answer(base, "模型未能从资料中作答，但资料与问题高度相关，以下为根据原文摘录整理的答案。",
                                    split, "refused_against_evidence")
        related = tuple(e.citation for e in picked[:_RELATED_ON_REFUSAL])
        return replace(base, text=refusal_text([], related), refused=True, citations=related, answered_by="refusal")
    if not states_something(parsed.text, question) or only_attribution(parsed.text, question):
        # "[1][2]、[3]": marks without a statement (but "杨紫琼[1]", "58.1%[1]" answer); "…主任罗清明说[1]": who spoke
        return _evidence_answer(base, "模型的回答没有实质内容，以下为根据原文摘录整理的答案。", split, "empty")
    if parsed.only_unsupported:
        # every claim states a figure or names a person its quote does not: show the quotes, not a wrong answer
        numbers = parsed.only_unsupported_numbers
        what, fallback = ("数字", "unsupported_numbers") if numbers else ("名称", "unsupported_names")
        notice = f"模型回答中的{what}与所引原文不符，以下为根据原文摘录整理的答案。"
        return _evidence_answer(base, notice, split, fallback)
    if not parsed.cited:  # "萨斯诺维奇" and no mark (or only invented ones): nothing ties it to an article
        return _evidence_answer(base, "模型的回答没有标注出处，以下为根据原文摘录整理的答案。", split, "uncited")
    by_n = {c.n: c for c in evidence}
    cited = tuple(by_n[n] for n in sorted(parsed.cited))
    if unquoted_short(parsed.text, [s for c in cited for s in (c.quote, c.title)]):
        short = "模型的简短回答不在所引原文中，以下为根据原文摘录整理的答案。"  # "北京市[1]" for "…在北京…"
        return _evidence_answer(base, short, split, "unquoted_short")
    text = add_support(parsed.text, quotes, base.standalone_question) if support else parsed.text
    answer = replace(base, text=text, citations=cited, flagged=parsed.flagged, answered_by="model")
    return complete_parts(answer, split) if split is not None else answer


def _evidence_answer(base: Answer, notice: str, split: PartSplit | None = None, fallback: Fallback = "") -> Answer:
    """The evidence-only answer (quotes grouped by article and place, or by part), with ``notice`` saying why."""
    if split is not None:
        text = compose_parts(split.parts, base.evidence, split.found.numbers, split.answered)
    else:
        text = compose_answer(base.standalone_question, base.evidence)
    return replace(base, text=text, citations=base.evidence, notice=notice, answered_by="evidence",
                   fallback=fallback)


def _final(kb: KnowledgeBase, answer: Answer, timer: Timer) -> Event:
    verified = tuple(verify_quotes(answer.citations, kb.text_lookup()))
    return Event("answer", answer=replace(answer, citations=verified, timings_ms=timer.ms()))


def ask(kb: KnowledgeBase, question: str, **kwargs: Any) -> Answer:
    """The final ``Answer`` of ``ask_stream``."""
    for event in ask_stream(kb, question, **kwargs):
        if event.answer is not None:
            return event.answer
    raise AssertionError("ask_stream ended without an answer")
