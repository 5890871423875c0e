"""The knowledge base of one data folder: manifest + Chroma vectors + BM25.

``KnowledgeBase`` is the only writer of a data folder. It keeps the three
stores in agreement: a document's new vectors are written first, then the
manifest is replaced in one transaction, then vectors no longer referenced
are deleted; ``check()`` finds and repairs any disagreement an interruption
left behind (vectors without a manifest row, manifest chunks without a
vector). Writers take an exclusive lock on the data folder; a second writer
waits a little and is then refused with a clear message.

Deliberately not here: parsing files (``ingest``) or ranking (``rag.retrieval``).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.config import Settings
from rag.errors import RagError
from rag.keyword import KeywordIndex, tokenize
from rag.manifest import Manifest
from rag.regions import load_gazetteer
from rag.timing import StageTimer
from rag.types import Chunk, Document, SourceInfo
from rag.vectorstore import VectorStore

if TYPE_CHECKING:
    from rag.embeddings import SentenceTransformerEmbeddings


@dataclass(frozen=True)
class CheckReport:
    orphan_vectors: int
    missing_vectors: int
    repaired: bool
    keyword_problem: str = ""  # '' when the BM25 index matches the manifest
    chunks: int = 0  # chunks in the manifest

    @property
    def ok(self) -> bool:
        return self.orphan_vectors == 0 and self.missing_vectors == 0 and not self.keyword_problem


class KnowledgeBase:
    """Read and write one data folder. Heavy parts (model, Chroma) open lazily."""

    def __init__(self, settings: Settings, embeddings: SentenceTransformerEmbeddings | None = None,
                 chroma_client: Any = None) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.manifest = Manifest(settings.manifest_path)
        self.keyword = KeywordIndex(self.manifest, settings.bm25_dir)
        self._embeddings = embeddings
        self._chroma_client = chroma_client
        self.timer = StageTimer()  # seconds spent embedding / in Chroma / in the manifest
        self._region_index: dict[str, frozenset[str]] = {}
        self._region_generation = -1
        self._region_lock = threading.Lock()

    @property
    def embeddings(self) -> SentenceTransformerEmbeddings:
        if self._embeddings is None:
            from rag.embeddings import get_embeddings

            self._embeddings = get_embeddings(self.settings)
        return self._embeddings

    @cached_property
    def vectors(self) -> VectorStore:
        emb = self.embeddings
        return VectorStore(self.settings, emb.model_id, emb.dimension, self._chroma_client)

    # -- locking --------------------------------------------------------------
    @contextmanager
    def write_lock(self, wait_seconds: float = 10.0) -> Iterator[None]:
        """Exclusive writer lock on the data folder (fcntl; released if the process dies)."""
        path = self.settings.data_dir / ".write.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_seconds
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise RagError(
                            f"数据目录 {self.settings.data_dir} 正被另一个进程写入，请等它完成后再试。"
                        ) from None
                    time.sleep(0.2)
            yield
        finally:
            os.close(fd)

    # -- reading --------------------------------------------------------------
    def sources(self) -> list[SourceInfo]:
        return self.manifest.sources()

    def document(self, source: str) -> Document | None:
        return self.manifest.document(source)

    def text_lookup(self) -> Callable[[str], str | None]:
        """Stored article text by source name, each read at most once by the returned function.

        For one unit of work (an answer's citations, one evaluated question, one chat
        turn); a fresh lookup sees documents stored after it was made.
        """
        texts: dict[str, str | None] = {}

        def text_of(source: str) -> str | None:
            if source not in texts:
                doc = self.document(source)
                texts[source] = doc.text if doc else None
            return texts[source]

        return text_of

    def sources_in_region(self, tag: str) -> frozenset[str]:
        """Sources tagged with region ``tag`` or a place inside it; rebuilt only when the manifest changes."""
        generation = self.manifest.generation
        with self._region_lock:
            if generation != self._region_generation:
                gazetteer = load_gazetteer()
                index: dict[str, set[str]] = {}
                for info in self.sources():
                    for region in gazetteer.tags(info.regions):
                        index.setdefault(region, set()).add(info.source)
                self._region_index = {t: frozenset(v) for t, v in index.items()}
                self._region_generation = generation
            return self._region_index.get(tag, frozenset())

    def is_unchanged(self, source: str, sha256: str) -> bool:
        known = self.manifest.sha256_of(source)
        return known == (sha256, self.settings.embedding_model)

    # -- writing (call inside write_lock) ---------------------------------------
    def put(self, doc: Document, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Store ``doc`` with its chunks and their vectors, replacing any earlier version."""
        self.put_many([(doc, chunks, vectors)])

    def put_many(self, items: Sequence[tuple[Document, list[Chunk], np.ndarray]]) -> None:
        """``put`` for several documents: one Chroma write for all vectors, then each manifest row.

        An interruption after the vector write leaves orphan vectors, which ``check`` removes.
        """
        gazetteer = load_gazetteer()
        all_chunks = [c for _, chunks, _ in items for c in chunks]
        tags = [gazetteer.tags(doc.regions) for doc, chunks, _ in items for _ in chunks]
        with self.timer.stage("chroma"):
            self.vectors.upsert(all_chunks, np.concatenate([v for _, _, v in items]), tags)
        for doc, chunks, _ in items:
            old_ids = set(self.manifest.chunk_ids(doc.source))
            with self.timer.stage("manifest"):
                self.manifest.put(doc, chunks, [tokenize(f"{doc.title}\n{c.text}") for c in chunks],
                                  self.settings.embedding_model)
            stale = sorted(old_ids - {c.chunk_id for c in chunks})
            if stale:
                with self.timer.stage("chroma"):
                    self.vectors.delete(stale)

    def remove(self, source: str) -> bool:
        ids = self.manifest.chunk_ids(source)
        removed = self.manifest.remove(source)
        if ids:
            self.vectors.delete(ids)
        return removed

    def check(self, repair: bool = True, full: bool = False) -> CheckReport:
        """Compare manifest and Chroma; delete orphan vectors and re-embed missing ones.

        ``full`` (``rag check``) compares every id and verifies the saved BM25 index
        too; otherwise (before each ingest) agreeing counts and a present sample pass.
        """
        manifest_ids = self.manifest.all_chunk_ids()
        keyword_problem = self.keyword.verify(manifest_ids, repair) if full else ""
        if not full and self.vectors.count() == len(manifest_ids) and self._sample_present(manifest_ids):
            return CheckReport(0, 0, False, chunks=len(manifest_ids))  # fast path: counts agree, sample there
        vector_ids = self.vectors.all_ids()
        orphans = sorted(vector_ids - manifest_ids)
        missing = sorted(manifest_ids - vector_ids)
        if repair and (orphans or missing):
            self.vectors.delete(orphans)
            by_id = self.manifest.chunks_by_id(missing)
            for source in sorted({c.source for c in by_id.values()}):
                doc_chunks = [c for c in by_id.values() if c.source == source]
                tags = load_gazetteer().tags(doc_chunks[0].regions)
                self.vectors.upsert(doc_chunks, self.embed_chunks(doc_chunks), [tags] * len(doc_chunks))
        found = bool(orphans or missing or keyword_problem)
        return CheckReport(len(orphans), len(missing), repair and found, keyword_problem, len(manifest_ids))

    def _sample_present(self, ids: set[str], size: int = 50) -> bool:
        sample = sorted(ids)[:: max(1, len(ids) // size)]
        return not sample or len(self.vectors.collection.get(ids=sample, include=[])["ids"]) == len(sample)

    def embed_chunks(self, chunks: list[Chunk]) -> np.ndarray:
        """Document vectors of chunks; the article title is given to the model with each."""
        texts = [embedding_text(c) for c in chunks]
        embeddings = self.embeddings  # loading the model is not embedding time
        with self.timer.stage("embed"):
            return embeddings.encode(texts)


def embedding_text(chunk: Chunk) -> str:
    """What the embedding model sees for a chunk: its title line, then its text."""
    if chunk.title and not chunk.text.startswith(chunk.title):
        return f"{chunk.title}\n{chunk.text}"
    return chunk.text
