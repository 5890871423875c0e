"""The ``openai:`` embedding provider against a real OpenAI-compatible embeddings server on 127.0.0.1.

The server is a small FastAPI app (uvicorn, in a thread) wrapping the same local
sentence-transformers model the local provider uses, fed plain texts as a TEI or vLLM
server would be; the provider puts the model's query/document prompts in front. Its
vectors must match the local provider's (cosine ≥ 0.999), and a knowledge base built
on it must ingest and answer searches.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pydantic import BaseModel

from rag.embeddings_remote import OpenAIEmbeddings
from tests.conftest import make_settings
from tests.processes import free_port, wait_until


class EmbeddingRequest(BaseModel):
    model: str
    input: list[str] | str
    encoding_format: str = "float"  # the openai client asks for base64 and also reads a float list


TEXTS = ["乐山市从机关事业单位选派了多少名党建指导员？", "楼宇党建联盟吸纳了23家企业。", "党群服务中心"]


@pytest.fixture(scope="module")
def service(embeddings):
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    calls: list[int] = []

    @app.post("/v1/embeddings")
    def embed(req: EmbeddingRequest) -> dict:
        texts = [req.input] if isinstance(req.input, str) else req.input
        calls.append(len(texts))
        vectors = embeddings.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return {"object": "list", "model": req.model, "usage": {"prompt_tokens": 0, "total_tokens": 0},
                "data": [{"object": "embedding", "index": i, "embedding": v.astype(float).tolist()}
                         for i, v in enumerate(vectors)]}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 30, "the embeddings server to listen")
    yield f"http://127.0.0.1:{port}/v1", calls
    server.should_exit = True
    thread.join(10)


def _prompts(embeddings) -> tuple[str, str]:
    prompts = embeddings.model.prompts
    return prompts.get("query", ""), prompts.get("document", "")


def test_remote_vectors_match_the_local_provider(service, embeddings):
    url, calls = service
    query_prefix, document_prefix = _prompts(embeddings)
    remote = OpenAIEmbeddings("embeddinggemma-300m", url, "", query_prefix, document_prefix)
    for query in (True, False):
        a, b = remote.encode(TEXTS, query=query), embeddings.encode(TEXTS, query=query)
        cosines = np.sum(a * b, axis=1)
        assert a.shape == b.shape and cosines.min() >= 0.999, cosines
    assert remote.dimension == embeddings.dimension and calls  # the service was really called


def test_knowledge_base_on_the_remote_provider_ingests_and_searches(service, embeddings, tmp_path):
    from ingest.pipeline import ingest_paths
    from rag.data import sample_dir
    from rag.knowledge import KnowledgeBase
    from rag.retrieval import search

    url, calls = service
    query_prefix, document_prefix = _prompts(embeddings)
    settings = make_settings(tmp_path, embedding="openai:embeddinggemma-300m", embedding_base_url=url,
                             embedding_query_prefix=query_prefix, embedding_document_prefix=document_prefix)
    kb = KnowledgeBase(settings)
    before = len(calls)
    report = ingest_paths(kb, [sample_dir()])
    assert not report.failed and len(calls) > before
    hits = search(kb, TEXTS[0], 3)
    assert any("807" in h.chunk.text for h in hits)


def test_unreachable_service_is_a_chinese_error_naming_it():
    from rag.errors import RagError

    url = f"http://127.0.0.1:{free_port()}/v1"
    remote = OpenAIEmbeddings("m", url, "")
    with pytest.raises(RagError, match=r"嵌入服务 .* 不可用"):
        remote.encode(["党建"])
