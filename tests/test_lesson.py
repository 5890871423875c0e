"""Lesson packs (备课包): ten packs checked quote by quote, the Word and slide files read back, slides rendered.

Five topics over the sample knowledge base and five over the 972 news articles (read and
cleaned by ingest's own ``document_of``; case finding needs no vectors). Every check below is
made again here, not trusted to ``rag.lesson.check_lesson``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ingest.loaders import read_checked
from ingest.pipeline import document_of
from rag.cases import cases_in, find_cases
from rag.lesson import BLANK, build_lesson, check_lesson
from tests.conftest import ROOT
from tests.test_cli import rag
from ui.lesson_export import export_lesson

SAMPLE_TOPICS = ("党建指导员", "非公企业党建", "党建联盟", "商圈党建", "红色驿站")
NEWS_TOPICS = ("其他地方是怎么做楼宇党建的？", "各地是怎么建立党建联盟的？", "各地的党群服务中心是怎么建设的？",
               "其他地方是怎么落实三会一课的？", "各地是怎样管理流动党员的？")
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="module")
def news_documents(news_docs):
    return [document_of(read_checked(p, p.name, 20 << 20), p, p.name) for p in sorted(news_docs.glob("*.txt"))]


def _independent_checks(pack, text_of) -> None:
    for q in pack.quotes:
        assert text_of(q.source)[q.start:q.end] == q.quote
    for card in pack.cases:
        for q in (*card.measures, *card.results):
            assert text_of(card.source)[q.start:q.end] == q.quote
    numbers = {q.n for q in pack.quotes}
    for text, cites in pack.points:
        assert cites and set(cites) <= numbers and all(f"[{n}]" in text for n in cites)
    assert 0 < len(pack.points) <= 6 and 0 < len(pack.discussion) <= 4
    for item in pack.quiz:
        assert text_of(item.source)[item.start:item.end] == item.quote
        if item.kind == "判断":
            stated = item.question.split("“", 1)[1].rsplit("”", 1)[0]
            assert item.answer == ("对" if stated == item.quote else "错")
            if item.answer == "错":  # the false statement differs from the quote in one span that the quote lacks
                assert stated != item.quote and item.wrong and item.wrong not in item.quote
        else:
            assert item.answer in item.quote and BLANK in item.question
            assert item.question.endswith(item.quote.replace(item.answer, BLANK, 1))
            wrong = [o for o in item.options if o != item.answer]
            assert all(o not in item.quote for o in wrong)
            assert item.kind == "填空" or (item.answer in item.options and len(wrong) >= 2)


def test_ten_packs_hold_only_checked_quotes_answers_and_options(sample_kb, news_documents):
    texts = {d.source: d.text for d in news_documents}
    packs = [(build_lesson(find_cases(sample_kb, t)), sample_kb.text_lookup()) for t in SAMPLE_TOPICS]
    packs += [(build_lesson(cases_in(news_documents, t)), texts.get) for t in NEWS_TOPICS]
    kinds = set()
    for pack, text_of in packs:
        assert pack.cases and check_lesson(pack, text_of) == []
        _independent_checks(pack, text_of)
        kinds |= {item.kind for item in pack.quiz}
    assert kinds == {"单选", "判断", "填空"}
    assert sum(len(p.quiz) >= 5 for p, _ in packs) >= 8  # 5–10 items where the cases hold figures or names
    news_cases = [len({c.regions[0].split("省")[0] for c in p.cases if c.regions}) for p, _ in packs[5:]]
    assert all(n >= 2 for n in news_cases)  # cases from different places first


def test_handout_and_slides_are_read_back_with_cases_quiz_and_answer_key(sample_kb, tmp_path):
    from docx import Document as DocxDocument
    from pptx import Presentation

    pack = build_lesson(find_cases(sample_kb, "党建指导员"), 5)
    files = export_lesson(pack, tmp_path)
    doc = DocxDocument(files["docx"])
    paragraphs = [p.text for p in doc.paragraphs]
    table = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert [row[0] for row in table[1:]] == [c.regions[0] for c in pack.cases]
    for heading in ("讲解要点", "讨论题", "随堂测验", "答案与依据", "引文出处"):
        assert heading in paragraphs
    key = paragraphs[paragraphs.index("答案与依据") + 1:]
    assert all(any(item.quote in line for line in key) for item in pack.quiz)
    slides = [" ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
              for slide in Presentation(files["pptx"]).slides]
    assert len(slides) == 1 + len(pack.cases) + 2 + -(-len(pack.quiz) // 3) + 1
    assert all(card.source in " ".join(slides) for card in pack.cases)
    assert any(s.startswith("答案") for s in slides) and any("随堂测验" in s for s in slides)
    md = Path(files["md"]).read_text("utf-8")
    items = md.count("（单选）") + md.count("（判断）") + md.count("（填空）")
    assert md.startswith("# 备课包：党建指导员") and items == len(pack.quiz)


def test_slides_render_with_legible_chinese_through_libreoffice(sample_kb, tmp_path):
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    assert soffice and pdftoppm, "scripts/test.sh installs libreoffice-impress-nogui and poppler-utils"
    files = export_lesson(build_lesson(find_cases(sample_kb, "党建指导员")), tmp_path)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), files["pptx"]], check=True, capture_output=True, timeout=240)
    pdf = next(tmp_path.glob("*.pdf"))
    subprocess.run([pdftoppm, "-png", "-r", "60", "-f", "2", "-l", "3", str(pdf), str(tmp_path / "slide")],
                   check=True, timeout=120)
    pages = sorted(tmp_path.glob("slide-*.png"))
    assert len(pages) == 2 and all(p.stat().st_size > 10_000 for p in pages)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(pages, 1):
        shutil.copy(page, ARTIFACTS / f"lesson_slide_{i}.png")


def test_lesson_json_contract_through_the_cli(sample_kb, tmp_path):
    from ingest.pipeline import ingest_paths
    from rag.data import sample_dir
    from rag.knowledge import KnowledgeBase
    from tests.conftest import make_settings

    data = tmp_path / "data"
    ingest_paths(KnowledgeBase(make_settings(data), embeddings=sample_kb.embeddings), [sample_dir()])
    result = rag(data, "lesson", "党建指导员", "--cases", "4", "--out", str(tmp_path / "out"), "--json")
    assert result.returncode == 0, result.stderr
    pack = json.loads(result.stdout)
    assert set(pack) == {"topic", "cases", "points", "discussion", "quiz", "written_by", "files"}
    assert pack["written_by"] == []  # --llm none: every point and question is a quote
    assert len(pack["cases"]) == 4 and set(pack["files"]) == {"docx", "pptx", "md"}
    assert all(Path(f).is_file() for f in pack["files"].values())
    for item in pack["quiz"]:
        assert set(item) == {"kind", "question", "options", "answer", "quote", "source", "start", "end"}
    missing = rag(data, "lesson", "火星基地党建", "--out", str(tmp_path / "none"))
    assert missing.returncode == 2 and "无法生成备课包" in missing.stderr


class _ScriptedModel:
    """A chat model whose reply is a function of the prompt (logic test of the checks, not of a model)."""

    def __init__(self, reply) -> None:
        self.reply = reply

    def bind(self, **_: object) -> _ScriptedModel:
        return self

    def invoke(self, prompt: str) -> object:
        from types import SimpleNamespace

        return SimpleNamespace(content=self.reply(prompt))


def test_model_points_and_questions_are_kept_only_when_cited_supported_and_naming_both_places(sample_kb):
    import re
    import uuid

    from rag.lesson_phrasing import phrase

    pack = build_lesson(find_cases(sample_kb, "党建指导员"), 5)
    first, second = (next(q for q in pack.quotes if q.case == i) for i in (0, 1))
    good = f"{first.quote[:30]}[1]。"
    questions = [(a, b) for a, b in zip(pack.quotes, pack.quotes[1:], strict=False) if a.case != b.case]

    def reply(prompt: str) -> str:
        if prompt.endswith("概括："):
            if f"概括{first.place}" in prompt:
                return good
            return "共选派了987654名党建指导员[1]。" if f"概括{second.place}" in prompt else "各地高度重视，成效明显。"
        if prompt.endswith("讨论题：") and "乐山" in prompt and "北京" in prompt:
            return "北京和乐山在选派党建指导员上的做法有什么不同？"
        return "两地的做法各有特色。"

    phrased = phrase(sample_kb, pack, _ScriptedModel(reply), f"scripted-{uuid.uuid4().hex}")
    assert phrased.points[0] == (f"{first.quote[:30]}[{first.n}]。", (first.n,))  # renumbered to the pack
    assert all("987654" not in t and "高度重视" not in t for t, _ in phrased.points)
    assert len(phrased.points) >= 3  # extractive points fill in for the dropped lines
    assert re.fullmatch(r"北京和乐山在选派党建指导员上的做法有什么不同\[\d+\]\[\d+\]？", phrased.discussion[0])
    assert all("各有特色" not in q for q in phrased.discussion) and questions
    assert phrased.written_by == ("points", "discussion") and check_lesson(phrased, sample_kb.text_lookup()) == []
    silent = phrase(sample_kb, pack, _ScriptedModel(lambda _: "各地高度重视，成效明显。"), f"x-{uuid.uuid4().hex}")
    assert silent.points == pack.points and silent.discussion == pack.discussion and silent.written_by == ()
