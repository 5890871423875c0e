"""Chat-model providers chosen by one string: ``local[:model]``, ``openai:<model>``, ``none``.

* ``local`` runs a GGUF model with ``xllamacpp``'s llama.cpp server in a child
  process (``rag.llama_server``), on 127.0.0.1 behind a random API key (other
  local users cannot use it); LangChain's ``ChatOpenAI`` talks to it. One
  server per (model file, threads, context, prompt lookup) is started lazily and kept
  (``settings_server``).
* ``openai:<model>`` is any OpenAI-compatible endpoint (DeepSeek, DashScope,
  vLLM, Ollama, Xinference…) at ``RAG_OPENAI_BASE_URL`` with ``RAG_OPENAI_API_KEY``; one that
  takes a GBNF grammar (a llama.cpp server) names its field in ``RAG_OPENAI_GRAMMAR_FIELD``.
* ``none`` has no model: the answer is composed from the evidence.

Deliberately not here: prompts, parsing, fallbacks (``rag.chain``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import RagError
from rag.llama_server import LocalLlamaServer, local_server
from rag.models import CHAT_MODEL_ALIASES, resolve_chat_model
from rag.types import ProviderKind

__all__ = ["LlmChoice", "grammar_field", "local_server", "make_chat_model", "parse_llm", "settings_server"]


@dataclass(frozen=True)
class LlmChoice:
    """A parsed ``llm`` setting: provider kind and model name."""

    kind: ProviderKind
    model: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.model}" if self.model else self.kind


def parse_llm(spec: str, settings: Settings) -> LlmChoice:
    """``local`` / ``local:0.5b`` / ``openai:deepseek-chat`` / ``none``, or a Chinese error."""
    kind, _, model = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "none" and not model:
        return LlmChoice("none")
    if kind == "local":
        name = model or settings.local_model
        return LlmChoice("local", CHAT_MODEL_ALIASES.get(name, name))
    if kind == "openai" and model:
        return LlmChoice("openai", model)
    raise RagError(f"无法识别的模型设置“{spec}”：可用 local、local:0.5b、local:1.5b、openai:<模型名> 或 none")


def make_chat_model(choice: LlmChoice, settings: Settings) -> Any:
    """A LangChain chat model for ``choice``, or None for ``none``."""
    if choice.kind == "none":
        return None
    if choice.kind == "local":
        path = resolve_chat_model(choice.model, settings.models_dir)
        server = settings_server(path, settings)
        return _chat_openai(choice.model, server.base_url, server.api_key, settings, server.http_client())
    key = settings.openai_api_key.get_secret_value() or "not-needed"
    return _chat_openai(choice.model, settings.openai_base_url, key, settings)


def settings_server(path: Path, settings: Settings) -> LocalLlamaServer:
    """The shared local llama.cpp server for the GGUF at ``path`` as ``settings`` configure it."""
    return local_server(path, settings.llm_threads, settings.llm_context,
                        (settings.llm_lookup_ngram, settings.llm_lookup_draft))


def grammar_field(choice: LlmChoice, settings: Settings) -> str:
    """The request-body field in which ``choice``'s server takes a GBNF grammar: llama.cpp's "grammar" for
    ``local``, ``RAG_OPENAI_GRAMMAR_FIELD`` for ``openai:`` (empty: the endpoint takes none)."""
    return "grammar" if choice.kind == "local" else settings.openai_grammar_field if choice.kind == "openai" else ""


@lru_cache(maxsize=8)
def _cached_chat_openai(model: str, base_url: str, api_key: str, max_tokens: int, timeout: float,
                        http_client: Any) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model, base_url=base_url, api_key=api_key, temperature=0.0,
        max_tokens=max_tokens, timeout=timeout, max_retries=0, streaming=True, http_client=http_client,
    )


def _chat_openai(model: str, base_url: str, api_key: str, settings: Settings, http_client: Any = None) -> Any:
    """``http_client``: the local server's (``LocalLlamaServer.http_client``), or None for the default."""
    return _cached_chat_openai(model, base_url, api_key, settings.llm_max_tokens, settings.llm_timeout_s,
                               http_client)
