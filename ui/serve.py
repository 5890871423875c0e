"""``rag serve``: check exposure rules, warm the models, launch the app, say when it is ready.

* One port serves the chat page (Gradio, mounted at ``/``) and the HTTP API
  (``ui.api``: ``/v1``, ``/retrieval``, ``/api``, docs at ``/docs``), on uvicorn.
* Listening on anything but 127.0.0.1/localhost requires ``RAG_UI_AUTH``
  ("user:password") and ``RAG_API_KEYS``; the checks happen before anything is loaded.
* No outbound calls: Gradio analytics and its version check are off, the
  theme uses only locally installed fonts (no Google Fonts), SSR and share
  links are off.
* The address is printed only after the embedding model, the indexes and
  (for a local answer model) the llama.cpp server are loaded, so the first
  question is answered at full speed.

Deliberately not here: the handlers and layout (``ui.app``, ``ui.layout``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import RagError
from rag.knowledge import KnowledgeBase
from ui.app import ChatApp, IngestFn
from ui.layout import PAGE_CSS, build_blocks

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
FONTS = ["Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", "sans-serif"]
QUEUE_SIZE = 200  # waiting requests beyond this are told the server is busy
UPLOAD_HARD_CAP = 5  # Gradio refuses uploads over 5x RAG_MAX_FILE_MB; between 1x and 5x the import table says why


def parse_auth(settings: Settings, host: str) -> tuple[str, str] | None:
    """(user, password) from ``RAG_UI_AUTH``; an error when it is needed but missing or malformed."""
    raw = settings.ui_auth.get_secret_value()
    if not raw:
        if host not in LOCAL_HOSTS:
            raise RagError(f"在 {host} 上提供服务需要设置访问密码：请设置环境变量 RAG_UI_AUTH=用户名:密码"
                           "（只在本机使用时请用 --host 127.0.0.1）")
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or len(password) < 8:
        raise RagError("RAG_UI_AUTH 格式应为“用户名:密码”，密码至少 8 位")
    return user, password


def check_api_keys(settings: Settings, host: str) -> None:
    if host not in LOCAL_HOSTS and not settings.api_key_list():
        raise RagError(f"在 {host} 上提供服务需要设置接口密钥：请设置环境变量 RAG_API_KEYS=密钥1,密钥2"
                       "（只在本机使用时请用 --host 127.0.0.1）")


def _port_free(host: str, port: int) -> None:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise RagError(f"无法在 {host}:{port} 启动服务：{exc}（端口可能已被占用，可用 --port 换一个）") from exc


def quiet_gradio() -> None:
    """Environment that keeps Gradio (and the hub client it imports) off the network."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def warm_up(app: ChatApp, llm: str) -> str:
    """Load what the first question needs; '' or a Chinese warning when the answer model is unavailable."""
    from rag.llm import make_chat_model, parse_llm

    app.kb.open()  # embedding model, Chroma, BM25
    from rag.cases import find_cases

    find_cases(app.kb, "各地是怎样开展党建工作的？")  # the gazetteer, topic rules and article index (~2 s cold)
    from rag.parts import question_parts

    question_parts("乐山和自贡分别选派了多少名党建指导员？")  # jieba's part-of-speech model (~1 s cold)
    try:
        make_chat_model(parse_llm(llm, app.settings), app.settings)
    except Exception as exc:  # the chat still works with the evidence-only mode
        return f"提示：回答模型“{llm}”暂不可用（{exc}），可在界面上选择“仅原文摘录”。"
    return ""


def build_app(kb: KnowledgeBase, ingest_files: IngestFn) -> tuple[ChatApp, Any]:
    quiet_gradio()
    export_dir = Path(tempfile.gettempdir()) / "dangjian-rag-export"
    app = ChatApp(kb, ingest_files, export_dir)
    return app, build_blocks(app)


def serve(kb: KnowledgeBase, ingest_files: IngestFn, *, host: str = "127.0.0.1", port: int = 7860,
          say: Callable[[str], None] = print, block: bool = True) -> Any:
    """Serve the chat page and the API; return the uvicorn server (``block=False`` returns once it listens)."""
    import threading
    import time

    import gradio as gr
    import uvicorn
    from gradio.themes import Default

    from ui.api import build_api

    auth = parse_auth(kb.settings, host)
    check_api_keys(kb.settings, host)
    _port_free(host, port)
    app, blocks = build_app(kb, ingest_files)
    warning = warm_up(app, kb.settings.llm)
    if warning:
        say(warning)
    blocks.queue(max_size=QUEUE_SIZE, default_concurrency_limit=4)
    blocks.max_threads = kb.settings.ui_concurrency + 16  # room for uploads, votes and page loads
    api = gr.mount_gradio_app(
        build_api(kb, ingest_files, host), blocks, path="/", auth=auth, auth_message="请输入用户名和密码",
        ssr_mode=False, show_error=True, max_file_size=f"{kb.settings.max_file_mb * UPLOAD_HARD_CAP:g}mb",
        footer_links=[], pwa=False, allowed_paths=[str(app.export_dir)], mcp_server=False,
        theme=Default(font=FONTS, font_mono=["monospace"]), css=PAGE_CSS)
    server = uvicorn.Server(uvicorn.Config(api, host=host, port=port, log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:  # uvicorn sets this once the socket listens
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RagError(f"无法在 {host}:{port} 启动服务（端口可能已被占用，可用 --port 换一个）")
        time.sleep(0.05)
    say(f"已就绪：http://{'127.0.0.1' if host in LOCAL_HOSTS else host}:{port}  （按 Ctrl+C 退出；接口文档 /docs）")
    if block:
        try:
            thread.join()
        except KeyboardInterrupt:
            server.should_exit = True
            thread.join(10)
    return server
