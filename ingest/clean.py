"""Clean Chinese news text while keeping a map back to the original.

What it does:
- splits paragraphs at line breaks and at runs of full-width spaces (the
  ``　　`` paragraph markers of Chinese news), strips Markdown heading marks;
- joins paragraphs that a page break cut mid-sentence ("党\\n\\n群活动中心");
- removes stray spaces between CJK characters in body text, collapses other
  whitespace runs, drops control and zero-width characters;
- leaves everything else untouched: quotes 「」“”, numbers like 3.8万 / 97.5%,
  full-width punctuation (no NFKC here).

The result carries ``offset_runs`` (see ``rag.types.Document``) so any span of
the cleaned text can be traced to the original file's decoded text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BREAK = re.compile(r"\r\n|\r|\n|\u3000{2,}")
_SPACE = re.compile(r"[ \t\u3000\u00a0\u2002-\u200a\u202f\u205f]+")
_DROP = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200d\u2060\ufeff\ufffd]")
_HEADING = re.compile(r"#{1,6}\s+")  # used with .match(raw, pos): anchored there
_TERMINAL = set("。！？!?；;…”」』）)】》")
_CONTINUING = set("，、,")
_LONG_PARAGRAPH = 40  # shorter lines are headings/bylines: kept as they are, never joined on


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x3000 <= o <= 0x303F
            or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x2FFFF or o in (0x201C, 0x201D))


@dataclass(frozen=True)
class CleanedText:
    text: str
    offset_runs: tuple[tuple[int, int, int], ...]


class _Builder:
    """Accumulates output text and the copy runs that produced it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.runs: list[tuple[int, int, int]] = []
        self.length = 0

    def copy(self, original: str, start: int, end: int) -> None:
        if end <= start:
            return
        last = self.runs[-1] if self.runs else None
        if last and last[0] + last[2] == self.length and last[1] + last[2] == start:
            self.runs[-1] = (last[0], last[1], last[2] + end - start)
        else:
            self.runs.append((self.length, start, end - start))
        self.parts.append(original[start:end])
        self.length += end - start

    def insert(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)


def _paragraph_spans(raw: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank paragraph, outer whitespace and heading marks removed."""
    spans = []
    pos = 0
    for match in [*_BREAK.finditer(raw), None]:
        end = match.start() if match else len(raw)
        start = pos
        while start < end and (raw[start].isspace() or _DROP.match(raw[start])):
            start += 1
        heading = _HEADING.match(raw, start, end)
        if heading:
            start = heading.end()
        stop = end
        while stop > start and (raw[stop - 1].isspace() or _DROP.match(raw[stop - 1])):
            stop -= 1
        if stop > start:
            spans.append((start, stop))
        pos = match.end() if match else len(raw)
    return spans


def _emit_paragraph(raw: str, start: int, end: int, out: _Builder) -> None:
    long_text = end - start >= _LONG_PARAGRAPH
    pos = start
    for match in re.finditer(f"{_SPACE.pattern}|{_DROP.pattern}", raw[start:end]):
        m_start, m_end = start + match.start(), start + match.end()
        out.copy(raw, pos, m_start)
        pos = m_end
        if _DROP.fullmatch(match.group()):
            continue
        before, after = raw[m_start - 1], raw[m_end] if m_end < end else ""
        if long_text and m_end - m_start == 1 and after and is_cjk(before) and is_cjk(after):
            continue  # a stray single space inside Chinese body text
        if m_end - m_start == 1 and match.group() == " ":
            out.copy(raw, m_start, m_end)
        else:
            out.insert(" ")
    out.copy(raw, pos, end)


def _continues(prev: str, nxt: str) -> bool:
    """True when ``nxt`` continues a sentence that a page break cut off."""
    if not prev or not nxt or prev[-1] in _TERMINAL:
        return False
    if not (is_cjk(prev[-1]) or prev[-1].isalnum()) and prev[-1] not in _CONTINUING:
        return False
    return len(prev) >= _LONG_PARAGRAPH or prev[-1] in _CONTINUING


def clean_text(raw: str) -> CleanedText:
    """Clean ``raw`` (decoded file text) and return the text with its offset map."""
    out = _Builder()
    previous = ""  # the logical paragraph emitted so far (joined pieces included)
    for start, end in _paragraph_spans(raw):
        piece = _Builder()
        _emit_paragraph(raw, start, end, piece)
        text = "".join(piece.parts)
        if not text:
            continue
        joined = _continues(previous, text)
        if out.length and not joined:
            out.insert("\n")
        base = out.length
        out.parts.append(text)
        out.runs.extend((base + c, o, n) for c, o, n in piece.runs)
        out.length += len(text)
        previous = previous + text if joined else text
    return CleanedText("".join(out.parts), tuple(_merge_runs(out.runs)))


def _merge_runs(runs: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    merged: list[tuple[int, int, int]] = []
    for c, o, n in runs:
        if merged and merged[-1][0] + merged[-1][2] == c and merged[-1][1] + merged[-1][2] == o:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + n)
        else:
            merged.append((c, o, n))
    return merged


def to_clean_offset(offset_runs: tuple[tuple[int, int, int], ...], original: int, clean_length: int) -> int:
    """The cleaned-text offset of original offset ``original``: its copy, or the next copied character."""
    for clean_start, orig_start, length in offset_runs:
        if original < orig_start + length:
            return clean_start + max(0, original - orig_start)
    return clean_length
