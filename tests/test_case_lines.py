"""Cross-case answers one line per article: the grammar, the trimming, and what the chain asks the model."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from pydantic import Field

from rag.case_lines import MAX_LINE_CHARS, asks_for_cases, case_grammar, case_heads, tidy_case_lines
from rag.chain import ask
from rag.citations import parse_answer
from rag.compose import article_groups
from rag.types import Citation
from tests.conftest import make_settings


def _quote(n: int, source: str, place: str) -> Citation:
    return Citation(n=n, source=source, title="t", regions=(place,), quote="q", start=0, end=1)


def test_the_grammar_has_one_line_per_article_with_its_place_and_only_its_marks():
    evidence = [_quote(1, "a", "四川省乐山市"), _quote(2, "b", "四川省自贡市"), _quote(3, "a", "四川省乐山市"),
                _quote(4, "c", "北京“市”")]
    grammar = case_grammar(evidence)
    assert case_heads(evidence) == [("四川省乐山市", (1, 3)), ("四川省自贡市", (2,)), ("北京“市”", (4,))]
    assert grammar.splitlines()[0] == "root ::= line0 line1 line2", "every article gets a line, none may be skipped"
    assert 'line0 ::= "- 四川省乐山市：" body ("[1]" | "[3]") ("[1]" | "[3]")? "。"?' in grammar
    assert 'line1 ::= "- 四川省自贡市：" body ("[2]") ("[2]")?' in grammar, "at most two marks: no endless [2][2]…"
    assert "资料中没有找到" not in grammar, "no refusal: the evidence already passed the relevance level"
    body = next(line for line in grammar.splitlines() if line.startswith("body ::="))
    assert "。" in body and "\\[" in body and f"{{4,{MAX_LINE_CHARS}}}" in body, "one sentence, marks only at its end"


def test_only_questions_about_what_places_did_are_answered_by_case():
    assert asks_for_cases("各地是怎样选派党建指导员的？")
    assert asks_for_cases("哪些地方建立了党建联盟？")
    assert asks_for_cases("哪些地区在企业设立了党员示范岗？")
    assert not asks_for_cases("台风“杜苏芮”可能在哪些地方登陆？"), "one event, not cases"
    assert not asks_for_cases("哪些地区维持防汛三级应急响应？")
    assert not asks_for_cases("乐山市从机关事业单位选派了多少名党建指导员？")


def test_a_line_cut_by_the_length_limit_loses_only_a_short_fragment():
    clause = "从机关、乡办选派77名党员干部到企业担任党建工作指导员，"
    body = (clause * 3)[:MAX_LINE_CHARS]
    fragment = body[body.rfind("，") + 1:]
    assert 0 < len(fragment) < 12
    tidied = tidy_case_lines(f"- 江西省上饶市：{body}[3]\n- 四川省自贡市：选派72名党建指导员[2]。\n")
    first, second = tidied.splitlines()
    assert first == f"- 江西省上饶市：{body[:body.rfind('，')]}[3]。", "the short fragment is dropped"
    assert second == "- 四川省自贡市：选派72名党建指导员[2]。", "a line the model ended itself is kept as written"
    long_tail = ("结合全区片区、网格划分,建立以部门联系网格、干部联系企业机制,"
                 "从机关、乡办选派77名党员干部到企业担任党建工作指导员和")
    assert len(long_tail) >= MAX_LINE_CHARS - 6
    kept = tidy_case_lines(f"- 江西省上饶市：{long_tail}[3]")
    assert kept == f"- 江西省上饶市：{long_tail[:-1]}[3]……", "a long last clause keeps its figure, marked as cut"
    assert parse_answer(kept, {3: long_tail}).flagged == (), "the ellipsis after the mark leaves the claim marked"


class _Recording(GenericFakeChatModel):
    """A fake chat model that records the messages and call options it was given."""

    calls: list[tuple[str, dict[str, Any]]] = Field(default_factory=list)

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
        self.calls.append(("\n".join(str(m.content) for m in messages), kwargs))
        yield from super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)


def test_a_cross_case_question_asks_one_line_per_article_and_binds_the_grammar_for_llama_cpp(sample_kb):
    """The grammar goes to the local llama.cpp server in its "grammar" field, and to an ``openai:`` endpoint only in
    the field ``RAG_OPENAI_GRAMMAR_FIELD`` names (none by default: DeepSeek or OpenAI itself would reject it)."""
    question = "各地是怎样选派党建指导员的？"
    shown = ask(sample_kb, question, llm="none").evidence
    groups = article_groups(shown)
    assert len(groups) >= 3
    reply = "\n".join(f"- 地方：选派党建指导员[{group[0].n}]" for group in groups)
    for llm, field, configured in (("local:0.5b", "grammar", ""), ("openai:some-model", "", ""),
                                   ("openai:some-model", "grammar", "grammar"),
                                   ("openai:some-model", "guided_grammar", "guided_grammar")):
        settings = make_settings(sample_kb.settings.data_dir, openai_grammar_field=configured)
        kb = type(sample_kb)(settings, embeddings=sample_kb.embeddings)
        model = _Recording(messages=iter([AIMessage(reply)]))
        answer = ask(kb, question, llm=llm, chat_model=model)
        (prompt, options), = model.calls
        assert "请按地方逐条回答" in prompt
        assert options.get("extra_body", {}) == ({field: case_grammar(answer.evidence)} if field else {}), (llm, field)
        assert answer.answered_by == "model"
        assert {c.source for c in answer.citations} == {group[0].source for group in groups}


def test_a_one_place_question_keeps_the_one_thing_prompt(sample_kb):
    model = _Recording(messages=iter([AIMessage("乐山市选派807名党建指导员[1]。")]))
    ask(sample_kb, "乐山市从机关事业单位选派了多少名党建指导员？", llm="local:0.5b", chat_model=model)
    (prompt, options), = model.calls
    assert "请按地方逐条回答" not in prompt and "extra_body" not in options
