"""Chinese text helpers shared by ingest and answering: sentence spans, normalization.

Sentences end at 。！？!?；; and … (closing quotes/brackets stay on the
sentence) and at line breaks. ``normalize`` applies NFKC (full-width to
half-width), lower-cases and drops whitespace, for comparing answers.

Deliberately not here: tokenization (``rag.keyword``) and chunk packing
(``ingest.chunking``).
"""

from __future__ import annotations

import re
import unicodedata

_SENTENCE = re.compile(r"[^。！？!?；;…\n]*(?:[。！？!?；;]+|…+|\n|$)[”’」』）)】》\"']*")
_SPACE = re.compile(r"\s+")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of sentences in ``text[start:end]``, covering it in order, whitespace trimmed."""
    end = len(text) if end is None else end
    spans = []
    for match in _SENTENCE.finditer(text, start, end):
        s, e = match.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def normalize(text: str) -> str:
    """NFKC, lower case, no whitespace: the form answers are compared in."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()
