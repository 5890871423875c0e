"""Chroma as the dense vector store, embedded or client/server with the same code.

The collection is created with cosine space and deliberate HNSW parameters,
and records the embedding model id and dimension in its metadata; opening it
with a different model is refused. Telemetry is off and Chroma never gets to
use its default (downloading) embedder: every vector is computed by us and
passed explicitly, and the collection is bound to a guard embedding function
that refuses to embed.

The Chroma query language (``where`` clauses) stays in this module.

Deliberately not here: computing embeddings or keyword search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import ModelMismatchError, RagError
from rag.types import Chunk


class _NoEmbedding:
    """Bound to our collections so Chroma can never fall back to its own embedder."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Any) -> Any:  # noqa: A002 - Chroma's protocol name
        raise RagError("内部错误：向量必须由本程序计算后传入 Chroma")

    @staticmethod
    def name() -> str:
        return "dangjian-rag-precomputed"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> _NoEmbedding:
        del config
        return _NoEmbedding()

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "l2", "ip"]

    def embed_query(self, input: Any) -> Any:  # noqa: A002
        return self(input)


def make_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                   settings=chroma_settings)
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def where_clause(region_tag: str | None, sources: Sequence[str] | None) -> dict[str, Any] | None:
    """Chroma's ``where`` filter for a region tag and/or a list of source files (None: no filter)."""
    clauses: list[dict[str, Any]] = []
    if region_tag:
        clauses.append({"regions": {"$contains": region_tag}})
    if sources:
        clauses.append({"source": {"$in": list(sources)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def close_client(client: Any) -> None:
    """Release a Chroma client: its shared system, and the HTTP connections of an ``HttpClient``.

    Chroma's ``close()`` stops the system but leaves the HTTP client's connection pool open
    (chroma-core/chroma#4293), so its sockets stayed open until the process ended."""
    client.close()
    for api in (client, getattr(client, "_admin_client", None)):  # the admin client has its own connections
        session = getattr(getattr(api, "_server", None), "_session", None)
        if session is not None:
            session.close()


class VectorStore:
    """One Chroma collection of chunk vectors."""

    def __init__(self, settings: Settings, model_id: str, dimension: int, client: Any = None) -> None:
        self._owns_client = client is None  # a client passed in is its caller's to close
        self.client = client if client is not None else make_client(settings)
        configuration = {"hnsw": {
            "space": settings.hnsw_space,
            "ef_construction": settings.hnsw_ef_construction,
            "ef_search": settings.hnsw_ef_search,
            "max_neighbors": settings.hnsw_max_neighbors,
        }}
        self.collection = self.client.get_or_create_collection(
            name=settings.collection,
            configuration=configuration,
            metadata={"model_id": model_id, "dimension": dimension},
            embedding_function=_NoEmbedding(),
        )
        meta = self.collection.metadata or {}
        if meta.get("model_id") != model_id or int(meta.get("dimension", dimension)) != dimension:
            self.close()
            raise ModelMismatchError(
                f"知识库集合“{settings.collection}”是用嵌入模型 {meta.get('model_id')}"
                f"（{meta.get('dimension')} 维）建立的，当前设置为 {model_id}（{dimension} 维）。"
                "不能在同一集合中混用模型：请换一个数据目录（RAG_DATA_DIR）或集合名（RAG_COLLECTION）。"
            )
        self.space = settings.hnsw_space

    def close(self) -> None:
        """Release the Chroma client this store made (idempotent)."""
        if self._owns_client:
            close_client(self.client)

    def upsert(self, chunks: list[Chunk], vectors: np.ndarray, region_tags: Sequence[Sequence[str]]) -> None:
        """Write chunks with their vectors; ``region_tags[i]`` are chunk i's region filter tags."""
        if not chunks:
            return
        metadatas = []
        for c, tags in zip(chunks, region_tags, strict=True):
            meta: dict[str, Any] = {"source": c.source, "start": c.start, "end": c.end, "ordinal": c.ordinal}
            if tags:
                meta["regions"] = list(tags)
            metadatas.append(meta)
        for i in range(0, len(chunks), 1000):
            part = slice(i, i + 1000)
            self.collection.upsert(
                ids=[c.chunk_id for c in chunks[part]],
                embeddings=vectors[part],
                documents=[c.text for c in chunks[part]],
                metadatas=metadatas[part],
            )

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 1000):
            self.collection.delete(ids=ids[i:i + 1000])

    def query(self, vector: np.ndarray, k: int, region_tag: str | None = None,
              sources: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, similarity in 0..1, higher is better) of the nearest chunks.

        ``region_tag`` keeps chunks tagged with that region (or a place inside it), ``sources``
        chunks of those files. Chroma returns fewer than ``k`` (none for an empty collection)
        without complaint, so no count round trip is spent on the hot path.
        """
        result = self.collection.query(
            query_embeddings=[vector], n_results=k, where=where_clause(region_tag, sources), include=["distances"])
        ids, distances = result["ids"][0], result["distances"][0]
        return [(i, self.similarity(d)) for i, d in zip(ids, distances, strict=True)]

    def similarity(self, distance: float) -> float:
        """Cosine similarity of unit vectors from Chroma's distance, clamped to 0..1."""
        cosine = 1.0 - distance / 2.0 if self.space == "l2" else 1.0 - distance
        return max(0.0, min(1.0, cosine))

    def count(self) -> int:
        return int(self.collection.count())

    def present(self, ids: list[str]) -> int:
        """How many of ``ids`` have a vector."""
        return len(self.collection.get(ids=ids, include=[])["ids"]) if ids else 0

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            got = self.collection.get(include=[], limit=5000, offset=offset)["ids"]
            ids.update(got)
            if len(got) < 5000:
                return ids
            offset += len(got)

    def get_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        got = self.collection.get(ids=ids, include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}
