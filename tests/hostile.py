"""A corpus of hostile and broken files, built by code, with what must happen to each.

``build(folder)`` writes the files and returns ``{source name: expectation}``, where an
expectation is ``("added", text that must be in the stored article)`` or
``("failed", words the Chinese reason must contain)``. Used by the ingest and UI-upload
tests; nothing here is checked in as a binary.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

ARTICLE = ("乐山市推出非公企业党建“红领带”行动。乐山高新区设立红色驿站12个，"
           "落实12名领导干部联系企业，选派党建指导员35名。")


def _pdf(encrypted: bool) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if encrypted:
        writer.encrypt("口令-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(210):  # 210 MB of zeros, about 200 KB compressed
                member.write(block)
    return out.getvalue()


def _png_bomb() -> bytes:
    """A 20 000 × 20 000 PNG: a few dozen KB on disk, 400 million pixels decoded."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (20000, 20000), 1).save(out, "PNG")
    return out.getvalue()


def _blank_pages_pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _picture_without_text() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((160, 100, 480, 380), outline="red", width=8)
    draw.rectangle((40, 40, 120, 120), fill="navy")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _scanned_article() -> bytes:
    """``ARTICLE`` photographed: rendered to an image, read back by OCR."""
    from tests.scans import image_bytes, render_pages

    return image_bytes(render_pages(ARTICLE, size=(1240, 420))[0].image, "JPEG")


def build(folder: Path) -> dict[str, tuple[str, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    gb18030 = ARTICLE + "㐀字属扩展A区，GBK 没有它。"
    files: dict[str, tuple[bytes, tuple[str, str]]] = {
        "空文件.txt": (b"", ("failed", "文件为空")),
        "只有空白.txt": (" \n\t\u3000 \r\n".encode(), ("failed", "没有可提取的文字")),
        "伪装成文本的二进制.txt": (bytes(range(256)) * 64, ("failed", "二进制")),
        "GBK编码.txt": (ARTICLE.encode("gbk"), ("added", "红色驿站12个")),
        "GB18030编码.txt": (gb18030.encode("gb18030"), ("added", "㐀字属扩展A区")),
        "UTF16带BOM.txt": (b"\xff\xfe" + ARTICLE.encode("utf-16-le"), ("added", "选派党建指导员35名")),
        "混合编码.txt": ((ARTICLE * 3).encode() + (ARTICLE * 3).encode("gbk"), ("failed", "无法识别文本编码")),
        "超长一行无标点.txt": (("党建引领基层治理红色驿站" * 6000).encode(), ("added", "党建引领基层治理")),
        "损坏的.docx": (b"PK\x03\x04" + os.urandom(2000), ("failed", "docx 文件已损坏")),
        "压缩炸弹.docx": (_zip_bomb(), ("failed", "压缩炸弹")),
        "加密的.pdf": (_pdf(encrypted=True), ("failed", "PDF 已加密")),
        "扫描件无文字层.pdf": (_pdf(encrypted=False), ("failed", "没有文字层")),
        "损坏的.pdf": (b"%PDF-1.4\n" + os.urandom(3000), ("failed", "PDF")),
        "满是脚本.html": (("<html><head><style>body{color:red}</style><script>alert('x')</script></head>"
                          f"<body><script>document.write('注入')</script><p>{ARTICLE}</p>"
                          "<noscript>请开启脚本</noscript></body></html>").encode(), ("added", "红色驿站12个")),
        "链接.md": (f"# 红领带行动\n\n{ARTICLE}\n\n[点我](javascript:alert(1))".encode(),
                  ("added", "javascript:alert(1)")),
        "带 空格 的 文件.txt": (ARTICLE.replace("乐山", "自贡").encode(), ("added", "自贡高新区")),
        "党建🚩先锋.txt": (ARTICLE.replace("乐山", "沙湾").encode(), ("added", "沙湾高新区")),
        "长" * 15 + "n" * 181 + ".txt": (ARTICLE.replace("乐山", "上饶").encode(), ("added", "上饶高新区")),
        "副本1.txt": (ARTICLE.replace("乐山", "绵阳").encode(), ("added", "绵阳高新区")),
        "副本2.txt": (ARTICLE.replace("乐山", "绵阳").encode(), ("failed", "完全相同")),
        "程序.exe.txt.exe": (b"MZ\x90\x00" + os.urandom(500), ("skipped", "")),  # not a supported type
        "不是图片.png": (b"\x89PNG\r\n\x1a\n" + os.urandom(800), ("failed", "不是有效的图片文件")),
        "两万乘两万像素.png": (_png_bomb(), ("failed", "疑似解压炸弹")),
        "两千页空白.pdf": (_blank_pages_pdf(2000), ("failed", "空白页")),
        "没有文字的图片.png": (_picture_without_text(), ("failed", "没有识别出文字")),
        "拍照的通知.jpg": (_scanned_article(), ("added", "红色驿站12个")),
        "旧版通知.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(800), ("failed", "另存为")),
    }
    expected: dict[str, tuple[str, str]] = {}
    for name, (data, expectation) in files.items():
        (folder / name).write_bytes(data)
        if expectation[0] != "skipped":
            expected[name] = expectation
    big = folder / "五十兆的大文件.txt"
    with big.open("wb") as fh:
        line = (ARTICLE + "\n").encode()
        fh.write(line * (50 * 1024 * 1024 // len(line) + 1))
    expected[big.name] = ("failed", "超过 20 MB 上限")
    (folder / "环甲.txt").symlink_to("环乙.txt")
    (folder / "环乙.txt").symlink_to("环甲.txt")
    expected["环甲.txt"] = expected["环乙.txt"] = ("failed", "符号链接无效")
    (folder / "断开的链接.txt").symlink_to("不存在的目标.txt")
    expected["断开的链接.txt"] = ("failed", "符号链接无效")
    return expected
