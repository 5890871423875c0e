"""The HTTP API served beside the chat page: OpenAI-compatible chat, Dify retrieval, the CLI's JSON, documents.

* ``POST /v1/chat/completions`` and ``GET /v1/models``: OpenAI's shapes, so the
  ``openai`` client, LangChain's ``ChatOpenAI`` and Dify's OpenAI-compatible provider
  work unchanged. ``model`` picks the answer mode (``model_ids``); earlier messages are
  the conversation. Citations travel in ``choices[0].message.references`` (streaming:
  ``choices[0].delta.references`` on the last content chunk), with ``refused`` beside.
* ``POST /retrieval``: Dify's external knowledge API.
* ``POST /api/search``, ``/api/ask``, ``/api/cases``: the ``--json`` contracts of
  ``rag search``, ``rag ask`` and ``rag cases``.
* ``GET/POST /api/documents`` and ``DELETE /api/documents/{name}``: list, upload
  (the same checks and Chinese reasons as ``rag ingest``; a name taken by a
  different document is refused unless ``replace=true``), delete.

Who may call, how often and with how much is ``ui.api_guard``. Deliberately not here:
the chat page (``ui.layout``) and starting the server (``ui.serve``).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from rag.cases import find_cases
from rag.chain import ask_stream
from rag.errors import RagError
from rag.knowledge import KnowledgeBase
from rag.retrieval import search
from rag.types import SourceKind
from ui.api_guard import ApiError, Guard, error_body
from ui.api_openai import ChatRequest, SafeJSONResponse, completion, conversation, model_ids, stream_chunks
from ui.app import IngestFn
from ui.uploads import place_upload, remove_document

ROUTES = ("/v1/", "/retrieval", "/api/")


class RetrievalSetting(BaseModel):
    top_k: int = Field(default=5, ge=1, le=50)
    score_threshold: float = Field(default=0.0, ge=0.0, le=1.0)


class RetrievalRequest(BaseModel):
    knowledge_id: str
    query: str
    retrieval_setting: RetrievalSetting = RetrievalSetting()
    metadata_condition: dict[str, Any] | None = None


class AskRequest(BaseModel):
    question: str = Field(min_length=1)
    llm: str = "none"
    k: int | None = Field(default=None, ge=1, le=50)
    region: str | None = None
    sources: list[str] | None = None
    source_type: SourceKind | None = None  # 文章 or 公文


class CasesRequest(BaseModel):
    question: str = Field(min_length=1)
    region: str | None = None
    since: str | None = None


def _conditions(metadata_condition: dict[str, Any] | None) -> dict[str, Any]:
    """Dify's ``metadata_condition.conditions`` as {region|source|date: value} (``name`` may be a list)."""
    out: dict[str, Any] = {}
    for c in (metadata_condition or {}).get("conditions", []):
        names = c.get("name") if isinstance(c.get("name"), list) else [c.get("name")]
        for name in names:
            if name not in {"region", "source", "date"}:
                raise ApiError(400, f"不支持的元数据条件：{name}（可用 region、source、date）")
            out[name] = c.get("value")
    return out


def _dify_records(kb: KnowledgeBase, req: RetrievalRequest) -> list[dict[str, Any]]:
    """Records of Dify's external knowledge API; a ``date`` condition keeps articles dated on or after it."""
    cond = _conditions(req.metadata_condition)
    sources = cond.get("source")
    hits = search(kb, req.query, req.retrieval_setting.top_k, region=cond.get("region") or None,
                  sources=[sources] if isinstance(sources, str) else sources)
    records = []
    for h in hits:
        if h.score < req.retrieval_setting.score_threshold:
            continue
        doc = kb.document(h.chunk.source)
        date = (doc.date if doc else "") or None
        if cond.get("date") and (not date or date < str(cond["date"])):
            continue
        records.append({"content": h.chunk.text, "score": round(h.score, 6), "title": h.chunk.title,
                        "metadata": {"source": h.chunk.source, "regions": list(h.chunk.regions),
                                     "chunk_id": h.chunk.chunk_id, "start": h.chunk.start, "end": h.chunk.end,
                                     "page": h.chunk.page, "date": date,
                                     "kind": doc.kind if doc else "文章"}})
    return records


