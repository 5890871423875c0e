"""The manifest: a SQLite file that is the source of truth of a knowledge base.

It holds, per document, the file hash, the embedding model, metadata (the
公文 header, page map and OCR confidence as one JSON column), the cleaned
text with its offset map, and the chunks (text, span, page, keyword
tokens). Chroma and the BM25 index are derived from it and checked against
it. A ``generation`` counter increases on every change so derived indexes
know when they are stale. Each document is replaced in one transaction.

Deliberately not here: embeddings, Chroma, or file parsing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rag.types import Chunk, Document, OfficialHeader, SourceInfo, SourceKind

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, model_id TEXT NOT NULL,
    title TEXT NOT NULL, regions TEXT NOT NULL, outlet TEXT NOT NULL, reporters TEXT NOT NULL,
    date TEXT NOT NULL, encoding TEXT NOT NULL, text TEXT NOT NULL, offset_runs TEXT NOT NULL,
    ingested_at TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, source TEXT NOT NULL REFERENCES documents(source) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, tokens TEXT NOT NULL, page INTEGER, page_breaks TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks(source, ordinal);
CREATE INDEX IF NOT EXISTS documents_by_sha256 ON documents(sha256);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Columns added after the first release: a data folder made before them gains them on open.
_ADDED_COLUMNS = (
    ("documents", "extra", "TEXT NOT NULL DEFAULT '{}'"),
    ("chunks", "page", "INTEGER"),
    ("chunks", "page_breaks", "TEXT NOT NULL DEFAULT ''"),
)


class Manifest:
    """Documents and chunks of one data folder."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(_SCHEMA)
        for table, column, kind in _ADDED_COLUMNS:
            present = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                with self.db:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def close(self) -> None:
        self.db.close()

    # -- meta -----------------------------------------------------------------
    def get_meta(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation", "0"))

    def _bump(self) -> None:
        self._set_meta("generation", str(self.generation + 1))

    # -- documents ------------------------------------------------------------
    def sha256_of(self, source: str) -> tuple[str, str] | None:
        """(file sha256, model id) recorded for ``source``, or None."""
        row = self.db.execute("SELECT sha256, model_id FROM documents WHERE source=?", (source,)).fetchone()
        return (row[0], row[1]) if row else None

    def sources_with_content(self, sha256: str, other_than: str) -> list[tuple[str, str]]:
        """(source, file path) of other stored documents whose file has this sha256."""
        rows = self.db.execute("SELECT source, path FROM documents WHERE sha256=? AND source<>? ORDER BY source",
                               (sha256, other_than))
        return [(r[0], r[1]) for r in rows]

    def chunk_ids(self, source: str) -> list[str]:
        rows = self.db.execute("SELECT chunk_id FROM chunks WHERE source=? ORDER BY ordinal", (source,))
        return [r[0] for r in rows]

    def put(self, doc: Document, chunks: list[Chunk], tokens: list[list[str]], model_id: str) -> None:
        """Replace ``doc`` and all its chunks in one transaction."""
        now = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
        with self.db:
            self.db.execute("DELETE FROM documents WHERE source=?", (doc.source,))
            self.db.execute(
                "INSERT INTO documents(source, path, sha256, model_id, title, regions, outlet, reporters, date, "
                "encoding, text, offset_runs, ingested_at, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (doc.source, doc.path, doc.sha256, model_id, doc.title,
                 json.dumps(list(doc.regions), ensure_ascii=False), doc.outlet, doc.reporters,
                 doc.date, doc.encoding, doc.text, json.dumps(doc.offset_runs), now, _extra_json(doc)),
            )
            self.db.executemany(
                'INSERT INTO chunks(chunk_id, source, ordinal, start, "end", text, tokens, page, page_breaks) '
                "VALUES (?,?,?,?,?,?,?,?,?)",
                [(c.chunk_id, c.source, c.ordinal, c.start, c.end, c.text, " ".join(t), c.page,
                  " ".join(map(str, c.page_breaks))) for c, t in zip(chunks, tokens, strict=True)],
            )
            self._bump()

    def remove(self, source: str) -> bool:
        with self.db:
            cur = self.db.execute("DELETE FROM documents WHERE source=?", (source,))
            if cur.rowcount:
                self._bump()
        return bool(cur.rowcount)

    def sources(self) -> list[SourceInfo]:
        rows = self.db.execute(
            "SELECT d.source, d.title, d.regions, COUNT(c.chunk_id), d.ingested_at, d.sha256, d.path, d.extra "
            "FROM documents d LEFT JOIN chunks c ON c.source = d.source GROUP BY d.source ORDER BY d.source"
        )
        infos = []
        for r in rows:
            extra = _Extra.parse(r[7])
            infos.append(SourceInfo(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], r[5], r[6], kind=extra.kind,
                                    official=extra.official, pages=len(extra.page_starts) or None,
                                    ocr_confidence=extra.ocr_confidence))
        return infos

    _DOCUMENT = ("SELECT source, path, sha256, text, title, regions, outlet, reporters, date, encoding, "
                 "offset_runs, extra FROM documents")

    def document(self, source: str) -> Document | None:
        row = self.db.execute(f"{self._DOCUMENT} WHERE source=?", (source,)).fetchone()
        return None if row is None else _document(row)

    def documents(self, containing: str = "") -> Iterator[Document]:
        """Every stored document in source order; with ``containing``, only those whose text has it."""
        where, args = ("WHERE instr(text, ?) > 0", (containing,)) if containing else ("", ())
        for row in self.db.execute(f"{self._DOCUMENT} {where} ORDER BY source", args).fetchall():
            yield _document(row)

    # -- chunks ---------------------------------------------------------------
    def chunks_by_id(self, ids: list[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                'SELECT c.chunk_id, c.source, c.ordinal, c.start, c."end", c.text, d.title, d.regions, c.page, '
                "c.page_breaks, json_extract(d.extra, '$.ocr_confidence') "
                f"FROM chunks c JOIN documents d ON d.source = c.source WHERE c.chunk_id IN ({marks})",
                part,
            )
            for r in rows:
                breaks = tuple(int(b) for b in r[9].split()) if r[9] else ()
                out[r[0]] = Chunk(r[0], r[1], r[2], r[3], r[4], r[5], r[6], tuple(json.loads(r[7])), r[8], breaks,
                                  r[10])
        return out

    def iter_tokens(self) -> Iterator[tuple[str, str, list[str]]]:
        """(chunk_id, source, tokens) of every chunk, in a stable order."""
        for chunk_id, source, tokens in self.db.execute(
                "SELECT chunk_id, source, tokens FROM chunks ORDER BY source, ordinal"):
            yield chunk_id, source, tokens.split(" ") if tokens else []

    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT chunk_id FROM chunks")}

    def chunk_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])


