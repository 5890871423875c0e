"""The knowledge base as a LangChain retriever, so it drops into any LangChain chain.

``KnowledgeBaseRetriever(kb=kb, k=6, region="四川", sources=None)`` runs the same
hybrid search as ``rag search`` (``rag.retrieval.search``) and returns LangChain
``Document``s: ``page_content`` is the chunk's text, ``metadata`` is the hit's JSON
form without the text (source, title, regions, chunk_id, start, end, score).

Deliberately not here: answering (``rag.chain``); the filters are fields, set per retriever.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.retrieval import search


class KnowledgeBaseRetriever(BaseRetriever):
    """Hybrid (dense + BM25) search over a ``KnowledgeBase`` as a LangChain ``BaseRetriever``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: Any  # rag.knowledge.KnowledgeBase (Any: pydantic need not know the class)
    k: int = 6
    region: str | None = None
    sources: list[str] | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = search(self.kb, query, self.k, region=self.region, sources=self.sources)
        out = []
        for hit in hits:
            metadata = hit.to_json()
            out.append(Document(page_content=metadata.pop("text"), metadata=metadata))
        return out
