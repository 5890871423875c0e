"""Embedding models as LangChain ``Embeddings``, built by a cached factory.

``SentenceTransformerEmbeddings`` wraps a sentence-transformers model on CPU:
bfloat16 by default, normalized output, the model's own ``query``/``document``
prompts when it has them, identical texts embedded once per call, and the
vectors of recent queries kept in a small LRU cache (a repeated or
re-asked question costs no model call). The heavy
import of torch/sentence-transformers happens only when a model is built.

Deliberately not here: provisioning (``rag.models``) or storing vectors.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import RagError
from rag.models import resolve_embedding_model

if TYPE_CHECKING:
    from rag.config import Settings


class SentenceTransformerEmbeddings(Embeddings):
    """LangChain embeddings backed by an in-process sentence-transformers model."""

    def __init__(self, model: Any, model_id: str, batch_size: int = 16, query_cache_size: int = 1024) -> None:
        self.model = model
        self.model_id = model_id
        self.batch_size = batch_size
        prompts = getattr(model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._document_prompt = "document" if "document" in prompts else None
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size
        self._cache_lock = threading.Lock()
        self.query_cache_hits = 0

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        """Embed texts into a float32 ``(n, dim)`` array of unit vectors (queries through the cache)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if not query or self._query_cache_size <= 0:
            return self._encode(texts, query=query)
        found: dict[str, np.ndarray] = {}
        with self._cache_lock:
            for text in texts:
                if text in self._query_cache and text not in found:
                    found[text] = self._query_cache[text]
                    self._query_cache.move_to_end(text)
                    self.query_cache_hits += 1
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            fresh = self._encode(missing, query=True)
            with self._cache_lock:
                for text, vector in zip(missing, fresh, strict=True):
                    vector.flags.writeable = False
                    found[text] = self._query_cache[text] = vector
                while len(self._query_cache) > self._query_cache_size:
                    self._query_cache.popitem(last=False)
        return np.stack([found[t] for t in texts])

    def clear_query_cache(self) -> None:
        with self._cache_lock:
            self._query_cache.clear()

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        unique = list(dict.fromkeys(texts))
        with self._lock:
            vectors = self.model.encode(
                unique,
                prompt_name=self._query_prompt if query else self._document_prompt,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        vectors = np.asarray(vectors, dtype=np.float32)
        # bf16 leaves norms at 0.998..1.004: renormalize in float32 for exact cosine.
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        if len(unique) == len(texts):
            return vectors
        row = {t: i for i, t in enumerate(unique)}
        return vectors[[row[t] for t in texts]]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text], query=True)[0].tolist()


def load_sentence_transformer(
    name_or_path: str, dtype: str = "bfloat16", max_seq_length: int = 512, threads: int = 0
) -> Any:
    """Load a sentence-transformers model on CPU without touching the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import torch
    from sentence_transformers import SentenceTransformer

    if threads:
        torch.set_num_threads(threads)
    torch_dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32}.get(dtype)
    if torch_dtype is None:
        raise RagError(f"不支持的嵌入精度：{dtype}（可选 bfloat16 或 float32）")
    try:
        model = SentenceTransformer(
            name_or_path, device="cpu", model_kwargs={"torch_dtype": torch_dtype}
        )
    except OSError as err:
        raise RagError(
            f"无法加载嵌入模型“{name_or_path}”：本机无法访问 Hugging Face，"
            f"请使用内置模型 embeddinggemma-300m 或本地模型文件夹。（{err}）"
        ) from err
    model.max_seq_length = max_seq_length
    return model


@lru_cache(maxsize=4)
def _cached_embeddings(
    model: str, models_dir: str, dtype: str, max_len: int, batch: int, threads: int, cache: int
) -> SentenceTransformerEmbeddings:
    path = resolve_embedding_model(model, Path(models_dir), _progress)
    st_model = load_sentence_transformer(path, dtype, max_len, threads)
    return SentenceTransformerEmbeddings(st_model, model_id=model, batch_size=batch, query_cache_size=cache)


@lru_cache(maxsize=4)
def _remote(model: str, base_url: str, api_key: str, query_prefix: str, document_prefix: str) -> Any:
    from rag.embeddings_remote import OpenAIEmbeddings

    return OpenAIEmbeddings(model, base_url, api_key, query_prefix, document_prefix)


def _progress(stage: str, done: int, total: int) -> None:
    print(f"\r模型准备：{stage} {done}/{total}", end="\n" if done == total else "", file=sys.stderr,
          flush=True)


def get_embeddings(settings: Settings) -> Any:
    """The embeddings for these settings, built once per process and cached.

    ``RAG_EMBEDDING=openai:<model>`` gives ``rag.embeddings_remote.OpenAIEmbeddings``.
    """
    if settings.embedding.startswith("openai:"):
        return _remote(settings.embedding[7:], settings.embedding_base_url,
                       settings.embedding_api_key.get_secret_value(), settings.embedding_query_prefix,
                       settings.embedding_document_prefix)
    if settings.embedding != "local":
        raise RagError(f"不支持的嵌入方式：{settings.embedding}（可选 local 或 openai:<模型名>）")
    return _cached_embeddings(
        settings.embedding_model,
        str(settings.models_dir),
        settings.embedding_dtype,
        settings.embedding_max_seq_length,
        settings.embedding_batch_size,
        settings.torch_threads,
        settings.query_cache_size,
    )
