"""Who may call the HTTP API, how often, and with how much: API keys, a per-key rate limit, body size limits.

* Keys come from ``RAG_API_KEYS`` (comma-separated) and are sent as ``Authorization:
  Bearer <key>``. They are required for every API route when the server listens on
  anything but localhost, and for uploading or deleting documents always. Keys are
  compared in constant time and never logged or echoed. On localhost with no keys set,
  a key a client sends anyway is not checked (the openai client always sends one).
* Rate limit: ``RAG_API_RATE_PER_MIN`` requests in any 60 s window per key (per
  client address without a key); beyond it 429 with ``Retry-After``.
* Sizes: a JSON body over ``RAG_API_MAX_BODY_KB`` and an upload over
  ``RAG_MAX_FILE_MB`` are refused with 413 from the ``Content-Length`` before the
  body is read.

Errors are JSON: OpenAI's ``{"error": {"message", "type", "code"}}`` on ``/v1`` and
``/api``, Dify's ``{"error_code", "error_msg"}`` on ``/retrieval``.

Deliberately not here: the routes (``ui.api``).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from typing import Any

from rag.config import Settings

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
WINDOW_S = 60.0
DIFY_CODES = {401: 1002, 403: 1002, 404: 2001, 413: 1001, 422: 1001, 429: 1001, 400: 1001}


class ApiError(Exception):
    """An HTTP error with a Chinese message, rendered as JSON by ``error_body``."""

    def __init__(self, status: int, message: str, code: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def error_body(path: str, status: int, message: str, code: str = "") -> dict[str, Any]:
    if path.startswith("/retrieval"):
        return {"error_code": DIFY_CODES.get(status, 1001), "error_msg": message}
    kind = {401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}.get(
        status, "invalid_request_error")
    return {"error": {"message": message, "type": kind, "code": code or str(status)}}


class Guard:
    """Checks each API request: key (when needed), rate, size. One per server."""

    def __init__(self, settings: Settings, host: str) -> None:
        self.keys = settings.api_key_list()
        self.keys_required = host not in LOCAL_HOSTS
        self.rate = settings.api_rate_per_min
        self.max_body = settings.api_max_body_kb * 1024
        self.max_upload = int(settings.max_file_mb * 1024 * 1024) + 64 * 1024  # room for the multipart framing
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def key_of(self, authorization: str | None) -> str | None:
        """The configured key the header carries, or None when it carries none (or a wrong one)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        token = token.strip()
        return next((k for k in self.keys if hmac.compare_digest(k.encode(), token.encode())), None)

    def check(self, path: str, method: str, headers: Any, client: str) -> None:
        """Raise ``ApiError`` when the request may not proceed."""
        writes = path.startswith("/api/documents") and method in {"POST", "DELETE"}
        authorization = headers.get("authorization")
        key = self.key_of(authorization)
        if writes and not self.keys:
            raise ApiError(401, "上传和删除文档需要 API 密钥：请在服务端设置 RAG_API_KEYS", "keys_not_configured")
        # with no keys configured (only on localhost), the key a client must send anyway (the openai package's
        # api_key, Dify's) is not checked: it cannot be wrong, as there is none to match
        if (writes or self.keys_required or (authorization and self.keys)) and key is None:
            raise ApiError(401, "缺少或错误的 API 密钥：请在请求头中提供 Authorization: Bearer <密钥>",
                           "invalid_api_key")
        self._check_size(headers, writes)
        self._check_rate(key or f"client:{client}")

    def _check_size(self, headers: Any, upload: bool) -> None:
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError as exc:
            raise ApiError(400, "Content-Length 无效") from exc
        limit = self.max_upload if upload else self.max_body
        if length > limit:
            raise ApiError(413, f"请求体过大：{length} 字节，上限 {limit} 字节", "request_too_large")

    def _check_rate(self, who: str) -> None:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(who, deque())
            while seen and now - seen[0] >= WINDOW_S:
                seen.popleft()
            if len(seen) >= self.rate:
                wait = max(1, int(WINDOW_S - (now - seen[0])) + 1)
                raise ApiError(429, f"请求过于频繁：每分钟最多 {self.rate} 次，请 {wait} 秒后再试", "rate_limited",
                               {"Retry-After": str(wait)})
            seen.append(now)
