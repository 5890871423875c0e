"""`rag search` finds each sample article when asked about a fact only it contains.

Questions are written by hand from the five bundled articles; each names a fact
that stands in one article only. Retrieval runs through the real model, real
Chroma and BM25.
"""

from __future__ import annotations

import itertools

import pytest

from rag.retrieval import search

A0, A1, A2, A3, A4 = (
    "000_bf203c546cd10514.txt", "001_e7f577296fd42bd4.txt", "002_c1bd32abbb7e348e.txt",
    "003_cb9038ba9ea812d0.txt", "004_80e31c2401ce812c.txt",
)

QUESTIONS = [
    ("青岛中泰信大厦的楼宇党委是怎么开展活动的？", A0),
    ("把楼宇作为“竖起来的园区”是哪里的做法？", A0),
    ("四方街道百姓宣讲团团长是谁？", A0),
    ("兴达公司有多少名员工和党员？", A1),
    ("江苏兴化市兴达公司的党员去哪里重温了入党誓词？", A1),
    ("钢帘线企业如何把艰苦奋斗精神融入技术创新？", A1),
    ("自贡非公企业和社会组织党组织覆盖率分别是多少？", A2),
    ("自贡有多少个“两新”组织纳入省级两新党建平台管理？", A2),
    ("自贡建立了多少个“小个专”党建指导站？", A2),
    ("威鹏电缆党支部用什么理念凝聚人心？", A2),
    ("乐山市的非公企业党建“红领带”行动是什么？", A3),
    ("尚纬股份有限公司党建氛围怎么样？", A3),
    ("乐山高新区建立了多少个红色驿站？", A3),
    ("上饶经开区傍罗办事处的篮球场是怎么建成的？", A4),
    ("上饶经开区如何推动“两个覆盖”有形有效？", A4),
    ("三新一高示范区是哪个地方提出的目标？", A4),
]


@pytest.mark.parametrize(("question", "source"), QUESTIONS, ids=[q for q, _ in QUESTIONS])
def test_question_finds_its_article_first(sample_kb, question, source):
    hits = search(sample_kb, question, k=5)
    assert hits[0].chunk.source == source, [(h.chunk.source, round(h.score, 3)) for h in hits]
    assert 0.0 < hits[0].score <= 1.0
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_hits_point_at_the_cleaned_text(sample_kb):
    for hit in search(sample_kb, "党建指导站", k=5):
        doc = sample_kb.document(hit.chunk.source)
        assert doc.text[hit.chunk.start:hit.chunk.end] == hit.chunk.text
        assert doc.original_offset(hit.chunk.start) >= 0
