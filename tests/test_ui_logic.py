"""UI logic without a browser: escaping, citation links, source windows, export, feedback, handlers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.types import Answer, Citation
from tests.conftest import make_settings
from ui.app import ALL_REGIONS, ChatApp, answer_modes, check_upload, region_choices
from ui.examples import example_questions
from ui.export import to_docx, to_markdown
from ui.feedback import append_feedback
from ui.render import ChatTurn, answer_html, conversation_html, source_window
from ui.serve import parse_auth

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def _citation(n: int = 1, quote: str = "选派807名党建指导员", source: str = "a.txt") -> Citation:
    return Citation(n=n, source=source, title="乐山标准", regions=("四川省乐山市",), quote=quote, start=10,
                    end=10 + len(quote))


def test_document_text_titles_and_names_are_escaped():
    c = Citation(n=1, source=f"{HOSTILE}.txt", title=HOSTILE, regions=(HOSTILE,), quote=HOSTILE, start=0,
                 end=len(HOSTILE))
    answer = Answer(question=HOSTILE, text=f"{HOSTILE}[1]", citations=(c,), evidence=(c,), notice=HOSTILE)
    turn = ChatTurn(uid="t1", question=HOSTILE, answer=answer, windows={1: source_window(HOSTILE, 0, 8)})
    page = conversation_html([turn])
    assert "<script" not in page and "<img" not in page
    assert page.count("&lt;script&gt;") >= 5


def test_only_shown_evidence_numbers_become_links():
    out = answer_html("乐山选派807名[1]，另见[3]。", "t9", known=[1, 2])
    assert 'data-target="t9-e1"' in out
    assert "t9-e3" not in out and "另见[3]" in out


def test_the_added_clause_is_set_apart_as_the_articles_words_and_stays_escaped():
    text = "807名（原文：选派807名党建指导员担任“红色向导”<i>）[1]。"
    out = answer_html(text, "t9", known=[1])
    assert '<span class="support"' in out and "（原文：选派807名党建指导员担任“红色向导”&lt;i&gt;）</span>" in out
    assert out.index("</span>") < out.index('data-target="t9-e1"')  # the mark follows the clause
    inner = answer_html("5项（原文：见附表[2]共5项）[1]", "t9", known=[1, 2])
    assert "（原文：见附表[2]共5项）</span>" in inner and 't9-e2' not in inner and inner.count("共5项") == 1
    not_before_a_mark = answer_html("807名（原文：选派807名）。[1]", "t9", known=[1])
    assert '<span class="support"' not in not_before_a_mark


def test_source_window_highlights_exactly_the_span():
    text = "甲" * 3000 + "乐山选派807名党建指导员" + "乙" * 3000
    start = 3000
    window = source_window(text, start, start + 13)
    assert '<mark class="span">乐山选派807名党建指导员</mark>' in window
    assert window.startswith("…") and window.endswith("…")
    assert source_window("短文", 0, 2) == '<mark class="span">短文</mark>'


def test_markdown_and_docx_exports_carry_answer_quotes_and_sources(tmp_path):
    from docx import Document as DocxDocument

    c1, c2 = _citation(1), _citation(2, "自贡选派72名", "b.txt")
    answer = Answer(question="各地怎么选派党建指导员？", text="乐山807名[1]，自贡72名[2]。", citations=(c1, c2),
                    evidence=(c1, c2), llm="none")
    md = to_markdown(answer)
    assert "# 各地怎么选派党建指导员？" in md and "> 选派807名党建指导员" in md and "> 自贡选派72名" in md
    assert "- 《乐山标准》 a.txt（四川省乐山市）" in md and "- 《乐山标准》 b.txt" in md
    text = "\n".join(p.text for p in DocxDocument(str(to_docx(answer, tmp_path / "a.docx"))).paragraphs)
    assert "乐山807名[1]" in text and "选派807名党建指导员" in text and "b.txt" in text


def test_feedback_appends_one_json_line_per_vote(tmp_path):
    answer = Answer(question="问", text="答[1]", citations=(_citation(),))
    path = tmp_path / "feedback.jsonl"
    append_feedback(path, answer, "up")
    append_feedback(path, answer, "down")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["vote"] for r in rows] == ["up", "down"]
    assert rows[0]["citations"][0]["quote"] == "选派807名党建指导员"
    with pytest.raises(ValueError):
        append_feedback(path, answer, "maybe")


def test_example_questions_follow_what_articles_mention():
    texts = ["楼宇党建……党建指导员", "党建指导员", "商圈"]
    assert example_questions(texts, ["四川省乐山市"], limit=2) == [
        "各地是怎么选派党建指导员的？", "楼宇党建是怎么做的？", "四川省乐山市在党建指导员方面是怎么做的？"]
    assert example_questions(["与主题无关"], []) == []


def test_upload_checks_type_and_size(tmp_path):
    (tmp_path / "a.exe").write_bytes(b"MZ")
    (tmp_path / "big.txt").write_bytes(b"x" * 2 * 1024 * 1024)
    (tmp_path / "ok.md").write_text("正文", encoding="utf-8")
    refused = check_upload(tmp_path / "a.exe", 20)
    assert "不支持的文件类型" in refused and "a.exe" in refused
    assert "超过 1 MB 上限" in check_upload(tmp_path / "big.txt", 1)
    assert check_upload(tmp_path / "ok.md", 1) == ""


def test_auth_is_required_off_localhost(tmp_path):
    assert parse_auth(make_settings(tmp_path), "127.0.0.1") is None
    with pytest.raises(RagError, match="RAG_UI_AUTH"):
        parse_auth(make_settings(tmp_path), "0.0.0.0")
    with pytest.raises(RagError, match="至少 8 位"):
        parse_auth(make_settings(tmp_path, ui_auth="admin:short"), "0.0.0.0")
    assert parse_auth(make_settings(tmp_path, ui_auth="admin:very-secret"), "0.0.0.0") == ("admin", "very-secret")


def test_answer_modes_offer_the_endpoint_only_when_configured(tmp_path):
    assert [v for _, v in answer_modes(make_settings(tmp_path))] == ["local", "none"]
    configured = make_settings(tmp_path, llm="openai:deepseek-chat")
    assert [v for _, v in answer_modes(configured)] == ["local", "openai:deepseek-chat", "none"]


def _ingest(kb, paths, on_file=None, on_page=None):
    from ingest.pipeline import ingest_paths

    return ingest_paths(kb, paths, on_file=on_file, on_page=on_page)


def test_chat_handler_streams_evidence_then_a_verified_answer(sample_kb, tmp_path):
    app = ChatApp(sample_kb, _ingest, tmp_path / "export")
    updates = list(app.ask("自贡选派了多少名党建指导员？", [], "none", ALL_REGIONS, []))
    html_steps = [u[0] for u in updates]
    assert "正在检索" in html_steps[0] and "原文摘录" in html_steps[-1]
    turns = updates[-1][1]
    answer = turns[0].answer
    assert answer is not None and not answer.refused and "72名" in answer.text
    assert turns[0].windows and all('<mark class="span">' in w for w in turns[0].windows.values())
    md_path, docx_path = Path(updates[-1][3]), Path(updates[-1][4])
    assert md_path.read_text(encoding="utf-8").startswith("# 自贡选派了多少名党建指导员？") and docx_path.is_file()
    follow = list(app.ask("那乐山呢？", turns, "none", ALL_REGIONS, []))[-1][1][1].answer
    assert follow.standalone_question == "乐山选派了多少名党建指导员？"
    assert any("乐山" in "".join(c.regions) for c in follow.citations)


def test_upload_then_delete_changes_what_the_chat_finds(tmp_path, embeddings):
    from rag.knowledge import KnowledgeBase

    kb = KnowledgeBase(make_settings(tmp_path / "data"), embeddings=embeddings)
    app = ChatApp(kb, _ingest, tmp_path / "export")
    article = tmp_path / "incoming" / "青松县红色驿站.txt"
    article.parent.mkdir()
    article.write_text("青松县推进红色驿站建设\n青松县委组织部推行“红色驿站”计划，全县共建成红色驿站316个，"
                       "为快递员、外卖骑手提供休息和学习场所。", encoding="utf-8")
    (tmp_path / "incoming" / "bad.exe").write_bytes(b"MZ")
    _, rows, docs, *_ = app.upload([str(article), str(tmp_path / "incoming" / "bad.exe")])
    assert {r[0]: r[1] for r in rows} == {"青松县红色驿站.txt": "新增", "bad.exe": "失败"}
    assert [d[0] for d in docs] == ["青松县红色驿站.txt"]
    answer = list(app.ask("青松县建成了多少个红色驿站？", [], "none", ALL_REGIONS, []))[-1][1][0].answer
    assert "316" in answer.text and answer.citations[0].source == "青松县红色驿站.txt"
    assert (kb.settings.data_dir / "uploads" / "青松县红色驿站.txt").is_file()
    other = tmp_path / "other" / "青松县红色驿站.txt"  # same name, different article
    other.parent.mkdir()
    other.write_text("另一篇文章：青松县的党员志愿服务队伍不断壮大。", encoding="utf-8")
    _, rows, *_ = app.upload([str(other)])
    assert rows[0][1] == "失败" and "同名" in rows[0][3]
    assert "316" in kb.document("青松县红色驿站.txt").text  # nothing stored was lost
    _, rows, *_ = app.upload([str(article)])  # the same content again is fine
    assert rows[0][1] == "未变化"
    message, docs, *_ = app.delete("青松县红色驿站.txt")
    assert message == "已删除：青松县红色驿站.txt" and docs == []
    assert not (kb.settings.data_dir / "uploads" / "青松县红色驿站.txt").exists()
    after = list(app.ask("青松县建成了多少个红色驿站？", [], "none", ALL_REGIONS, []))[-1][1][0].answer
    assert all(c.source != "青松县红色驿站.txt" for c in after.evidence)
    assert region_choices(kb.sources()) == [ALL_REGIONS]


def test_gradio_is_kept_off_the_network(monkeypatch):
    from ui.serve import quiet_gradio

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "True")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    quiet_gradio()
    from gradio.analytics import analytics_enabled

    assert not analytics_enabled()
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_a_cross_place_question_gets_the_case_table_and_its_three_exports(sample_kb, tmp_path):
    from docx import Document as DocxDocument
    from openpyxl import load_workbook

    from ui.case_export import COLUMNS, case_row

    app = ChatApp(sample_kb, lambda *a, **k: None, tmp_path / "export")
    updates = list(app.ask("各地是怎样选派党建指导员的？", [], "none", ALL_REGIONS, []))
    turn = updates[-1][1][0]
    assert turn.cases is not None and turn.cases.matched == 5 and turn.answer is not None
    with_cases = next(u for u in updates if turn.cases is not None and isinstance(u[5], str))
    docx_path, xlsx_path, md_path = with_cases[5:8]
    assert updates.index(with_cases) < len(updates) - 1  # the table is shown before the answer
    expected = [list(case_row(c)) for c in turn.cases.cases]
    table = DocxDocument(docx_path).tables[0]
    assert [[c.text for c in r.cells] for r in table.rows] == [list(COLUMNS), *expected]
    sheet = load_workbook(xlsx_path).active
    assert [[c or "" for c in r] for r in sheet.iter_rows(min_row=3, values_only=True)] == expected
    md = Path(md_path).read_text("utf-8")
    assert md.count("\n| ") == len(expected) + 1 and "## 来源" in md
    page = conversation_html(updates[-1][1])
    assert page.count('<tr class="case"') == 5 and "资料中共有 5 篇文章涉及党建指导员" in page


def test_case_summaries_fill_in_after_the_table_and_the_answer(sample_kb, tmp_path, monkeypatch):
    """Ordering logic with a scripted model (the real model's summaries: tests/test_llm_real.py)."""
    from langchain_core.language_models import FakeListChatModel

    app = ChatApp(sample_kb, lambda *a, **k: None, tmp_path / "export")
    lines = ["选派807名党建指导员担任“红色向导”[1][2][3]。"] * 10
    monkeypatch.setattr(app, "case_model", lambda mode: (FakeListChatModel(responses=lines), "fake"))
    fake_answer = FakeListChatModel(responses=["乐山选派807名党建指导员[1]。"])
    monkeypatch.setattr("ui.app.ask_stream", _with_model(fake_answer))
    seen, updates = [], []
    for update in app.ask("各地是怎样选派党建指导员的？", [], "local", ALL_REGIONS, []):
        turn = update[1][0]  # the same turn object, filled in as the updates go out: note what each one showed
        seen.append((turn.cases is not None, turn.answer is not None,
                     sum(bool(c.summary) for c in turn.cases.cases) if turn.cases else 0))
        updates.append(update)
    first_table = next(i for i, (cases, _, _) in enumerate(seen) if cases)
    answered = next(i for i, (_, answer, _) in enumerate(seen) if answer)
    first_summary = next(i for i, (_, _, summaries) in enumerate(seen) if summaries)
    assert first_table < answered < first_summary  # table at once, answer next, summaries fill in after
    final = updates[-1][1][0].cases
    assert final is not None and updates[-1][1][0].status == ""
    leshan = next(c for c in final.cases if c.source.startswith("003_"))
    assert leshan.summary and "807" in leshan.summary  # the line passed the checks for the case holding 807
    others = [c for c in final.cases if "807" not in "".join(q.quote for q in (*c.measures, *c.results))]
    assert others and all(c.summary is None for c in others)  # a figure the case's quotes lack is refused
    assert isinstance(updates[-1][5], str)  # the exports are written again with the summaries


def _with_model(model):
    from rag.chain import ask_stream

    def stream(kb, question, **kwargs):
        kwargs.pop("llm", None)
        return ask_stream(kb, question, chat_model=model, llm="local", **kwargs)

    return stream
