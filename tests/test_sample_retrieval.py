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


def test_a_question_naming_one_place_also_gets_that_places_chunks_the_cap_left_out(sample_kb):
    from rag.regions import article_place

    k = sample_kb.settings.search_k
    result = search(sample_kb, "上饶经开区受理了多少个企业问题？", place_extra=True)
    figure = [h for h in result if "204个" in h.chunk.text]
    assert figure and "上饶" not in figure[0].chunk.text  # the chunk never names its place
    top, extra = result.hits[:k], result.hits[k:]
    assert figure[0] in extra  # the per-article cap kept it out of the first k
    assert {h.chunk.source for h in top} & {A4} and all(h.chunk.source == A4 for h in extra)
    assert all(article_place(h.chunk.title, h.chunk.regions) == "江西省上饶市" for h in extra)
    assert len({h.chunk.chunk_id for h in result}) == len(result)
    assert "place" in result.timings_ms
    assert search(sample_kb, "上饶经开区受理了多少个企业问题？").hits == top  # rag search, the API: k hits
    unplaced = search(sample_kb, "楼宇党建怎么做？", place_extra=True)
    assert len(unplaced) <= k and "place" not in unplaced.timings_ms


def test_a_sentence_is_read_as_about_its_articles_place_when_it_does_not_name_it(sample_kb):
    from rag.chain import ask

    answer = ask(sample_kb, "上饶经开区和自贡高新区分别受理或解决了多少个企业问题？", llm="none")
    first, second = answer.text.split("二、")
    assert "204个" in first and "192个" in second  # neither sentence names 上饶 or 自贡
    document = {c.source: sample_kb.document(c.source) for c in answer.citations}
    assert all(document[c.source].text[c.start:c.end] == c.quote for c in answer.citations)


def test_a_sentence_using_an_abbreviation_holds_the_full_name_the_question_uses(tmp_path, embeddings, shared):
    """crud "美国7月份的消费者价格指数环比上涨了多少个百分点？": the report says "美国CPI…高0.2个百分点", and a
    PMI report's "…购进价格指数和出厂价格指数…上升7.4和4.7个百分点" came first because it repeats the
    question's words. Through a real knowledge base of the two crud articles."""
    import shutil

    from ingest.pipeline import ingest_paths
    from rag.abbreviations import equivalent_tokens
    from rag.chain import ask
    from rag.knowledge import KnowledgeBase
    from tests.conftest import make_settings

    assert "gdp" in equivalent_tokens("全年实现地区生产总值40269.6亿元") and "国企" in equivalent_tokens("国有企业")
    assert {"消费者", "价格指数"} <= equivalent_tokens("美国CPI同比增速首次反弹")
    assert "中国" in equivalent_tokens("2021年，我国国内生产总值比上年增长8.1%")  # RGB: "2021年中国经济增长了多少"
    assert not equivalent_tokens("李家超高票当选")
    assert "国企" not in equivalent_tokens("中国企业") and not equivalent_tokens("居民企业")  # 国企, 民企 as words
    folder = tmp_path / "docs"
    folder.mkdir()
    cpi, pmi = "crud-074c096b6756.txt", "crud-091ef483b7a1.txt"
    for name in (cpi, pmi):
        shutil.copy(shared / "evalsets" / "crud_news_zh" / "docs" / name, folder / name)
    kb = KnowledgeBase(make_settings(tmp_path / "kb"), embeddings=embeddings)
    ingest_paths(kb, [folder])
    answer = ask(kb, "美国7月份的消费者价格指数环比上涨了多少个百分点？", llm="none")
    first = answer.citations[0]
    assert first.source == cpi and "CPI" in first.quote and "0.2个百分点" in first.quote
    assert all(kb.document(c.source).text[c.start:c.end] == c.quote for c in answer.citations)


def test_a_chunk_stating_the_figure_the_question_states_ranks_first(tmp_path, embeddings, shared):
    """crud "哪家公司的股价上涨了8%？": the article saying "迪克森科技…当天上涨了大约8%" was ranked first by BM25 but
    25th by meaning, and a same-topic article without the figure (first by meaning, second by BM25) came first.
    A chunk stating every figure the question states with its unit ranks as if one more retriever put it first.
    Through a real knowledge base of the crud articles."""
    import shutil

    from ingest.pipeline import ingest_paths
    from rag.chain import ask
    from rag.knowledge import KnowledgeBase
    from rag.retrieval import _stated_figures
    from tests.conftest import make_settings

    [eight] = _stated_figures("哪家公司的股价上涨了8%？")
    assert eight.search("当天上涨了大约8%。") and not eight.search("上涨了18%") and not eight.search("上涨了0.8%")
    assert not eight.search("8月14日讯")
    # dates, years and the numbers in names are not stated figures
    for question in ("2023年7月份中国制造业PMI是多少？", "截至2023年8月3日，永定河的水位如何？", "《流浪地球2》的主演",
                     "2022年G20峰会的时间和地点？", "MU5735航班坠毁的时间"):
        assert not _stated_figures(question), question
    assert [p.search("男子500米速度滑冰") is not None for p in _stated_figures("女子和男子500米速度滑冰金牌")] == [True]
    folder = tmp_path / "docs"
    folder.mkdir()
    answering = "crud-de32d846242e.txt"
    for name in (answering, "crud-060c41beb195.txt", "crud-cadcbff12a0a.txt", "crud-dd87bd86b773.txt"):
        shutil.copy(shared / "evalsets" / "crud_news_zh" / "docs" / name, folder / name)
    kb = KnowledgeBase(make_settings(tmp_path / "kb"), embeddings=embeddings)
    ingest_paths(kb, [folder])
    question = "哪家公司的股价上涨了8%？"
    first = search(kb, question, 4)[0]
    assert first.chunk.source == answering and "8%" in first.chunk.text
    quote = ask(kb, question, llm="none").citations[0]
    assert quote.source == answering and "迪克森科技" in quote.quote and "8%" in quote.quote
