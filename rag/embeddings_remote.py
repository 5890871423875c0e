"""Embeddings from an OpenAI-compatible ``/v1/embeddings`` service (TEI, vLLM, Xinference on a GPU box).

``RAG_EMBEDDING=openai:<model>`` with ``RAG_EMBEDDING_BASE_URL`` / ``RAG_EMBEDDING_API_KEY``
selects it in place of the in-process model. It offers what the knowledge base uses
of ``rag.embeddings.SentenceTransformerEmbeddings``: ``encode(texts, query=)`` giving
float32 unit vectors, ``dimension`` and ``model_id`` (``openai:<model>``, recorded in
the Chroma collection so vectors of different models never mix). The service sees
plain texts, so a model's query/document prompts are put in front here
(``RAG_EMBEDDING_QUERY_PREFIX`` / ``RAG_EMBEDDING_DOCUMENT_PREFIX``). Requests go in
batches of 64; an unreachable service is a Chinese error naming the address.

Deliberately not here: serving embeddings, or retrying beyond the client's own retries.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import RagError

BATCH = 64


class OpenAIEmbeddings(Embeddings):
    """LangChain embeddings backed by an OpenAI-compatible embeddings endpoint."""

    def __init__(self, model: str, base_url: str, api_key: str, query_prefix: str = "",
                 document_prefix: str = "") -> None:
        from openai import OpenAI

        self.model = model
        self.model_id = f"openai:{model}"
        self.base_url = base_url
        self.query_prefix, self.document_prefix = query_prefix, document_prefix
        self._client: Any = OpenAI(base_url=base_url, api_key=api_key or "none", timeout=120, max_retries=2)
        self._dimension: int | None = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        with self._lock:
            if self._dimension is None:
                self._dimension = int(self._request(["维度"]).shape[1])
            return self._dimension

    def _request(self, texts: list[str]) -> np.ndarray:
        try:
            reply = self._client.embeddings.create(model=self.model, input=texts)
        except Exception as exc:
            raise RagError(f"嵌入服务 {self.base_url} 不可用：{exc}") from exc
        rows = sorted(reply.data, key=lambda d: d.index)
        if len(rows) != len(texts):
            raise RagError(f"嵌入服务 {self.base_url} 返回了 {len(rows)} 个向量，应为 {len(texts)} 个")
        return np.asarray([r.embedding for r in rows], dtype=np.float32)

    def encode(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        """Embed texts into a float32 ``(n, dim)`` array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefix = self.query_prefix if query else self.document_prefix
        parts = [self._request([prefix + t for t in texts[i:i + BATCH]]) for i in range(0, len(texts), BATCH)]
        vectors = np.concatenate(parts)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text], query=True)[0].tolist()
