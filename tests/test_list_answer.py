"""Lists of people the model cut short (``rag.list_answer``), through the real sample knowledge base.

The chat model is a LangChain fake that names one person where the shown quotes name two;
retrieval, evidence selection, the check that a quote states the answer, and citation
verification are the real ones.
"""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag.chain import ask
from rag.list_answer import MORE_ITEMS_NOTICE, asks_for_people

_QUESTION = "哪些党员带头开展技术攻关？"  # the quotes name 郭宏新 (中圣科技) and 彭方明 (his 工作室)


@pytest.mark.parametrize(("question", "people"), [
    ("《护卫者》的主演是谁？", True),
    ("《心居》的主演有哪些", True),
    ("2023年男篮世界杯中国男篮同组对手有谁？", True),
    ("哪些中国斯诺克选手被终身禁赛", True),
    (_QUESTION, True),
    ("《七人乐队》的导演是谁？", False),  # one person
    ("北京冬奥会男子1500米速度滑冰中谁获得了金牌？", False),
    ("有哪些企业组建了党员攻坚队或突击队？", False),  # the 哪些 asks for 企业
    ("哪些地区在企业设立了党员示范岗？", False),  # ... for places (cross-case lines)
    ("马英九访问大陆去了哪些城市", False),
])
def test_a_question_for_several_people_is_told_from_one_for_one_person_or_for_things(question, people):
    assert asks_for_people(question) is people


def test_a_list_of_people_the_model_cut_short_is_followed_by_the_quote_naming_the_others(sample_kb):
    shown = ask(sample_kb, _QUESTION, llm="none").evidence
    peng = next(c for c in shown if "彭方明" in c.quote)
    guo = next(c for c in shown if "郭宏新" in c.quote)
    model = FakeListChatModel(responses=[f"彭方明带头组建了“彭方明工作室”，合力攻关[{peng.n}]。"])
    answer = ask(sample_kb, _QUESTION, chat_model=model, llm="local")
    assert answer.answered_by == "model" and answer.fallback == "more_items"
    first, added = answer.text.split("\n")  # the model's line (with its clause of the article), then the quote
    assert first.startswith("彭方明带头组建了“彭方明工作室”，合力攻关") and first.endswith(f"[{peng.n}]。")
    assert added == f"另据资料：{guo.quote}[{guo.n}]"
    assert {c.n for c in answer.citations} == {peng.n, guo.n}  # both kept by the check against the article text
    assert answer.notice == MORE_ITEMS_NOTICE


def test_a_list_that_already_names_everyone_is_left_as_the_model_said_it(sample_kb):
    shown = ask(sample_kb, _QUESTION, llm="none").evidence
    marks = "".join(f"[{c.n}]" for c in shown)
    model = FakeListChatModel(responses=[f"郭宏新和彭方明带头开展技术攻关{marks}。"])
    answer = ask(sample_kb, _QUESTION, chat_model=model, llm="local")
    assert answer.answered_by == "model" and answer.fallback == ""
    assert "另据资料" not in answer.text
