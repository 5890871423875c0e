"""The quoted window of a chosen passage: the best by words, re-picked among close runners-up by meaning.

The logic tests give ``closest_windows`` a stand-in for the knowledge base's similarities; the last test
goes through the real knowledge base (Chroma, BM25, the embedding model) with a real article.
"""

from __future__ import annotations

import numpy as np

from rag.intent import question_intent
from rag.types import Chunk
from rag.windows import closest_windows, ranked_windows
from tests.conftest import knowledge_base_of

TELECOM = ("中新社香港8月8日电 中国电信股份有限公司(中国电信)8日在港公布2023年中期业绩。"
           "期内，中国电信经营收入2587亿元(人民币，下同)，同比增长7.7%，实现归母净利润202亿元，同比增长10.2%。"
           "根据财报，在2023年上半年，中国电信移动通信服务收入达1016亿元，同比增长2.7%；"
           "产业数字化业务收入为688亿元，同比增长16.7%，占服务收入比达到29.2%。")


class _Similarities:
    """Stands in for ``KnowledgeBase.similarities``: a fixed similarity per text fragment, and what was asked."""

    def __init__(self, by_fragment: dict[str, float]) -> None:
        self.by_fragment = by_fragment
        self.asked: list[str] = []

    def similarities(self, query: str, texts: list[str]) -> np.ndarray:
        self.asked += texts
        return np.array([next((v for f, v in self.by_fragment.items() if f in t), 0.0) for t in texts], np.float32)


def _chunk(text: str, title: str = "标题") -> Chunk:
    return Chunk(chunk_id="c", source="a.txt", ordinal=0, start=0, end=len(text), text=text, title=title)


def _ranked(text: str, question: str, terms: dict[str, float], place: frozenset[str] = frozenset()):
    return ranked_windows(text, terms, sum(terms.values()), question_intent(question), place)


def test_a_close_runner_up_nearer_in_meaning_is_quoted_instead_of_the_best_by_words():
    text = "甲公司上半年营业收入中海外收入占30%。\n\n公司经营收入同比增长8%。"  # two paragraphs: never one window
    question = "甲公司上半年营业收入同比增长多少？"
    terms = {"上半年": 1.0, "营业": 1.0, "收入": 1.0, "同比": 1.0, "增长": 0.6}
    ranked = _ranked(text, question, terms)
    assert "30%" in text[ranked[0][1][0]:ranked[0][1][1]]  # by words: 3 of 4.6 against 2.6
    assert "8%" not in text[ranked[0][1][0]:ranked[0][1][1]]
    kb = _Similarities({"30%": 0.30, "8%": 0.80})
    (s, e, _), = closest_windows(kb, question, [_chunk(text)], [ranked])
    assert "8%" in text[s:e]
    # nearer in meaning, but not enough: the best by words stays
    kb = _Similarities({"30%": 0.30, "8%": 0.40})
    (s, e, _), = closest_windows(kb, question, [_chunk(text)], [ranked])
    assert "30%" in text[s:e]


def test_no_runner_up_far_behind_lacking_the_asked_kind_or_shown_by_the_title_is_embedded():
    question = "北京高考出分时间是哪天？"
    terms = {"北京": 1.0, "高考": 1.0, "出分": 1.0, "时间": 1.0}
    far = "北京高考出分时间：6月25日。\n\n今天是6月1日，天气晴朗。"  # a date too, but none of the question's words
    kb = _Similarities({"天气": 0.99})
    (s, e, _), = closest_windows(kb, question, [_chunk(far)], [_ranked(far, question, terms)])
    assert "6月25日" in far[s:e] and kb.asked == []
    no_date = "北京高考出分时间：6月25日。\n\n北京高考出分时间将在官网公布。"  # as well covered, but no date
    kb = _Similarities({"官网": 0.99})
    (s, e, _), = closest_windows(kb, question, [_chunk(no_date)], [_ranked(no_date, question, terms)])
    assert "6月25日" in no_date[s:e] and kb.asked == []
    # the title line is close behind the dated one (its 2026年 counts as a date), but is shown above the quote
    titled = "2026年北京高考成绩查询入口\n\n高考成绩公布：6月25日"
    question, terms = "北京高考成绩公布时间", {"北京": 1.0, "高考": 1.0, "成绩": 1.0, "公布": 0.4}
    ranked = _ranked(titled, question, terms, frozenset({"北京"}))
    assert ranked[0][0][0] - ranked[1][0][0] < 0.15 and ranked[1][2] >= ranked[0][2]
    kb = _Similarities({"入口": 0.99})
    (s, e, _), = closest_windows(kb, question, [_chunk(titled, title="2026年北京高考成绩查询入口")], [ranked])
    assert "6月25日" in titled[s:e] and kb.asked == []


def test_the_quote_says_the_asked_figure_in_other_words_through_a_real_knowledge_base(tmp_path, embeddings):
    """crud: "营业收入" asked, "经营收入…同比增长7.7%" written; by words alone the quote was the sentence repeating
    "2023年上半年…收入…同比增长" about mobile services (2.7%)."""
    from rag.chain import ask

    kb = knowledge_base_of(tmp_path, embeddings, {"telecom.txt": TELECOM})
    answer = ask(kb, "中国电信在2023年上半年的营业收入同比增长了多少？", llm="none")
    assert answer.citations and "7.7%" in answer.citations[0].quote, answer.text
    quote = answer.citations[0]
    assert quote.quote == kb.document("telecom.txt").text[quote.start:quote.end]
