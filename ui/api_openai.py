"""OpenAI's chat-completions shapes over ``rag.chain.ask_stream``: model ids, messages -> turns, responses, chunks.

Citations travel in extension fields a strict OpenAI client accepts: ``references``
(each ``Citation.to_json``) and ``refused`` on ``choices[0].message`` or, streaming,
on ``choices[0].delta`` of the last content chunk. A streamed answer is the model's
tokens as they come, then whatever the checked text adds (flags of unmarked claims);
when the checked text does not continue the tokens, it follows them in full.

Deliberately not here: the routes and their guard (``ui.api``, ``ui.api_guard``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from rag.types import Answer, Turn
from ui.api_guard import ApiError
from ui.app import configured_endpoint


def safe_json(body: Any) -> str:
    """JSON with ``<``, ``>`` and ``&`` escaped, so no document text can read as markup wherever it is pasted."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class SafeJSONResponse(JSONResponse):
    """Every JSON response of the API (``safe_json``)."""

    def render(self, content: Any) -> bytes:
        return safe_json(content).encode("utf-8")


def model_ids(settings: Any) -> dict[str, str]:
    """API model id -> ``--llm`` spec; ``dangjian-openai`` only when an upstream endpoint is configured."""
    ids = {"dangjian-local": "local", "dangjian-local-0.5b": "local:0.5b", "dangjian-evidence": "none"}
    upstream = configured_endpoint(settings)
    if upstream:
        ids["dangjian-openai"] = f"openai:{upstream}"
    return ids


class Message(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = ""


class ChatRequest(BaseModel):
    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    temperature: float | None = None  # ignored: answers are grounded, not sampled for variety


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):  # OpenAI content parts: keep the text ones
        return "".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return content or ""


def conversation(messages: list[Message]) -> tuple[str, list[Turn]]:
    """(the question: the last user message, earlier user/assistant pairs as turns)."""
    turns: list[Turn] = []
    pending: str | None = None
    for m in messages[:-1]:
        if m.role == "user":
            if pending is not None:
                turns.append(Turn(pending))
            pending = _text(m.content)
        elif m.role == "assistant" and pending is not None:
            turns.append(Turn(pending, _text(m.content)))
            pending = None
    if pending is not None:
        turns.append(Turn(pending))
    last = messages[-1]
    if last.role != "user" or not _text(last.content).strip():
        raise ApiError(400, "最后一条消息应是用户的问题（role 为 user，内容不能为空）")
    return _text(last.content).strip(), turns


def references(answer: Answer) -> list[dict[str, Any]]:
    return [c.to_json() for c in answer.citations]


def completion(answer: Answer, model: str, cid: str, created: int) -> dict[str, Any]:
    message = {"role": "assistant", "content": answer.text, "references": references(answer),
               "refused": answer.refused}
    return {"id": cid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def _chunk(cid: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None) -> str:
    body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {safe_json(body)}\n\n"


def stream_chunks(events: Iterator[Any], model: str, cid: str, created: int) -> Iterator[str]:
    """OpenAI chunks: role, the tokens as they come, the checked text's remainder with references, stop, [DONE]."""
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    sent = ""
    for event in events:
        if event.kind == "token" and event.token:
            sent += event.token
            yield _chunk(cid, created, model, {"content": event.token})
        elif event.answer is not None:
            answer = event.answer
            rest = answer.text[len(sent):] if answer.text.startswith(sent) else ("\n\n" + answer.text if sent else
                                                                                 answer.text)
            yield _chunk(cid, created, model, {"content": rest, "references": references(answer),
                                               "refused": answer.refused})
    yield _chunk(cid, created, model, {}, "stop")
    yield "data: [DONE]\n\n"
