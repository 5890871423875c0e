"""Read a file into plain text: txt, md, docx, pdf, html.

Text files are decoded by detection (BOM first, then strict UTF-8, then
``charset-normalizer`` limited to the encodings Chinese files actually use),
never by trying codecs until one does not raise. Every failure is an
``IngestError`` naming the file and the reason in Chinese.

Deliberately not here: cleaning (``ingest.clean``) or metadata.
"""

from __future__ import annotations

import codecs
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

from rag.errors import IngestError
from rag.files import check_file

_CJK_ENCODINGS = ["utf_8", "gb18030", "gbk", "big5", "utf_16"]
_MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024


@dataclass(frozen=True)
class LoadedText:
    text: str
    encoding: str


def read_checked(path: Path, source: str, max_bytes: int) -> bytes:
    """The raw bytes of a supported, non-empty file within the size limit."""
    try:
        check_file(path, source, max_bytes)
        data = path.read_bytes()
    except OSError as err:
        raise IngestError(source, f"无法读取文件（{err.strerror or err}）") from err
    if not data:
        raise IngestError(source, "文件为空")
    return data


def parse_bytes(data: bytes, suffix: str, source: str) -> LoadedText:
    """Text of a file's bytes according to its type; ``IngestError`` when there is none."""
    suffix = suffix.lower()
    if suffix == ".docx":
        loaded = LoadedText(_docx_text(data, source), "docx")
    elif suffix == ".pdf":
        loaded = LoadedText(_pdf_text(data, source), "pdf")
    else:
        text, encoding = decode_text(data, source)
        if suffix in (".html", ".htm"):
            text = html_to_text(text)
        loaded = LoadedText(text, encoding)
    if not loaded.text.strip():
        raise IngestError(source, "文件中没有可提取的文字")
    return loaded


def load_file(path: Path, source: str, max_bytes: int) -> LoadedText:
    """Load one file; raise ``IngestError`` with a Chinese reason when it cannot be read."""
    return parse_bytes(read_checked(path, source, max_bytes), path.suffix, source)


def decode_text(data: bytes, source: str) -> tuple[str, str]:
    """Decode bytes of a text file; refuse binary data."""
    for bom, name in ((codecs.BOM_UTF8, "utf_8_sig"), (codecs.BOM_UTF16_LE, "utf_16"),
                      (codecs.BOM_UTF16_BE, "utf_16")):
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as err:
                raise IngestError(source, f"带 BOM 的文本无法按 {name} 解码") from err
    if b"\x00" in data[:4096]:
        for name in ("utf_16_le", "utf_16_be"):
            text = _try_utf16(data, name)
            if text is not None:
                return text, name
        raise IngestError(source, "看起来是二进制文件，不是文本")
    try:
        return data.decode("utf-8"), "utf_8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_CJK_ENCODINGS).best()
    if best is None or best.encoding is None:
        raise IngestError(source, "无法识别文本编码（不是 UTF-8、GB18030/GBK、Big5 或 UTF-16）")
    encoding = "gb18030" if best.encoding in ("gbk", "gb2312") else best.encoding
    text = data.decode(encoding, errors="strict")
    if _control_ratio(text) > 0.05:
        raise IngestError(source, "看起来是二进制文件，不是文本")
    return text, encoding


def _try_utf16(data: bytes, encoding: str) -> str | None:
    """The text if ``data`` is BOM-less UTF-16 of ordinary (mostly CJK/ASCII) text."""
    if len(data) % 2:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    sample = text[:5000]
    ordinary = sum(1 for ch in sample if ch.isspace() or 0x20 <= ord(ch) < 0x7F or 0x3000 <= ord(ch) <= 0x9FFF
                   or 0xFF00 <= ord(ch) <= 0xFFEF or ch in "“”‘’—…·")
    return text if ordinary >= 0.9 * len(sample) else None


def _control_ratio(text: str) -> float:
    sample = text[:20000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad / max(1, len(sample))


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page, one block per line; scripts and styles dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    title = soup.title.get_text(strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template", "iframe", "svg", "head"]):
        tag.decompose()
    body = soup.get_text("\n")
    return f"{title}\n{body}" if title and not body.lstrip().startswith(title) else body


def _docx_text(data: bytes, source: str) -> str:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > _MAX_DOCX_UNCOMPRESSED:
                raise IngestError(source, "docx 解压后体积异常（疑似压缩炸弹），已拒绝")
    except zipfile.BadZipFile as err:
        raise IngestError(source, "docx 文件已损坏（不是有效的 zip 包）") from err
    from docx import Document as DocxDocument

    try:
        doc = DocxDocument(io.BytesIO(data))
    except Exception as err:  # python-docx raises many kinds on broken parts
        raise IngestError(source, f"docx 文件无法解析（{type(err).__name__}）") from err
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _pdf_text(data: bytes, source: str) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are English noise beside our message
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise IngestError(source, "PDF 已加密，无法读取文字")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except PdfReadError as err:
        raise IngestError(source, f"PDF 文件已损坏（{err}）") from err
    if not text.strip():
        raise IngestError(source, "PDF 没有文字层（可能是扫描件），需要先做文字识别")
    return text
