"""Case comparison over the real sample knowledge base, and the crawled-news metadata the cards show."""

from __future__ import annotations

import json

import pytest

from ingest.metadata import extract_metadata
from rag.casecards import topic
from rag.cases import find_cases, province_of, topic_of
from rag.errors import RagError
from tests.conftest import ROOT
from tests.test_cli import rag

GUIDES = "党建指导员"


def test_topic_and_its_distinctive_words_come_from_the_question():
    assert topic_of("其他地方是怎么做楼宇党建的？") == "楼宇党建"
    assert topic_of("各地怎样选派党建指导员？") == "党建指导员"
    assert topic_of("两新组织党建有哪些做法？") == "两新组织党建"
    assert topic_of("哪些地方有红色驿站") == "红色驿站"
    assert topic_of("哪些地方建了红色驿站？") == "红色驿站"  # a leading 建了 is not part of the topic
    variants = topic("楼宇党建").pattern
    assert all(variants.search(v) for v in ("楼宇党建", "楼宇党委", "商务楼宇党组织", "楼宇联合党支部"))
    assert not variants.search("楼宇经济") and not variants.search("楼宇的党员")
    assert topic("党建指导员").pattern.search("党建工作指导员")
    assert province_of("四川省乐山市") == "四川" and province_of("北京市朝阳区") == "北京"
    assert province_of("广西壮族自治区南宁市") == "广西"


def test_every_article_on_the_topic_is_a_case_with_verbatim_quotes(sample_kb):
    report = find_cases(sample_kb, "其他地方是怎么选派党建指导员的？")
    texts = {s.source: sample_kb.document(s.source).text for s in sample_kb.sources()}
    about = {source for source, text in texts.items() if GUIDES in text or "党建工作指导员" in text}
    assert {c.source for c in report.cases} == about and report.matched == 5  # all of them, not the top k
    assert "004_80e31c2401ce812c.txt" in about and GUIDES not in texts["004_80e31c2401ce812c.txt"]  # a variant
    for card in report.cases:
        assert card.measures or card.results
        for q in (*card.measures, *card.results):
            assert texts[card.source][q.start:q.end] == q.quote
    assert [c.score for c in report.cases] == sorted((c.score for c in report.cases), reverse=True)
    assert sum(n for _, n in report.by_region) == report.matched
    header = report.header()
    assert header.startswith("资料中共有 5 篇文章涉及党建指导员，分布在 3 个省（区、市）：四川 3、")
    roundup = next(c for c in report.cases if c.source.startswith("000_"))
    assert roundup.regions == ("四川省乐山市",)  # the roundup's 党建指导员 sentences are about 沙湾区, 乐山
    leshan = next(c for c in report.cases if c.regions == ("四川省乐山市",))
    assert any("807" in q.quote for q in (*leshan.measures, *leshan.results))


def test_region_and_date_filters_and_bad_dates(sample_kb):
    only = find_cases(sample_kb, GUIDES, region="四川")
    assert only.matched == 3 and all(c.regions[0].startswith("四川") for c in only.cases)
    assert find_cases(sample_kb, GUIDES, since="2099").matched == 0
    with pytest.raises(RagError, match="无法识别日期"):
        find_cases(sample_kb, GUIDES, since="去年")
    assert find_cases(sample_kb, "火星基地党建").header() == "资料中没有找到涉及火星基地党建的文章。"


def test_cases_json_contract_through_the_cli(sample_kb, tmp_path):
    from ingest.pipeline import ingest_paths
    from rag.data import sample_dir
    from rag.knowledge import KnowledgeBase
    from tests.conftest import make_settings

    data = tmp_path / "data"
    kb = KnowledgeBase(make_settings(data), embeddings=sample_kb.embeddings)
    ingest_paths(kb, [sample_dir()])
    result = rag(data, "cases", "楼宇党建", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"question", "topic_terms", "matched", "by_region", "cases", "overview", "timings_ms"}
    assert payload["matched"] == len(payload["cases"]) >= 1 and payload["overview"] is None
    assert payload["cases"][0]["regions"] == ["山东省青岛市"]  # the roundup's 楼宇党建 case is 市北区's
    for card in payload["cases"]:
        assert set(card) == {"source", "title", "regions", "organisation", "date", "outlet", "score", "measures",
                             "results", "summary"}
        for q in card["measures"] + card["results"]:
            assert kb.document(card["source"]).text[q["start"]:q["end"]] == q["quote"]
    text = rag(data, "cases", "楼宇党建")
    assert "资料中共有" in text.stdout and "做法：“" in text.stdout and "以上列出全部" in text.stdout


@pytest.mark.parametrize(("head", "date", "outlet", "title"), [
    ("2023-07-25 06:14:22，正文：本报宁波7月24日电 （记者窦皓）集卡司机家里有病人。社区帮忙。",
     "2023-07-25", "", "集卡司机家里有病人"),
    ("2023-08-09 14:34 来源： 红星新闻网 ，正文：成都推进楼宇党建。", "2023-08-09", "红星新闻网", "成都推进楼宇党建"),
    ("202308/1407:48:11，正文： 集市，是乡村经济组织形式。", "2023-08-14", "", "集市，是乡村经济组织形式"),
    ("23-07-25 05:48，正文：原标题：三台子街道的新办法\n正文。", "2023-07-25", "", "三台子街道的新办法"),
    ("华夏经纬网 > 新闻 > 大陆新闻 2023-07-31 18:01:51 ，正文：科技是第一生产力。", "2023-07-31", "华夏经纬网",
     "科技是第一生产力"),
])
def test_crawled_news_prefixes_become_date_outlet_and_a_clean_title(head, date, outlet, title):
    meta = extract_metadata(head, "fallback")
    assert (meta.date, meta.outlet, meta.title) == (date, outlet, title)
    assert "正文" not in meta.title


def test_sentence_classifier_against_hand_labelled_sentences():
    """54 sentences of the sample and news articles labelled by reading (eval/gold/sentence_labels.jsonl)."""
    from rag.casecards import classify

    rows = [json.loads(line) for line in (ROOT / "eval/gold/sentence_labels.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) >= 50 and {r["label"] for r in rows} == {"做法", "成效", "背景"}
    right = sum(classify(r["sentence"]) == r["label"] for r in rows)
    assert right / len(rows) >= 0.8, right / len(rows)
    for label in ("做法", "成效"):  # each kind is found, not just the majority class
        of_kind = [r for r in rows if r["label"] == label]
        assert sum(classify(r["sentence"]) == label for r in of_kind) / len(of_kind) >= 0.6
