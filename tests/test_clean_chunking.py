"""Cleaning and chunking: real sample files plus property tests."""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_text, count_tokens, sentence_spans
from ingest.clean import clean_text
from rag.data import sample_dir

SEED_003 = sample_dir() / "003_cb9038ba9ea812d0.txt"


def _check_offsets(raw: str, cleaned) -> None:
    covered = 0
    for clean_start, orig_start, length in cleaned.offset_runs:
        assert cleaned.text[clean_start:clean_start + length] == raw[orig_start:orig_start + length]
        covered += length
    assert covered >= len(cleaned.text.replace("\n", "").replace(" ", "")) * 0.99


def test_page_breaks_mid_sentence_are_joined():
    cleaned = clean_text(SEED_003.read_text("utf-8"))
    assert "党群活动中心" in cleaned.text
    assert "前行的方向" in cleaned.text
    assert "党\n" not in cleaned.text


def test_fullwidth_paragraph_markers_split_paragraphs_and_numbers_survive():
    raw = "标题\u3000\u3000第一段，覆盖率达97.5%，新增3.8万人。\u3000\u3000第二段说“红色引擎”「很好」。"
    cleaned = clean_text(raw)
    assert cleaned.text == "标题\n第一段，覆盖率达97.5%，新增3.8万人。\n第二段说“红色引擎”「很好」。"
    _check_offsets(raw, cleaned)


def test_stray_spaces_between_cjk_removed_in_body_but_bylines_kept():
    body = "近年来，四川省乐山市 认真贯彻落实有关论述，创新推出非公企业党建“红领带”行动，着力打基础、树标杆。"
    cleaned = clean_text(f"夏海军 自贡网记者 缪静\n{body}")
    assert cleaned.text.startswith("夏海军 自贡网记者 缪静\n")
    assert "乐山市认真贯彻" in cleaned.text


def test_every_sample_file_maps_back_to_its_original():
    for path in sorted(sample_dir().glob("*.txt")):
        raw = path.read_text("utf-8")
        cleaned = clean_text(raw)
        assert "\ufffd" not in cleaned.text
        assert "\n\n" not in cleaned.text and "\u3000" not in cleaned.text
        _check_offsets(raw, cleaned)


def test_sentences_keep_closing_quotes():
    text = "他说：“要抓好党建。”随后离开。"
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["他说：“要抓好党建。”", "随后离开。"]


def _assert_chunk_invariants(text: str, chunks, budget: int) -> None:
    assert chunks, "no chunks"
    assert chunks[0].start == len(text) - len(text.lstrip())
    for a, b in itertools.pairwise(chunks):
        assert b.start <= a.end or not text[a.end:b.start].strip(), "text between chunks is lost"
        assert b.start >= a.start, "chunks out of order"
    assert chunks[-1].end == len(text.rstrip())
    for c in chunks:
        assert c.text == text[c.start:c.end]
        assert count_tokens(c.text) <= budget
        assert "\ufffd" not in c.text
        for m in re.finditer(r"\d+\.\d+", text):
            assert not (c.start < m.end() and m.start() < c.start), "chunk starts inside a decimal"
            assert not (c.start < m.end() - 1 and m.start() < c.end < m.end()), "chunk ends inside a decimal"


def test_sample_articles_chunk_within_budget_and_cover_text():
    for path in sorted(sample_dir().glob("*.txt")):
        text = clean_text(path.read_text("utf-8")).text
        chunks = chunk_text(text, path.name, budget=320)
        _assert_chunk_invariants(text, chunks, 320)
        assert len({c.chunk_id for c in chunks}) == len(chunks)
        assert [c.chunk_id for c in chunk_text(text, path.name, budget=320)] == [c.chunk_id for c in chunks]


_pieces = st.sampled_from([
    "党建引领企业发展", "覆盖率达97.5%", "新增3.8万名党员", "，", "、", "。", "！", "？", "；", "“红色引擎”",
    "「两个覆盖」", "\n", "三会一课", "2023年", "abc", " ", "……", "楼宇党建工作指导员队伍建设",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(_pieces, min_size=1, max_size=200), st.integers(min_value=24, max_value=200),
       st.integers(min_value=0, max_value=2))
def test_chunking_properties(parts, budget, overlap):
    text = clean_text("".join(parts)).text
    if not text.strip():
        return
    chunks = chunk_text(text, "x.txt", budget=budget, overlap_sentences=overlap)
    _assert_chunk_invariants(text, chunks, budget)


def test_a_sentence_longer_than_the_budget_is_split_at_clauses_then_characters():
    sentence = "，".join(["党建引领企业发展覆盖率达97.5%"] * 40) + "。"
    chunks = chunk_text(sentence, "x.txt", budget=40)
    assert len(chunks) > 5
    _assert_chunk_invariants(sentence, chunks, 40)
