"""The knowledge base of one data folder: manifest + Chroma vectors + BM25, behind one front door.

``KnowledgeBase`` is the only way to the stores: the manifest, the vector store and the keyword index are
private, and callers (retrieval, the answer chain, ingest, the UI, the tests) use its methods. It is the only
writer of a data folder and keeps the three stores in agreement: a document's new vectors are written first,
then the manifest is replaced in one transaction, then vectors no longer referenced are deleted; ``check()``
finds and repairs any disagreement an interruption left behind (vectors without a manifest row, manifest
chunks without a vector). Every write method requires the data folder's write lock (``write_lock()``, a
``filelock`` lock released if the process dies) and raises without it; a second writer waits a little and is
then refused with a clear message. Writes that take measurable time record their stages in the caller's
``Timer``; the knowledge base keeps no timings.

Deliberately not here: parsing files (``ingest``) or ranking (``rag.retrieval``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.config import Settings
from rag.errors import RagError
from rag.keyword import KeywordIndex, tokenize
from rag.manifest import Manifest
from rag.regions import load_gazetteer
from rag.timing import Timer
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
    """Read and write one data folder. Heavy parts (model, Chroma) open lazily, or at once with ``open()``."""

    def __init__(self, settings: Settings, embeddings: SentenceTransformerEmbeddings | None = None,
                 chroma_client: Any = None) -> None:
        from filelock import FileLock

        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._manifest = Manifest(settings.manifest_path)
        self._keyword = KeywordIndex(self._manifest, settings.bm25_dir)
        self._embeddings = embeddings
        self._chroma_client = chroma_client
        self._vector_store: VectorStore | None = None
        self._open_lock = threading.Lock()
        self._lock = FileLock(settings.data_dir / ".write.lock", thread_local=True)
        self._region_index: dict[str, frozenset[str]] = {}
        self._region_generation = -1
        self._region_lock = threading.Lock()

    @property
    def embeddings(self) -> SentenceTransformerEmbeddings:
        if self._embeddings is None:
            from rag.embeddings import get_embeddings

            self._embeddings = get_embeddings(self.settings)
        return self._embeddings

    @property
    def _vectors(self) -> VectorStore:
        if self._vector_store is None:
            with self._open_lock:
                if self._vector_store is None:
                    emb = self.embeddings
                    self._vector_store = VectorStore(self.settings, emb.model_id, emb.dimension, self._chroma_client)
        return self._vector_store

    @property
    def is_open(self) -> bool:
        """True once the embedding model is loaded and Chroma is open (nothing left to load)."""
        return self._embeddings is not None and self._vector_store is not None

    def open(self) -> None:
        """Load the embedding model, open Chroma and bring the BM25 index up to date (the first search's cost)."""
        self._vectors  # noqa: B018 - opening is the point
        self._keyword.refresh()

    def close(self) -> None:
        """Release Chroma (its HTTP connections, behind a server); the next call that needs it opens it again."""
        with self._open_lock:
            store, self._vector_store = self._vector_store, None
        if store is not None:
            store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- locking --------------------------------------------------------------
    @contextmanager
    def write_lock(self, wait_seconds: float = 10.0) -> Iterator[None]:
        """Exclusive writer lock on the data folder (reentrant; released if the process dies)."""
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=wait_seconds)
        except Timeout:
            raise RagError(f"数据目录 {self.settings.data_dir} 正被另一个进程写入，请等它完成后再试。") from None
        try:
            yield
        finally:
            self._lock.release()

    def _require_write_lock(self) -> None:
        if not self._lock.is_locked:
            raise RagError("内部错误：写入知识库前必须持有写锁（with kb.write_lock(): …）")

    # -- reading --------------------------------------------------------------
    def sources(self) -> list[SourceInfo]:
        return self._manifest.sources()

    def document(self, source: str) -> Document | None:
        return self._manifest.document(source)

    def documents(self, containing: str = "") -> Iterator[Document]:
        """Every stored document (text and metadata) in source order, or those whose text has ``containing``."""
        return self._manifest.documents(containing)

    def sources_of_kind(self, kind: str | None, among: Sequence[str] | None = None) -> list[str] | None:
        """The documents of one kind (文章 or 公文), among ``among`` when given, for ``--source-type``; ``None``
        (no restriction) when ``kind`` is empty: then ``among`` comes back as it is."""
        if not kind:
            return list(among) if among else None
        return [i.source for i in self.sources() if i.kind == kind and (not among or i.source in among)]

    def is_stored(self, source: str) -> bool:
        return self._manifest.sha256_of(source) is not None

    def is_unchanged(self, source: str, sha256: str) -> bool:
        return self._manifest.sha256_of(source) == (sha256, self.settings.embedding_model)

    def stored_copies(self, sha256: str, other_than: str) -> list[tuple[str, str]]:
        """(source, file path) of other stored documents whose file has this sha256."""
        return self._manifest.sources_with_content(sha256, other_than)

    @property
    def generation(self) -> int:
        """A counter that moves on with every change to the stored documents."""
        return self._manifest.generation

    def chunk_ids(self, source: str | None = None) -> list[str]:
        """Chunk ids of ``source`` in order, or of every stored document (sorted)."""
        return self._manifest.chunk_ids(source) if source is not None else sorted(self._manifest.all_chunk_ids())

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Stored chunks by id (ids no longer stored are left out)."""
        return self._manifest.chunks_by_id(list(ids))

    def document_lookup(self) -> Callable[[str], Document | None]:
        """Stored documents by source name, each read at most once by the returned function: for one unit of
        work (an answer's citations, one evaluated question, one chat turn); a fresh lookup sees later documents."""
        docs: dict[str, Document | None] = {}

        def document_of(source: str) -> Document | None:
            if source not in docs:
                docs[source] = self.document(source)
            return docs[source]

        return document_of

    def text_lookup(self) -> Callable[[str], str | None]:
        """Stored article text by source name (``document_lookup`` for the text alone)."""
        document_of = self.document_lookup()
        return lambda source: doc.text if (doc := document_of(source)) else None

    def sources_in_region(self, tag: str) -> frozenset[str]:
        """Sources tagged with region ``tag`` or a place inside it; rebuilt only when the manifest changes."""
        generation = self.generation
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

    # -- searching ------------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        return self.embeddings.encode([text], query=True)[0]

    def similarities(self, query: str, texts: list[str]) -> np.ndarray:
        """Cosine similarity to ``query`` (embedded as a query) of each of ``texts`` (embedded as passages)."""
        return self.embeddings.encode(texts) @ self.embed_query(query) if texts else np.zeros(0, np.float32)

    def dense_search(self, vector: np.ndarray, k: int, region_tag: str | None = None,
                     sources: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity 0..1) of the ``k`` nearest chunks, optionally filtered."""
        return self._vectors.query(vector, k, region_tag, sources)

    def keyword_search(self, query: str, k: int, allowed_sources: set[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best chunks, optionally only from ``allowed_sources``."""
        return self._keyword.search(query, k, allowed_sources)

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """Inverse document frequency (over chunks) of each token."""
        return self._keyword.idf(tokens) if tokens else {}

    # -- what the stores hold (``rag check``, tests, benchmarks) ------------------
    def vector_ids(self) -> set[str]:
        return self._vectors.all_ids()

    def vector_count(self) -> int:
        return self._vectors.count()

    def vectors_of(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return self._vectors.get_vectors(list(ids))

    def keyword_ids(self) -> list[str]:
        """Chunk ids in the BM25 index, brought up to date with the manifest first."""
        self._keyword.refresh()
        return self._keyword.ids()

    def refresh_keyword_index(self) -> None:
        """Build the BM25 index now (after an ingest) rather than at the next search."""
        self._keyword.refresh()

    # -- writing (inside write_lock) ---------------------------------------------
    def put(self, doc: Document, chunks: list[Chunk], vectors: np.ndarray, timer: Timer | None = None) -> None:
        """Store ``doc`` with its chunks and their vectors, replacing any earlier version."""
        self.put_many([(doc, chunks, vectors)], timer)

    def put_many(self, items: Sequence[tuple[Document, list[Chunk], np.ndarray]], timer: Timer | None = None) -> None:
        """``put`` for several documents: one Chroma write for all vectors, then each manifest row.

        An interruption after the vector write leaves orphan vectors, which ``check`` removes.
        """
        self._require_write_lock()
        stage = timer.stage if timer is not None else (lambda name: nullcontext())
        gazetteer = load_gazetteer()
        all_chunks = [c for _, chunks, _ in items for c in chunks]
        tags = [gazetteer.tags(doc.regions) for doc, chunks, _ in items for _ in chunks]
        with stage("chroma"):
            self._vectors.upsert(all_chunks, np.concatenate([v for _, _, v in items]), tags)
        for doc, chunks, _ in items:
            old_ids = set(self._manifest.chunk_ids(doc.source))
            with stage("manifest"):
                self._manifest.put(doc, chunks, [tokenize(f"{doc.title}\n{c.text}") for c in chunks],
                                   self.settings.embedding_model)
            stale = sorted(old_ids - {c.chunk_id for c in chunks})
            if stale:
                with stage("chroma"):
                    self._vectors.delete(stale)

    def remove(self, source: str) -> bool:
        self._require_write_lock()
        ids = self._manifest.chunk_ids(source)
        removed = self._manifest.remove(source)
        if ids:
            self._vectors.delete(ids)
        return removed

    def check(self, repair: bool = True, full: bool = False) -> CheckReport:
        """Compare manifest and Chroma; delete orphan vectors and re-embed missing ones.

        ``full`` (``rag check``) compares every id and verifies the saved BM25 index
        too; otherwise (before each ingest) agreeing counts and a present sample pass.
        Repairing needs the write lock.
        """
        if repair:
            self._require_write_lock()
        manifest_ids = self._manifest.all_chunk_ids()
        keyword_problem = self._keyword.verify(manifest_ids, repair) if full else ""
        if not full and self._vectors.count() == len(manifest_ids) and self._sample_present(manifest_ids):
            return CheckReport(0, 0, False, chunks=len(manifest_ids))  # fast path: counts agree, sample there
        vector_ids = self._vectors.all_ids()
        orphans = sorted(vector_ids - manifest_ids)
        missing = sorted(manifest_ids - vector_ids)
        if repair and (orphans or missing):
            self._vectors.delete(orphans)
            by_id = self._manifest.chunks_by_id(missing)
            for source in sorted({c.source for c in by_id.values()}):
                doc_chunks = [c for c in by_id.values() if c.source == source]
                tags = load_gazetteer().tags(doc_chunks[0].regions)
                self._vectors.upsert(doc_chunks, self.embed_chunks(doc_chunks), [tags] * len(doc_chunks))
        found = bool(orphans or missing or keyword_problem)
        return CheckReport(len(orphans), len(missing), repair and found, keyword_problem, len(manifest_ids))

    def _sample_present(self, ids: set[str], size: int = 50) -> bool:
        sample = sorted(ids)[:: max(1, len(ids) // size)]
        return not sample or self._vectors.present(sample) == len(sample)

    def embed_chunks(self, chunks: list[Chunk], timer: Timer | None = None) -> np.ndarray:
        """Document vectors of chunks; the article title is given to the model with each."""
        texts = [embedding_text(c) for c in chunks]
        embeddings = self.embeddings  # loading the model is not embedding time
        with timer.stage("embed") if timer is not None else nullcontext():
            return embeddings.encode(texts)


def embedding_text(chunk: Chunk) -> str:
    """What the embedding model sees for a chunk: its title line, then its text."""
    if chunk.title and not chunk.text.startswith(chunk.title):
        return f"{chunk.title}\n{chunk.text}"
    return chunk.text
