"""Chat requests to the local llama.cpp server that start from their system prompt alone.

llama.cpp keeps one slot's KV cache between requests and reuses the longest prefix the next prompt shares
with it. A prefix read back from the cache is not bit for bit what reading it afresh in one batch gives, so
a question's answer depended on the question asked before it (two answers of 16 differed between a run and
the same run reversed, ``bench/README.md`` thirty-first round). ``PrefixResetTransport`` sends, before each
chat request, a one-token request of the same system prompt and an empty user turn: the slot then holds the
system prompt and the request reads the rest of its prompt from the same position every time. A lock is held
from that reset until the request's response has begun (the server has queued it, and serves its one slot's
requests in turn), so no other caller's request comes between a reset and its request.

Deliberately not here: starting the server (``rag.llama_server``), other endpoints than chat completions, and
``openai:`` endpoints (their caching is theirs).
"""

from __future__ import annotations

import json
import threading

import httpx

_CHAT_PATH = "/chat/completions"


class PrefixResetTransport(httpx.BaseTransport):
    """``inner`` with a reset to the system prompt before each chat request, one request at a time."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self._turn = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or not request.url.path.endswith(_CHAT_PATH):
            return self._inner.handle_request(request)
        with self._turn:  # until the server has the request queued: it then serves it before any later reset
            self._reset(request)
            return self._inner.handle_request(request)

    def _reset(self, request: httpx.Request) -> None:
        """Bring the slot back to the request's system prompt: the same messages up to it, an empty user turn."""
        reset = reset_body(json.loads(request.read()))
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        response = self._inner.handle_request(
            httpx.Request("POST", request.url, headers=headers, content=json.dumps(reset).encode(),
                          extensions=request.extensions))  # the caller's timeouts
        try:
            response.read()
        finally:
            response.close()

    def close(self) -> None:
        self._inner.close()


def reset_body(body: dict) -> dict:
    """The reset sent before the chat request ``body``: its model and system prompt, an empty user turn, one token."""
    system = [m for m in body.get("messages", [])[:1] if m.get("role") == "system"]
    return {"model": body.get("model", ""), "messages": [*system, {"role": "user", "content": ""}],
            "max_tokens": 1, "temperature": 0.0, "stream": False}
