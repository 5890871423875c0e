"""Loading real files of every supported kind, bad input, metadata and regions."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path

import pytest

from ingest.clean import clean_text
from ingest.loaders import load_file
from ingest.metadata import extract_metadata
from rag.data import sample_dir
from rag.errors import IngestError
from rag.regions import load_gazetteer

ARTICLE = "乐山市推进非公企业党建“红领带”行动\n近年来，四川省乐山市创新推出非公企业党建“红领带”行动，覆盖率达97.5%。"
MAX = 5 * 1024 * 1024


def _load(path: Path) -> str:
    return load_file(path, path.name, MAX).text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_text_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / f"a-{encoding}.txt"
    path.write_bytes(ARTICLE.encode(encoding))
    assert _load(path) == ARTICLE


def test_markdown_and_html_without_scripts(tmp_path):
    md = tmp_path / "a.md"
    md.write_text(f"# 标题\n\n{ARTICLE}", "utf-8")
    assert "红领带" in _load(md)
    html = tmp_path / "a.html"
    html.write_text(
        "<html><head><title>楼宇党建</title><style>p{color:red}</style></head><body>"
        f"<script>alert('x')</script><p>{ARTICLE}</p></body></html>", "utf-8")
    text = _load(html)
    assert "红领带" in text and "楼宇党建" in text
    assert "alert" not in text and "color" not in text


def test_docx(tmp_path):
    from docx import Document as Docx

    doc = Docx()
    doc.add_heading("上饶经开区非公党建", level=1)
    doc.add_paragraph(ARTICLE)
    path = tmp_path / "a.docx"
    doc.save(str(path))
    text = _load(path)
    assert "上饶经开区非公党建" in text and "97.5%" in text


def _minimal_pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_with_text_layer(tmp_path):
    path = tmp_path / "a.pdf"
    path.write_bytes(_minimal_pdf("Party building coverage 97.5% in 2023"))
    assert "97.5%" in _load(path)


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("empty.txt", b"", "文件为空"),
    ("blank.txt", b" \n\t\n", "没有可提取的文字"),
    ("binary.txt", bytes(range(256)) * 40, "二进制"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "docx 文件已损坏"),
    ("broken.pdf", b"%PDF-1.4 garbage", "PDF"),
    ("scan.pdf", None, "没有文字层"),
    ("data.xlsx", b"x", "不支持的文件类型"),
])
def test_bad_files_get_a_chinese_reason_naming_the_file(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(_minimal_pdf("") if content is None else content)
    with pytest.raises(IngestError) as info:
        load_file(path, name, MAX)
    assert str(info.value).startswith(name)
    assert reason in str(info.value)


def test_too_large_and_zip_bomb_docx_are_refused(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(("党建" * 1000).encode() * 400)
    with pytest.raises(IngestError, match="文件过大"):
        load_file(big, big.name, 1024 * 1024)
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"0" * (210 * 1024 * 1024))
    with pytest.raises(IngestError, match="压缩炸弹"):
        load_file(bomb, bomb.name, 50 * 1024 * 1024)


def test_utf16_without_bom_is_not_mistaken_for_binary(tmp_path):
    path = tmp_path / "u16.txt"
    path.write_bytes(ARTICLE.encode("utf-16-le"))
    assert codecs.BOM_UTF16_LE not in path.read_bytes()[:2]
    assert "红领带" in _load(path)


def test_metadata_of_sample_articles():
    expected = {
        "002_c1bd32abbb7e348e.txt": ("自贡非公党建助推经济社会高质量发展综述", "自贡网", "四川省自贡市"),
        "003_cb9038ba9ea812d0.txt": ("“红领带”行动书写非公党建“乐山标准”", "中国城市报", "四川省乐山市"),
        "004_80e31c2401ce812c.txt": ("凝聚“非公力量” 彰显“红色温度”", "", "江西省上饶市"),
    }
    for name, (title, outlet, region) in expected.items():
        text = clean_text((sample_dir() / name).read_text("utf-8")).text
        meta = extract_metadata(text, name)
        assert meta.title == title
        assert meta.outlet == outlet
        assert meta.regions[0] == region


def test_wire_copy_title_and_date():
    text = "2023-08-19 10:21，正文：原标题：武汉硚口：融新助新 助力两新党建。8月17日上午，某公司开展公益捐赠活动。"
    meta = extract_metadata(clean_text(text).text, "x")
    # The title sits inside a long line, so the stray-space rule joins 融新助新 助力.
    assert meta.title == "武汉硚口：融新助新助力两新党建"
    assert meta.date == "2023-08-19"
    assert meta.regions == ("湖北省武汉市硚口区",) or meta.regions[0].startswith("湖北省武汉市")


def test_region_normalization_and_tags():
    g = load_gazetteer()
    assert g.normalize("四川") == "四川省"
    assert g.normalize("乐山") == "四川省乐山市"
    assert g.normalize("乐山市") == "四川省乐山市"
    assert g.normalize("市北区") == "山东省青岛市市北区"
    assert g.normalize("北京") == "北京市"
    assert g.normalize("火星") is None
    assert g.normalize("江西省上饶市") == "江西省上饶市"  # the full names the UI's region picker offers
    assert g.normalize("江西上饶") == "江西省上饶市"
    assert g.normalize("乐山 自贡") is None
    assert g.tags(["四川省乐山市"]) == ["四川省", "四川省乐山市"]
    assert g.tags(["山东省青岛市市北区"]) == ["山东省", "山东省青岛市", "山东省青岛市市北区"]
    assert len(g.by_code) > 3000  # the national table, not a hand list


def test_everyday_words_are_not_places():
    g = load_gazetteer()
    assert g.find("加强党建合作，推动开放发展，中山装很好看。") == ()
