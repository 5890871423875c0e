"""Shared data types that flow ingest -> store -> retrieve -> answer.

Small frozen dataclasses only: no behaviour beyond trivial derived values and
(de)serialisation helpers. Every other module speaks in these types; nothing
here imports a heavy dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FileStatus = Literal["added", "updated", "unchanged", "failed", "removed"]  # what an ingest did to a file
EventKind = Literal["evidence", "waiting", "token", "answer"]  # steps of a streamed answer (``rag.chain``)
ProviderKind = Literal["local", "openai", "none"]  # answer providers (``rag.llm``)
RewriteSource = Literal["model", "rule", ""]  # who made a follow-up standalone ("" = not a follow-up)
AnswerPath = Literal["model", "evidence", "refusal"]  # what produced an answer's final text
# Why the evidence-only answer replaced or completed the model's ("" when it did not):
Fallback = Literal["", "unavailable", "busy", "failed", "empty", "refused_against_evidence", "unsupported_numbers",
                   "unsupported_names", "unquoted_short", "uncited", "missing_parts", "more_items"]
SourceKind = Literal["文章", "公文"]  # what a stored document is: an article, or an official document (公文)
SOURCE_KINDS: tuple[SourceKind, ...] = ("文章", "公文")


def page_at(page_starts: Sequence[int], offset: int) -> int | None:
    """The 1-based page holding ``offset`` of a paged text (``page_starts``: where each page begins, first 0).

    ``None`` for unpaged text (no page map at all); a one-page document passes ``(0,)``.
    """
    if not page_starts:
        return None
    return max(1, sum(1 for s in page_starts if s <= offset))


@dataclass(frozen=True)
class OfficialHeader:
    """The header fields of an official document (公文) that were found; empty strings where absent."""

    organ: str = ""  # 发文机关
    number: str = ""  # 发文字号, e.g. 中组发〔2023〕5号
    title: str = ""
    issued: str = ""  # 成文日期, ISO YYYY-MM-DD
    secrecy: str = ""  # 密级 line, e.g. 秘密★1年
    urgency: str = ""  # 紧急程度, e.g. 特急

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Document:
    """One source file after loading and cleaning.

    ``text`` is the cleaned text; all character offsets elsewhere refer to it.
    ``offset_runs`` maps cleaned offsets back to the original file's decoded
    text: each run ``(clean_start, orig_start, length)`` says that
    ``text[clean_start:clean_start+length]`` was copied from the original at
    ``orig_start``.
    """

    source: str  # file name as ingested (relative to the ingested folder)
    path: str  # absolute path at ingest time
    sha256: str  # hash of the raw file bytes
    text: str
    title: str
    regions: tuple[str, ...] = ()
    outlet: str = ""
    reporters: str = ""
    date: str = ""  # ISO date (YYYY-MM-DD) when the article states one
    encoding: str = "utf-8"
    offset_runs: tuple[tuple[int, int, int], ...] = ()
    kind: SourceKind = "文章"
    official: OfficialHeader | None = None  # the 公文 header fields, for kind 公文
    page_starts: tuple[int, ...] = ()  # offsets where each page begins (first is 0); () for unpaged text
    ocr_confidence: float | None = None  # mean recognition confidence when any text came from OCR

    def page_at(self, offset: int) -> int | None:
        return page_at(self.page_starts, offset)

    def page_span(self, page: int) -> tuple[int, int]:
        """``[start, end)`` of the text of 1-based ``page`` (the whole text for unpaged documents)."""
        if not self.page_starts:
            return 0, len(self.text)
        starts = [*self.page_starts, len(self.text)]
        page = min(max(page, 1), len(self.page_starts))
        return starts[page - 1], starts[page]

    def original_offset(self, clean_offset: int) -> int:
        """Map a cleaned-text offset back to the original decoded text."""
        for clean_start, orig_start, length in self.offset_runs:
            if clean_start <= clean_offset < clean_start + length:
                return orig_start + (clean_offset - clean_start)
        return -1


@dataclass(frozen=True)
class Chunk:
    """A contiguous span ``[start, end)`` of a document's cleaned text."""

    chunk_id: str
    source: str
    ordinal: int
    start: int
    end: int
    text: str
    title: str = ""
    regions: tuple[str, ...] = ()
    page: int | None = None  # page of the chunk's first character (paged documents only)
    page_breaks: tuple[int, ...] = ()  # offsets inside the chunk where a later page begins
    ocr_confidence: float | None = None  # its document's mean OCR confidence, when OCR read it

    def page_at(self, offset: int) -> int | None:
        """The page of document offset ``offset`` inside this chunk (``None`` for unpaged text)."""
        if self.page is None:
            return None
        return self.page + sum(1 for b in self.page_breaks if b <= offset)


