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

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "regions": list(self.regions),
            "chunks": self.chunks,
            "ingested_at": self.ingested_at,
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
    the model failed and the evidence-only answer was given instead).
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
