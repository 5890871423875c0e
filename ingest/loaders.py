"""Read a file into plain text: txt, md, docx, pdf, html, and scanned pages or images by OCR.

Text files are decoded by detection (BOM first, then strict UTF-8, then
``charset-normalizer`` limited to the encodings Chinese files actually use),
never by trying codecs until one does not raise. Every failure is an
``IngestError`` naming the file and the reason in Chinese.

Paged files (PDF, images: ``ingest.paged``) also give where each page begins and,
when OCR read any of it, the mean confidence. Word tables become one line per row,
"指标：…；分值：…" (the header row's cells as labels), in document order, and are
marked as blocks to keep in one chunk.

Deliberately not here: cleaning (``ingest.clean``) or metadata.
"""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.ocr import OcrOptions
from ingest.paged import Progress, read_image, read_pdf
from rag.errors import IngestError
from rag.files import IMAGE_SUFFIXES, check_file

_CJK_ENCODINGS = ["utf_8", "gb18030", "gbk", "big5", "utf_16"]
_MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024


@dataclass(frozen=True)
class LoadedText:
    """A file's text; offsets in ``page_starts`` and ``blocks`` refer to ``text``."""

    text: str
    encoding: str
    page_starts: tuple[int, ...] = ()  # where each page begins (paged files only)
    ocr_confidence: float | None = None  # mean OCR confidence when any text was recognised
    blocks: tuple[tuple[int, int], ...] = ()  # spans to keep in one chunk (Word tables)


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


def parse_bytes(data: bytes, suffix: str, source: str, ocr: OcrOptions | None = None,
                progress: Progress | None = None) -> LoadedText:
    """Text of a file's bytes according to its type; ``IngestError`` when there is none.

    ``progress(done, total)`` is called after each page recognised by OCR.
    """
    suffix = suffix.lower()
    ocr = ocr or OcrOptions()
    if suffix == ".docx":
        text, blocks = _docx_text(data, source)
        loaded = LoadedText(text, "docx", blocks=blocks)
    elif suffix == ".pdf" or suffix in IMAGE_SUFFIXES:
        paged = (read_pdf if suffix == ".pdf" else read_image)(data, source, ocr, progress)
        kind = "pdf" if suffix == ".pdf" else "image"
        loaded = LoadedText(paged.text, f"{kind}+ocr" if paged.ocr_confidence is not None else kind,
                            paged.page_starts, paged.ocr_confidence)
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


def _docx_text(data: bytes, source: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Paragraphs and tables in document order, and the span of each table's rows."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > _MAX_DOCX_UNCOMPRESSED:
                raise IngestError(source, "docx 解压后体积异常（疑似压缩炸弹），已拒绝")
    except zipfile.BadZipFile as err:
        raise IngestError(source, "docx 文件已损坏（不是有效的 zip 包）") from err
    from docx import Document as DocxDocument
    from docx.table import Table

    try:
        doc = DocxDocument(io.BytesIO(data))
        parts = list(doc.iter_inner_content())
    except Exception as err:  # python-docx raises many kinds on broken parts
        raise IngestError(source, f"docx 文件无法解析（{type(err).__name__}）") from err
    lines: list[str] = []
    blocks: list[tuple[int, int]] = []
    length = 0
    for part in parts:
        rows = table_rows(part) if isinstance(part, Table) else [part.text]
        start = length
        for row in rows:
            lines.append(row)
            length += len(row) + 1
        if isinstance(part, Table) and rows:
            blocks.append((start, length - 1))
    return "\n".join(lines), tuple(blocks)


def table_rows(table: object) -> list[str]:
    """One line per row: "指标：…；分值：…" labelled by the header row; merged cells once."""
    rows = []
    for row in table.rows:  # type: ignore[attr-defined]
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue  # a merged cell is returned once per grid column it spans
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        rows.append(cells)
    rows = [r for r in rows if any(r)]
    if len(rows) < 2 or len(rows[0]) < 2:
        return ["；".join(c for c in r if c) for r in rows]
    header = rows[0]
    out = ["；".join(c for c in header if c)]
    for cells in rows[1:]:
        labelled = [f"{h}：{c}" if h and h != c else c for h, c in zip(header, cells, strict=False) if c]
        labelled += [c for c in cells[len(header):] if c]
        out.append("；".join(labelled) + ("" if labelled and labelled[-1][-1:] in "。；" else "。"))
    return out
