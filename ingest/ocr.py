"""Offline OCR of page images into paragraphs in reading order (RapidOCR, PP-OCRv4 Chinese).

``recognize_page`` runs RapidOCR (``rapidocr-onnxruntime``, whose wheel carries the
PP-OCRv4 detection/recognition models, so nothing is downloaded) on one image and
lays the recognised lines out as a reader would:

- columns: a vertical gutter that narrow lines never cross splits the page; lines
  that span it (a title over two columns) are read in place, and between them the
  left column is read before the right one;
- lines: boxes whose vertical centres agree are one line, read left to right;
- paragraphs: a new one starts at an indented line, after a line that ends well
  short of the column's right edge, or after a large vertical gap. Lines of one
  paragraph are joined without a break (Chinese has no spaces between words);
- half-width punctuation next to Chinese characters becomes full-width (，：；？！（）),
  as the articles write it, so sentences split as in text files.

Every paragraph keeps its lines' confidences. Running headers, footers and page
numbers are dropped across pages by ``drop_running_lines`` (used for text-layer
PDFs too). Images are bounded (``OcrOptions.max_pixels``) before decoding.

Deliberately not here: reading PDFs or files (``ingest.paged``), or correcting
recognised words.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_CJK = r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef“”]"
_HALF_TO_FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
_HALF_PUNCT = re.compile(rf"(?<={_CJK})([,:;?!()])|([,:;?!()])(?={_CJK})")
_PAGE_NUMBER = re.compile(r"^[-—–－\s]*(第\s*)?[0-9０-９]{1,4}\s*(页)?"
                          r"(\s*/\s*[0-9]{1,4}|\s*共\s*[0-9]{1,4}\s*页)?[-—–－\s]*$")
_DIGITS = re.compile(r"[0-9０-９]+")


@dataclass(frozen=True)
class OcrOptions:
    """Limits and resolution of OCR (from ``RAG_OCR_*`` settings)."""

    max_pages: int = 200  # pages needing OCR in one file; more is refused
    max_pixels: int = 40_000_000  # an image larger than this is refused before it is decoded
    dpi: int = 200  # resolution PDF pages are rendered at
    max_side: int = 3000  # longer sides are scaled down to this before recognition


@dataclass(frozen=True)
class OcrLine:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float


@dataclass(frozen=True)
class OcrParagraph:
    text: str
    scores: tuple[float, ...]
    top: float  # 0..1 of the page height
    bottom: float


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    # text_score: keep low-confidence lines (the document is marked with its confidence instead)
    return RapidOCR(intra_op_num_threads=2, inter_op_num_threads=1, text_score=0.2)


def recognize_page(image: Any) -> list[OcrParagraph]:
    """Paragraphs of one page image (a PIL image), in reading order."""
    import numpy as np

    rgb = np.asarray(image.convert("RGB"))
    # no angle classifier: pages are upright, and it turned some upright lines over (lost lines)
    result, _ = _engine()(rgb, use_cls=False)
    # a line of symbols alone (■, ○, a frame) is a shape read as text, not text
    lines = [_line(box, text, score) for box, text, score in (result or []) if any(ch.isalnum() for ch in text)]
    return layout(lines, image.width, image.height)


def _line(box: Sequence[Sequence[float]], text: str, score: float) -> OcrLine:
    xs, ys = [p[0] for p in box], [p[1] for p in box]
    return OcrLine(min(xs), min(ys), max(xs), max(ys), text.strip(), float(score))


def layout(lines: Sequence[OcrLine], width: float, height: float) -> list[OcrParagraph]:
    """Reading-order paragraphs of recognised line boxes (see the module docstring)."""
    if not lines:
        return []
    char = statistics.median(ln.y1 - ln.y0 for ln in lines)
    paragraphs: list[OcrParagraph] = []
    for segment in _segments(lines, width, char):
        paragraphs.extend(_paragraphs(_visual_lines(segment, char), char, height))
    return paragraphs


def _gutter(lines: Sequence[OcrLine], width: float, char: float) -> float | None:
    """The x of a vertical gap between two columns of narrow lines, if the page has one.

    A few narrow lines may cross it (a running header, a centred title or page number):
    they are read as lines spanning the columns.
    """
    narrow = [ln for ln in lines if ln.x1 - ln.x0 < 0.55 * width]
    if len(narrow) < 6:
        return None
    lo, hi = int(0.25 * width), int(0.75 * width)
    covered = [0] * (hi - lo)
    for ln in narrow:
        for x in range(max(lo, int(ln.x0)), min(hi, int(ln.x1) + 1)):
            covered[x - lo] += 1
    allowed = max(1, len(narrow) // 12)
    best, run_start, best_len = None, None, 0
    for i, count in enumerate([*covered, allowed + 1]):
        if count <= allowed and run_start is None:
            run_start = i
        elif count > allowed and run_start is not None:
            if i - run_start > best_len:
                best, best_len = lo + (run_start + i) / 2, i - run_start
            run_start = None
    if best is None or best_len < char:
        return None
    left = sum(1 for ln in narrow if ln.x1 <= best)
    right = sum(1 for ln in narrow if ln.x0 >= best)
    return best if left >= 3 and right >= 3 else None


def _segments(lines: Sequence[OcrLine], width: float, char: float) -> list[list[OcrLine]]:
    """Groups of lines to read one after another: spanning lines, then each column between them.

    A line spans when it reaches well into both columns; one that pokes across the gutter
    by a character or so (a box around a leading "，") belongs to the side holding most of it.
    """
    gutter = _gutter(lines, width, char)
    if gutter is None:
        return [list(lines)]

    def spans(ln: OcrLine) -> bool:
        return gutter - ln.x0 > 2 * char and ln.x1 - gutter > 2 * char

    def left(ln: OcrLine) -> bool:
        return gutter - ln.x0 >= ln.x1 - gutter

    spanning = sorted((ln for ln in lines if spans(ln)), key=lambda ln: ln.y0)
    columns = [ln for ln in lines if not spans(ln)]
    segments: list[list[OcrLine]] = []
    top = float("-inf")
    for bar in [*spanning, None]:
        bottom = bar.y0 if bar is not None else float("inf")
        band = [ln for ln in columns if top <= (ln.y0 + ln.y1) / 2 < bottom]
        segments.append([ln for ln in band if left(ln)])
        segments.append([ln for ln in band if not left(ln)])
        if bar is not None:
            segments.append([bar])
            top = bar.y1
    return [s for s in segments if s]


def _visual_lines(lines: Sequence[OcrLine], char: float) -> list[OcrLine]:
    """Boxes merged into text lines (same vertical centre), read left to right, top to bottom."""
    rows: list[list[OcrLine]] = []
    for ln in sorted(lines, key=lambda b: (b.y0 + b.y1) / 2):
        centre = (ln.y0 + ln.y1) / 2
        if rows and abs(centre - statistics.fmean((b.y0 + b.y1) / 2 for b in rows[-1])) < 0.5 * char:
            rows[-1].append(ln)
        else:
            rows.append([ln])
    merged = []
    for row in rows:
        row.sort(key=lambda b: b.x0)
        text = row[0].text
        for prev, box in itertools.pairwise(row):
            text = _join(text, box.text, gap=box.x0 - prev.x1 > char)
        score = statistics.fmean(b.score for b in row)
        merged.append(OcrLine(row[0].x0, min(b.y0 for b in row), row[-1].x1, max(b.y1 for b in row), text, score))
    return merged


def _join(left: str, right: str, gap: bool = False) -> str:
    """Join two pieces of one line or paragraph: a space only between two Latin/number words."""
    if left and right and left[-1].isascii() and left[-1].isalnum() and right[0].isascii() and right[0].isalnum():
        return f"{left} {right}"
    return f"{left}{' ' if gap and left[-1:].isascii() and right[:1].isascii() else ''}{right}"


def _paragraphs(lines: Sequence[OcrLine], char: float, height: float) -> list[OcrParagraph]:
    # margins by the bulk of the lines: a box around a leading "，" or a trailing "。" pokes out
    starts, ends = sorted(ln.x0 for ln in lines), sorted(ln.x1 for ln in lines)
    left, right = starts[len(starts) // 5], ends[len(ends) * 4 // 5]
    paragraphs: list[list[OcrLine]] = []
    for ln in lines:
        prev = paragraphs[-1][-1] if paragraphs else None
        starts = (prev is None or ln.x0 > left + 0.9 * char or prev.x1 < right - 2.0 * char
                  or ln.y0 - prev.y1 > 1.2 * char)
        if starts:
            paragraphs.append([ln])
        else:
            paragraphs[-1].append(ln)
    out = []
    for group in paragraphs:
        text = group[0].text
        for ln in group[1:]:
            text = _join(text, ln.text)
        out.append(OcrParagraph(full_width_punctuation(text), tuple(ln.score for ln in group),
                                group[0].y0 / height, group[-1].y1 / height))
    return out


def full_width_punctuation(text: str) -> str:
    """Half-width , : ; ? ! ( ) beside a Chinese character written full-width, as in the articles."""
    return _HALF_PUNCT.sub(lambda m: _HALF_TO_FULL[m.group(1) or m.group(2)], text)


def is_page_number(line: str) -> bool:
    """"3", "- 3 -", "第3页", "第 3 页 共 10 页", "3/10"."""
    return bool(_PAGE_NUMBER.match(line.strip()))


def drop_running_lines(pages: Sequence[Sequence[str]], edge: int = 2) -> list[list[str]]:
    """Pages of lines without page numbers and headers/footers repeated on other pages.

    Only the first and last ``edge`` lines of a page are candidates; a line is running
    when the same line (digits ignored) stands at an edge of at least two pages, or of
    half the pages of a long document.
    """
    def key(line: str) -> str:
        return _DIGITS.sub("#", re.sub(r"\s+", "", line))

    counts: dict[str, int] = {}
    for lines in pages:
        for k in {key(lines[i]) for i in _edges(len(lines), edge)}:
            counts[k] = counts.get(k, 0) + 1
    needed = max(2, len(pages) // 2) if len(pages) > 4 else 2
    out = []
    for lines in pages:
        edges = _edges(len(lines), edge)
        out.append([ln for i, ln in enumerate(lines)
                    if i not in edges or not (is_page_number(ln) or counts.get(key(ln), 0) >= needed)])
    return out


def _edges(n: int, edge: int) -> set[int]:
    return set(range(min(edge, n))) | set(range(max(0, n - edge), n))