@dataclass(frozen=True)
class _Extra:
    """Document fields added after the first schema, kept as one JSON column (``extra``)."""

    kind: SourceKind = "文章"
    official: OfficialHeader | None = None
    page_starts: tuple[int, ...] = ()
    ocr_confidence: float | None = None

    @classmethod
    def parse(cls, raw: str) -> _Extra:
        data = json.loads(raw or "{}")
        official = data.get("official")
        return cls(kind=data.get("kind", "文章"), official=OfficialHeader(**official) if official else None,
                   page_starts=tuple(data.get("page_starts", ())), ocr_confidence=data.get("ocr_confidence"))


def _extra_json(doc: Document) -> str:
    return json.dumps({"kind": doc.kind, "official": doc.official.to_json() if doc.official else None,
                       "page_starts": list(doc.page_starts), "ocr_confidence": doc.ocr_confidence},
                      ensure_ascii=False)


def _document(row: tuple) -> Document:
    extra = _Extra.parse(row[11])
    return Document(
        source=row[0], path=row[1], sha256=row[2], text=row[3], title=row[4],
        regions=tuple(json.loads(row[5])), outlet=row[6], reporters=row[7], date=row[8],
        encoding=row[9], offset_runs=tuple(tuple(r) for r in json.loads(row[10])),
        kind=extra.kind, official=extra.official, page_starts=extra.page_starts, ocr_confidence=extra.ocr_confidence,
    )
