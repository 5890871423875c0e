"""Paged documents: PDFs (text layer and scanned pages) and images, as text with page starts.

A PDF page with a text layer is read by ``pypdf``; a page without one that holds
images or drawings is rendered by ``pypdfium2`` and recognised by ``ingest.ocr``;
an empty page is skipped. A file mixing both gets both. Running headers, footers
and page numbers are dropped across pages. An image file (png, jpg, tif — every
frame of a multi-page tif is a page —, bmp, webp) is recognised as one page per
frame, after its size is checked from the header alone, so a decompression bomb is
refused before it is decoded. ``progress(done, total)`` is called after each
recognised page.

The result is ``PagedText``: the pages' text joined by blank lines, where each
page begins (offsets into that text), and the mean recognition confidence when any
page was recognised. Every failure is an ``IngestError`` with a Chinese reason.

Deliberately not here: cleaning or metadata (``ingest.clean``, ``ingest.metadata``).
"""

from __future__ import annotations

import io
import logging
import statistics
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.ocr import OcrOptions, OcrParagraph, drop_running_lines, recognize_page
from rag.errors import IngestError

_MIN_PAGE_TEXT = 8  # characters: a page with less text than this is treated as a scan
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PagedText:
    text: str
    page_starts: tuple[int, ...]
    ocr_confidence: float | None = None


def _join_pages(pages: Sequence[Sequence[str]], scores: Sequence[float]) -> PagedText:
    parts: list[str] = []
    starts: list[int] = []
    length = 0
    for lines in pages:
        if parts:
            parts.append("\n\n")
            length += 2
        starts.append(length)
        body = "\n".join(lines)
        parts.append(body)
        length += len(body)
    confidence = round(statistics.fmean(scores), 3) if scores else None
    return PagedText("".join(parts), tuple(starts), confidence)


def _recognised(paragraphs: Sequence[OcrParagraph], scores: list[float]) -> list[str]:
    for p in paragraphs:
        scores.extend(p.scores)
    return [p.text for p in paragraphs]


def read_pdf(data: bytes, source: str, options: OcrOptions, progress: Progress | None = None) -> PagedText:
    """Text of a PDF page by page: the text layer where there is one, OCR where a page is a scan."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are English noise beside our message
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise IngestError(source, "PDF 已加密，无法读取文字")
        layer = [(page.extract_text() or "").strip() for page in reader.pages]
    except PdfReadError as err:
        raise IngestError(source, f"PDF 文件已损坏（{err}）") from err
    scans = [i for i, t in enumerate(layer) if len(t) < _MIN_PAGE_TEXT]
    drawn = _pages_with_content(data, scans, source) if scans else []
    if len(drawn) > options.max_pages:
        raise IngestError(source, f"PDF 有 {len(drawn)} 页需要文字识别，超过 {options.max_pages} 页上限"
                                  "（可调整 RAG_OCR_MAX_PAGES，或拆分后导入）")
    if not drawn and not any(len(t) >= _MIN_PAGE_TEXT for t in layer):
        raise IngestError(source, f"PDF 共 {len(layer)} 页，没有文字层，也没有可识别的图像（空白页）")
    recognised: dict[int, list[OcrParagraph]] = {}
    if drawn:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(data)
        try:
            for done, index in enumerate(drawn, 1):
                image = pdf[index].render(scale=options.dpi / 72).to_pil()
                recognised[index] = recognize_page(_bounded(image, options))
                if progress is not None:
                    progress(done, len(drawn))
        finally:
            pdf.close()
    scores: list[float] = []
    pages = []
    for i, text in enumerate(layer):
        if i in recognised:
            pages.append(_recognised(recognised[i], scores))
        elif len(text) >= _MIN_PAGE_TEXT:
            pages.append(text.split("\n"))
    kept = [p for p in drop_running_lines(pages) if p]
    return _join_pages(kept, scores)


def _pages_with_content(data: bytes, indexes: Sequence[int], source: str) -> list[int]:
    """Those of ``indexes`` (pages without text) that show an image or drawing worth recognising."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        raise IngestError(source, f"PDF 文件无法渲染（{err}）") from err
    try:
        return [i for i in indexes if any(True for _ in pdf[i].get_objects(max_depth=1))]
    finally:
        pdf.close()


def read_image(data: bytes, source: str, options: OcrOptions, progress: Progress | None = None) -> PagedText:
    """Text of an image file by OCR, one page per frame."""
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        # Pillow's own message is English: the reason is said in Chinese instead
        raise IngestError(source, "图片像素数远超上限，疑似解压炸弹，已拒绝（可调整 RAG_OCR_MAX_PIXELS）") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise IngestError(source, "不是有效的图片文件（无法识别图片格式或文件已损坏）") from err
    width, height = image.size
    if width * height > options.max_pixels:
        raise IngestError(source, f"图片尺寸 {width}×{height} 超过 {options.max_pixels // 1_000_000} 百万像素上限，"
                                  "疑似解压炸弹，已拒绝（可调整 RAG_OCR_MAX_PIXELS）")
    frames = getattr(image, "n_frames", 1)
    if frames > options.max_pages:
        raise IngestError(source, f"图片有 {frames} 帧，超过 {options.max_pages} 页上限（可调整 RAG_OCR_MAX_PAGES）")
    scores: list[float] = []
    pages = []
    try:
        for done, frame in enumerate(ImageSequence.Iterator(image), 1):
            page = _bounded(ImageOps.exif_transpose(frame.copy()), options)
            pages.append(_recognised(recognize_page(page), scores))
            if progress is not None:
                progress(done, frames)
    except (OSError, SyntaxError, ValueError) as err:
        raise IngestError(source, f"图片文件已损坏，无法解码（{type(err).__name__}）") from err
    kept = [p for p in drop_running_lines(pages) if p]
    if not kept:
        raise IngestError(source, "图片中没有识别出文字")
    return _join_pages(kept, scores)


def _bounded(image: Any, options: OcrOptions) -> Any:
    """The image in RGB (transparency on white), its longer side at most ``options.max_side`` pixels."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    longest = max(image.size)
    if longest > options.max_side:
        scale = options.max_side / longest
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    return image
