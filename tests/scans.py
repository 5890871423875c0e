"""Scanned documents built in code: article text rendered to page images with Pillow and a CJK font.

Pages are A4-proportioned at 150 dpi (1240 × 1754 px), paragraphs indented by two
characters, optionally in two columns and with a running header and a page-number
footer. ``scanned_pdf`` puts the pages in an image-only PDF (no text layer), as a
scanner does; ``mixed_pdf`` writes text-layer pages (reportlab with the same font)
and scanned pages in one file, as an office's merged PDF has them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
PAGE = (1240, 1754)
MARGIN = 110
FONT_PX = 30
LINE_GAP = 18


@dataclass(frozen=True)
class RenderedPage:
    image: Image.Image
    text: str  # the body lines drawn on this page (no header, no page number)


def _font(size: int = FONT_PX) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size)


def _wrap(paragraph: str, width: int, font: ImageFont.FreeTypeFont) -> list[str]:
    """Lines of a paragraph within ``width`` pixels, the first indented by two characters."""
    lines, line = [], "\u3000\u3000"
    for ch in paragraph:
        if font.getlength(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    lines.append(line)
    return lines


def render_pages(text: str, *, columns: int = 1, header: str = "", footer: bool = False,
                 size: tuple[int, int] = PAGE) -> list[RenderedPage]:
    """Page images of ``text`` (paragraphs split at line breaks)."""
    font = _font()
    step = FONT_PX + LINE_GAP
    gap = 60
    col_width = (size[0] - 2 * MARGIN - (columns - 1) * gap) // columns
    lines = [ln for p in text.split("\n") if p.strip() for ln in _wrap(p.strip(), col_width, font)]
    top = MARGIN + (step * 2 if header else 0)
    bottom = size[1] - MARGIN - (step * 2 if footer else 0)
    per_column = (bottom - top) // step
    pages: list[RenderedPage] = []
    while lines:
        drawn: list[str] = []
        image = Image.new("L", size, 255)
        draw = ImageDraw.Draw(image)
        if header:
            draw.text((size[0] // 2 - font.getlength(header) // 2, MARGIN), header, fill=0, font=font)
            draw.line((MARGIN, MARGIN + step + 6, size[0] - MARGIN, MARGIN + step + 6), fill=0, width=2)
        for col in range(columns):
            x = MARGIN + col * (col_width + gap)
            for row in range(per_column):
                if not lines:
                    break
                drawn.append(lines.pop(0))
                draw.text((x, top + row * step), drawn[-1], fill=0, font=font)
        if footer:
            number = f"- {len(pages) + 1} -"
            draw.text((size[0] // 2 - font.getlength(number) // 2, size[1] - MARGIN - FONT_PX), number,
                      fill=0, font=font)
        pages.append(RenderedPage(image, "\n".join(drawn)))
    return pages


def scanned_pdf(pages: Sequence[Image.Image], path: Path) -> Path:
    """An image-only PDF of ``pages`` (what a scanner produces: no text layer)."""
    pages[0].save(path, "PDF", resolution=150.0, save_all=True, append_images=list(pages[1:]))
    return path


def image_bytes(page: Image.Image, kind: str) -> bytes:
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, kind, quality=92) if kind == "JPEG" else page.save(buffer, kind)
    return buffer.getvalue()


def mixed_pdf(items: Sequence[str | Image.Image], path: Path) -> Path:
    """A PDF whose pages are text (a ``str``: drawn as text, with a text layer) or scans (an image)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", str(FONT), subfontIndex=0))
    width, height = 595.0, 842.0
    pdf = canvas.Canvas(str(path), pagesize=(width, height))
    for item in items:
        if isinstance(item, str):
            pdf.setFont("WQY", 12)
            y = height - 72
            for paragraph in item.split("\n"):
                for i in range(0, len(paragraph), 36):
                    pdf.drawString(72 if i else 96, y, paragraph[i:i + 36])
                    y -= 18
        else:
            pdf.drawImage(ImageReader(item.convert("RGB")), 0, 0, width, height)
        pdf.showPage()
    pdf.save()
    return path