def build_api(kb: KnowledgeBase, ingest_files: IngestFn, host: str) -> FastAPI:
    """The API routes over ``kb`` (Gradio is mounted onto the returned app by ``ui.serve``)."""
    api = FastAPI(title="党建案例问答 API", version="1",
                  description="OpenAI 兼容问答、Dify 外部知识库检索、案例与文档管理。",
                  default_response_class=SafeJSONResponse)
    guard = Guard(kb.settings, host)
    upload_dir = kb.settings.data_dir / "uploads"

    @api.middleware("http")
    async def _guard(request: Request, call_next: Any) -> Any:
        path = request.url.path
        if path.startswith(ROUTES):
            try:
                guard.check(path, request.method, request.headers, request.client.host if request.client else "")
            except ApiError as err:
                return error(path, err)
        return await call_next(request)

    def error(path: str, err: ApiError) -> SafeJSONResponse:
        return SafeJSONResponse(error_body(path, err.status, err.message, err.code), err.status, err.headers)

    @api.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> SafeJSONResponse:
        return error(request.url.path, err)

    @api.exception_handler(RagError)
    async def _rag_error(request: Request, err: RagError) -> SafeJSONResponse:
        return SafeJSONResponse(error_body(request.url.path, 400, str(err)), 400)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> SafeJSONResponse:
        where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in err.errors()[:3])
        return SafeJSONResponse(error_body(request.url.path, 422, f"请求格式不正确：{where}"), 422)

    @api.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "dangjian-rag"}
                                           for m in model_ids(kb.settings)]}

    @api.post("/v1/chat/completions", response_model=None)
    def chat(req: ChatRequest) -> Any:
        ids = model_ids(kb.settings)
        if req.model not in ids:
            raise ApiError(404, f"没有模型“{req.model}”：可用 {', '.join(ids)}", "model_not_found")
        question, turns = conversation(req.messages)
        cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        events = ask_stream(kb, question, llm=ids[req.model], history=turns)
        if req.stream:
            return StreamingResponse(stream_chunks(events, req.model, cid, created), media_type="text/event-stream")
        answer = next(e.answer for e in events if e.answer is not None)
        return completion(answer, req.model, cid, created)

    @api.post("/retrieval")
    def retrieval(req: RetrievalRequest) -> dict[str, Any]:
        return {"records": _dify_records(kb, req)}

    def chosen_sources(req: AskRequest) -> list[str] | None:
        sources = kb.sources_of_kind(req.source_type, req.sources)
        if sources == []:
            raise ApiError(404, f"知识库中没有符合条件的{req.source_type}类文档")
        return sources

    @api.post("/api/search")
    def api_search(req: AskRequest) -> dict[str, Any]:
        hits = search(kb, req.question, req.k, region=req.region, sources=chosen_sources(req))
        return {"query": req.question, "results": [h.to_json() for h in hits], "timings_ms": hits.timings_ms}

    @api.post("/api/ask")
    def api_ask(req: AskRequest) -> dict[str, Any]:
        events = ask_stream(kb, req.question, llm=req.llm, k=req.k, region=req.region, sources=chosen_sources(req))
        return next(e.answer for e in events if e.answer is not None).to_json()

    @api.post("/api/cases")
    def api_cases(req: CasesRequest) -> dict[str, Any]:
        return find_cases(kb, req.question, region=req.region, since=req.since).to_json()

    @api.get("/api/documents")
    def documents() -> dict[str, Any]:
        return {"documents": [s.to_json() for s in kb.sources()]}

    @api.post("/api/documents")
    def upload(file: UploadFile = File(...), replace: bool = Form(False)) -> SafeJSONResponse:  # noqa: B008
        name = Path(file.filename or "").name
        if not name or name.startswith("."):
            raise ApiError(400, "文件名无效")
        with tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp) / name
            with staged.open("wb") as out:
                while block := file.file.read(1 << 20):
                    out.write(block)
            target, reason = place_upload(kb, upload_dir, staged, replace=replace)
        if target is None:
            return SafeJSONResponse(error_body("/api", 409 if "同名" in reason else 400, reason),
                                409 if "同名" in reason else 400)
        report = ingest_files(kb, [target])
        outcome = report.outcomes[0]
        if outcome.status == "failed":
            target.unlink(missing_ok=True)
            return SafeJSONResponse(error_body("/api", 400, outcome.error), 400)
        return SafeJSONResponse({"source": outcome.source, "status": outcome.status, "chunks": outcome.chunks}, 201)

    @api.delete("/api/documents/{name}")
    def delete(name: str) -> dict[str, Any]:
        if not remove_document(kb, upload_dir, name):
            raise ApiError(404, f"知识库中没有：{name}", "document_not_found")
        return {"source": name, "status": "removed"}

    return api