@dataclass(frozen=True)
class SearchHit:
    """A retrieved chunk with its fused score (0..1, higher is better)."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None
    similarity: float | None = None  # dense cosine similarity, when the dense retriever found it

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "source": c.source,
            "title": c.title,
            "regions": list(c.regions),
            "chunk_id": c.chunk_id,
            "start": c.start,
            "end": c.end,
            "page": c.page,
            "score": round(self.score, 6),
            "text": c.text,
        }


@dataclass(frozen=True)
class SearchResult(Sequence[SearchHit]):
    """What one search returned: its hits in rank order (the sequence itself) and its own timings."""

    hits: tuple[SearchHit, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, index: Any) -> Any:
        return self.hits[index]

    def __len__(self) -> int:
        return len(self.hits)


@dataclass(frozen=True)
class SourceInfo:
    """One row of the knowledge base's manifest, as shown by ``rag sources``."""

    source: str
    title: str
    regions: tuple[str, ...]
    chunks: int
    ingested_at: str
    sha256: str = ""
    path: str = ""
    kind: SourceKind = "文章"
    official: OfficialHeader | None = None
    pages: int | None = None  # number of pages of a paged document
    ocr_confidence: float | None = None

    @property
    def label(self) -> str:
        """What listings show after the title: "公文 · 共 3 页 · OCR 识别（置信度 0.96）"."""
        parts = ["公文"] if self.kind == "公文" else []
        if self.pages:
            parts.append(f"共 {self.pages} 页")
        if self.ocr_confidence is not None:
            parts.append(f"OCR 识别（置信度 {self.ocr_confidence:.2f}）")
        return " · ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "regions": list(self.regions),
            "chunks": self.chunks,
            "ingested_at": self.ingested_at,
            "kind": self.kind,
            "official": self.official.to_json() if self.official else None,
            "pages": self.pages,
            "ocr_confidence": self.ocr_confidence,
        }


@dataclass(frozen=True)
class Citation:
    """A quoted span ``[start, end)`` of ``source``'s cleaned text, numbered ``n``."""

    n: int
    source: str
    title: str
    regions: tuple[str, ...]
    quote: str
    start: int
    end: int
    page: int | None = None  # page of the quote's first character (paged documents only)
    ocr_confidence: float | None = None  # its document's mean OCR confidence, when OCR read it

    @property
    def location(self) -> str:
        """Where the quote stands, for people: "第 3 页，第 120–180 字，OCR 识别（置信度 0.97）"."""
        parts = [f"第 {self.page} 页"] if self.page is not None else []
        parts.append(f"第 {self.start}–{self.end} 字")
        if self.ocr_confidence is not None:
            parts.append(f"OCR 识别（置信度 {self.ocr_confidence:.2f}）")
        return "，".join(parts)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["regions"] = list(self.regions)
        return d


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation, for rewriting follow-up questions."""

    question: str
    answer: str = ""


@dataclass(frozen=True)
class Answer:
    """An answer always travels with its citations, never as a bare string.

    ``evidence`` is everything numbered [1]..[n] for the model; ``citations``
    the subset the answer actually cites. ``flagged`` lists claims that carried
    no valid citation mark; ``notice`` says why an answer was degraded (e.g.
    the model failed and the evidence-only answer was given instead); ``answered_by``
    what produced the final text: the model, the evidence-only composition, or a refusal;
    ``fallback`` why evidence replaced or completed the model's text; ``parts`` the
    questions a multi-part question was split into (``rag.parts``), each answered.
    """

    question: str
    text: str
    citations: tuple[Citation, ...]
    refused: bool = False
    llm: str = "none"
    retrieved: tuple[SearchHit, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    evidence: tuple[Citation, ...] = ()
    flagged: tuple[str, ...] = ()
    standalone_question: str = ""
    notice: str = ""
    rewritten_by: RewriteSource = ""
    answered_by: AnswerPath = "evidence"
    fallback: Fallback = ""
    parts: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The one serialized form of an answer: ``rag ask --json`` (documented in the README).

        Feedback lines and evaluation rows are this object with their own fields added.
        """
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "llm": self.llm,
            "citations": [c.to_json() for c in self.citations],
            "retrieved": [h.to_json() for h in self.retrieved],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "evidence": [c.to_json() for c in self.evidence],
            "flagged": list(self.flagged),
            "standalone_question": self.standalone_question,
            "notice": self.notice,
            "rewritten_by": self.rewritten_by,
            "answered_by": self.answered_by,
            "fallback": self.fallback,
            "parts": list(self.parts),
        }


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file during an ingest run."""

    source: str
    status: FileStatus
    chunks: int = 0
    error: str = ""


@dataclass(frozen=True)
class IngestReport:
    """Summary of one ingest run."""

    outcomes: tuple[FileOutcome, ...]
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage (see ingest.pipeline)

    def count(self, status: FileStatus) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def chunks(self) -> int:
        return sum(o.chunks for o in self.outcomes if o.status in ("added", "updated"))

    @property
    def failed(self) -> tuple[FileOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")
