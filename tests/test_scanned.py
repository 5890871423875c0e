"""Scanned PDFs and photos through real OCR, page numbers in chunks and citations, 公文 headers, Word tables.

The scans are built in code (``tests/scans.py``: a sample article rendered with a CJK
font), ingested into a real knowledge base and read back: the recognised text must
match the source to ≥ 97% of characters (edit distance, whitespace and full/half
width ignored), running headers and page numbers must be gone, and every chunk and
citation must carry the page its text is on.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ingest.loaders import parse_bytes
from ingest.ocr import OcrOptions
from ingest.pipeline import ingest_paths, read_document
from rag.chain import ask
from rag.data import sample_dir
from rag.errors import IngestError
from rag.knowledge import KnowledgeBase
from rag.retrieval import search
from rag.text import normalize
from tests.conftest import make_settings
from tests.processes import run_rag
from tests.scans import image_bytes, mixed_pdf, render_pages, scanned_pdf

ARTICLE = sample_dir() / "001_e7f577296fd42bd4.txt"  # 首都互联网协会, 兴达公司, 凤凰城建材市场
HEADER = "某某市委组织部党建工作简报"


def char_accuracy(expected: str, got: str) -> float:
    """1 − edit distance / length, over NFKC text without whitespace."""
    a, b = normalize(expected), normalize(got)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1 - previous[-1] / max(1, len(a))


@pytest.fixture(scope="module")
def scan_kb(tmp_path_factory, embeddings):
    """A knowledge base holding the article as a 3-page scanned PDF with a running header and page numbers."""
    folder = tmp_path_factory.mktemp("scans")
    pages = render_pages(ARTICLE.read_text("utf-8"), header=HEADER, footer=True)
    scanned_pdf([p.image for p in pages], folder / "简报扫描件.pdf")
    kb = KnowledgeBase(make_settings(tmp_path_factory.mktemp("scan-kb")), embeddings=embeddings)
    progress: list[tuple[str, int, int]] = []
    report = ingest_paths(kb, [folder], on_page=lambda s, done, total: progress.append((s, done, total)))
    assert report.count("added") == 1, report
    return kb, pages, progress


def test_scanned_pdf_is_recognised_accurately_without_headers_or_page_numbers(scan_kb):
    kb, pages, progress = scan_kb
    doc = kb.document("简报扫描件.pdf")
    assert doc is not None and len(pages) >= 3
    accuracy = char_accuracy(ARTICLE.read_text("utf-8"), doc.text)
    assert accuracy >= 0.97, f"character accuracy {accuracy:.3f}"
    assert HEADER not in doc.text
    assert not any(line.strip() in {f"- {n} -" for n in range(1, 9)} for line in doc.text.split("\n"))
    assert doc.ocr_confidence is not None and 0.8 <= doc.ocr_confidence <= 1.0
    assert progress == [("简报扫描件.pdf", n, len(pages)) for n in range(1, len(pages) + 1)]
    info = next(s for s in kb.sources() if s.source == "简报扫描件.pdf")
    assert info.pages == len(pages) and "OCR 识别" in info.label and f"共 {len(pages)} 页" in info.label


def test_every_chunk_and_citation_of_the_scan_carries_the_page_its_text_is_on(scan_kb):
    kb, pages, _ = scan_kb
    doc = kb.document("简报扫描件.pdf")
    assert doc is not None and len(doc.page_starts) == len(pages)
    for n, page in enumerate(pages, 1):  # each page's stored text is that page's rendering
        start, end = doc.page_span(n)
        assert char_accuracy(page.text, doc.text[start:end]) >= 0.95, n
    chunks = kb.chunks(kb.chunk_ids("简报扫描件.pdf")).values()
    assert {c.page for c in chunks} == set(range(1, len(pages) + 1))
    for c in chunks:
        assert doc.page_at(c.start) == c.page
        assert all(c.page_at(b) == doc.page_at(b) for b in c.page_breaks)
    answer = ask(kb, "首都互联网协会党委选聘了多少名党建指导员？", llm="none")
    assert not answer.refused and answer.citations
    for c in answer.citations:
        assert doc.text[c.start:c.end] == c.quote
        start, end = doc.page_span(c.page)
        assert start <= c.start < end, (c.page, c.start)
        assert f"第 {c.page} 页" in c.location
    assert any("29" in c.quote for c in answer.citations)
    record = answer.to_json()
    assert all(isinstance(c["page"], int) for c in record["citations"])
    assert all(h["page"] is not None for h in record["retrieved"])


def test_rag_ask_cli_answers_about_a_scan_with_a_paged_citation(scan_kb):
    kb, _, _ = scan_kb
    data = kb.settings.data_dir
    result = run_rag(data, "ask", "凤凰城建材市场成立了几个党支部？", "--llm", "none", "--json")
    record = json.loads(result.stdout)
    doc = kb.document("简报扫描件.pdf")
    assert doc is not None and not record["refused"]
    cited = [c for c in record["citations"] if c["source"] == "简报扫描件.pdf"]
    assert cited and all(doc.text[c["start"]:c["end"]] == c["quote"] for c in cited)
    assert any("8个党支部" in c["quote"] for c in cited)
    assert all(c["page"] == doc.page_at(c["start"]) for c in cited)
    plain = run_rag(data, "ask", "凤凰城建材市场成立了几个党支部？", "--llm", "none")
    assert "第 2 页" in plain.stdout or "第 3 页" in plain.stdout
    assert "OCR 识别" in run_rag(data, "sources").stdout


def test_unpaged_text_has_no_page(sample_kb):
    hits = search(sample_kb, "党建指导员", k=3)
    assert hits and all(h.chunk.page is None and h.to_json()["page"] is None for h in hits)
    answer = ask(sample_kb, "乐山市设立了多少个红色驿站？", llm="none")
    assert all(c.page is None and "页" not in c.location for c in answer.citations)


@pytest.mark.parametrize(("kind", "index"), [("PNG", 0), ("JPEG", 1)])
def test_two_column_photo_is_read_column_by_column(kind, index):
    # page 2 has a right-column line starting with "，", whose box pokes across the gutter
    pages = render_pages(ARTICLE.read_text("utf-8"), columns=2, header=HEADER)
    loaded = parse_bytes(image_bytes(pages[index].image, kind), f".{kind.lower()}", f"照片.{kind.lower()}")
    assert loaded.page_starts == (0,) and loaded.ocr_confidence is not None
    accuracy = char_accuracy(pages[index].text, loaded.text)
    assert accuracy >= 0.97, f"{kind}: character accuracy {accuracy:.3f} in reading order"


def test_pdf_with_text_pages_and_scanned_pages_gets_both(tmp_path):
    text = ARTICLE.read_text("utf-8")
    scan = render_pages(text)[1]
    typed = "首都互联网协会党委选聘党建指导员，覆盖40余家重点互联网企业。\n这一页是电子版，有文字层。"
    path = mixed_pdf([typed, scan.image], tmp_path / "合订本.pdf")
    doc, _ = read_document(path.read_bytes(), path, path.name)
    assert len(doc.page_starts) == 2 and doc.ocr_confidence is not None and doc.encoding == "pdf+ocr"
    first, second = doc.text[slice(*doc.page_span(1))], doc.text[slice(*doc.page_span(2))]
    assert "覆盖40余家重点互联网企业" in first
    assert char_accuracy(scan.text, second) >= 0.97


def test_image_that_is_not_an_image_huge_image_and_blank_image_are_refused_with_reasons(tmp_path):
    from PIL import Image, ImageDraw

    with pytest.raises(IngestError, match="不是有效的图片文件"):
        parse_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 300, ".png", "坏图.png")
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20000, 20000), 1).save(bomb)
    start = time.monotonic()
    with pytest.raises(IngestError, match="疑似解压炸弹") as info:
        parse_bytes(bomb.read_bytes(), ".png", "bomb.png")
    assert str(info.value).startswith("bomb.png：") and time.monotonic() - start < 5
    blank = Image.new("RGB", (800, 600), "white")
    ImageDraw.Draw(blank).ellipse((200, 150, 600, 450), outline="black", width=6)
    with pytest.raises(IngestError, match="没有识别出文字"):
        parse_bytes(image_bytes(blank, "PNG"), ".png", "圆圈.png")
    with pytest.raises(IngestError, match="超过 5 页上限"):
        read_pdf_pages(tmp_path, 6, OcrOptions(max_pages=5))


def read_pdf_pages(tmp_path: Path, n: int, options: OcrOptions) -> None:
    from PIL import Image

    pages = [Image.new("L", (400, 560), 255) for _ in range(n)]
    for p in pages:
        p.paste(0, (50, 50, 350, 80))  # a black bar: content, so each page needs OCR
    path = scanned_pdf(pages, tmp_path / "多页.pdf")
    parse_bytes(path.read_bytes(), ".pdf", "多页.pdf", options)


def test_two_thousand_blank_pages_are_refused_in_bounded_time():
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(2000):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    start = time.monotonic()
    with pytest.raises(IngestError, match=r"2000 页.*空白页"):
        parse_bytes(out.getvalue(), ".pdf", "空白.pdf")
    assert time.monotonic() - start < 60


OFFICIAL = """000123
秘密★1年
特急
中共乐山市委组织部文件
乐组发〔2023〕15号
关于在非公企业中选派党建指导员的通知
各区（市、县）委组织部，市级有关部门：
为加强非公有制企业党的建设，经研究，决定在全市非公企业中选派党建指导员。现将有关事项通知如下。
一、选派范围。全市规模以上非公企业，每家企业选派1名党建指导员。
二、工作要求。党建指导员每月到企业开展工作不少于2次，帮助企业建立健全党组织。
中共乐山市委组织部
2023年5月10日
（此件公开发布）
抄送：市委办公室。
乐山市委组织部办公室 2023年5月11日印发
"""


def test_official_document_header_goes_to_metadata_not_into_chunks(tmp_path, embeddings):
    path = tmp_path / "乐组发2023-15.txt"
    path.write_text(OFFICIAL, "utf-8")
    kb = KnowledgeBase(make_settings(tmp_path / "kb"), embeddings=embeddings)
    article = sample_dir() / "003_cb9038ba9ea812d0.txt"  # a news article on 乐山's 党建指导员: not a 公文
    assert ingest_paths(kb, [path, article]).count("added") == 2
    assert kb.document(article.name).kind == "文章"  # type: ignore[union-attr]
    doc = kb.document(path.name)
    assert doc is not None and doc.kind == "公文" and doc.official is not None
    header = doc.official
    assert (header.organ, header.number, header.issued) == ("中共乐山市委组织部", "乐组发〔2023〕15号", "2023-05-10")
    assert (header.secrecy, header.urgency) == ("秘密★1年", "特急")
    assert doc.title == header.title == "关于在非公企业中选派党建指导员的通知"
    assert doc.date == "2023-05-10"
    chunks = sorted(kb.chunks(kb.chunk_ids(path.name)).values(), key=lambda c: c.ordinal)
    first = chunks[0].text
    for line in ("中共乐山市委组织部文件", "乐组发〔2023〕15号", "2023年5月10日", "秘密★1年", "特急", "000123", "印发"):
        assert line not in first, line
    assert "每家企业选派1名党建指导员" in "".join(c.text for c in chunks)
    listing = json.loads(run_rag(kb.settings.data_dir, "sources", "--json").stdout)["documents"]
    row = next(r for r in listing if r["source"] == path.name)
    assert row["kind"] == "公文" and row["official"]["number"] == "乐组发〔2023〕15号"
    only = json.loads(run_rag(kb.settings.data_dir, "search", "党建指导员", "--source-type", "公文", "--json").stdout)
    assert only["results"] and {h["source"] for h in only["results"]} == {path.name}


def test_word_table_rows_are_labelled_and_kept_in_one_chunk(tmp_path, embeddings):
    from docx import Document as Docx

    docx = Docx()
    docx.add_paragraph("乐山市非公企业党建工作考核办法。" + "考核坚持客观公正、注重实效的原则，突出党建引领作用。" * 8)
    table = docx.add_table(rows=1, cols=3)
    for cell, label in zip(table.rows[0].cells, ("指标", "分值", "考核方式"), strict=True):
        cell.text = label
    rows = [("党组织覆盖", "20", "查阅台账"), ("党建指导员到岗", "15", "实地查看"), ("三会一课落实", "15", "抽查记录"),
            ("党员先锋岗设立", "10", "现场核实"), ("红色驿站运行", "10", "查看活动记录")]
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    docx.add_paragraph("以上指标由市委组织部每年考核一次。" + "考核结果作为评先评优的重要依据。" * 8)
    path = tmp_path / "考核办法.docx"
    docx.save(path)
    kb = KnowledgeBase(make_settings(tmp_path / "kb", chunk_tokens=160), embeddings=embeddings)
    assert ingest_paths(kb, [path]).count("added") == 1
    doc = kb.document(path.name)
    assert doc is not None and "指标：党建指导员到岗；分值：15；考核方式：实地查看" in doc.text
    order = [doc.text.index(s) for s in ("考核办法", "指标：党组织覆盖", "以上指标")]
    assert order == sorted(order)  # paragraphs and the table in document order
    chunks = kb.chunks(kb.chunk_ids(path.name)).values()
    assert len(chunks) >= 3
    holding = [c for c in chunks if "指标：党组织覆盖" in c.text]
    assert len(holding) == 1 and "指标：红色驿站运行" in holding[0].text


def test_legacy_word_files_get_advice_to_save_as_docx(tmp_path):
    (tmp_path / "旧通知.doc").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 600)
    (tmp_path / "稿子.wps").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 600)
    from ingest.pipeline import discover

    _, failed = discover([tmp_path])
    reasons = {f.source: f.error for f in failed}
    assert "另存为" in reasons["旧通知.doc"] and ".docx" in reasons["旧通知.doc"]
    assert "WPS" in reasons["稿子.wps"]
