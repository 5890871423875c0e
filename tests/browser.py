"""Helpers shared by the browser tests and bench/ui_latency.py: start `rag serve`, drive Chromium.

The app runs as a real `rag serve` process on 127.0.0.1; Debian's Chromium
runs headless under Playwright with the background-networking flags, and every
request that is not to the app is aborted and recorded (the page must load
and work with the network closed).
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.processes import free_port, stop_process

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@contextmanager
def running_app(data_dir: Path, env: dict[str, str], args: list[str], ready_timeout_s: float = 300,
                started: list[Any] | None = None) -> Iterator[str]:
    """Start `rag serve` on a free 127.0.0.1 port; yield its URL once it prints that it is ready.

    ``started``, when given, receives the process (benchmarks read its memory).
    """
    port = free_port()
    rag = shutil.which("rag", path=str(Path(sys.executable).parent)) or "rag"
    proc = subprocess.Popen([rag, "--data-dir", str(data_dir), "serve", "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **env})
    if started is not None:
        started.append(proc)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or []], daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + ready_timeout_s
    try:
        while not any("已就绪" in line for line in seen):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("rag serve did not become ready:\n" + "".join(seen[-30:]))
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_process(proc, 20)
        if proc.stdout:
            proc.stdout.close()


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def new_context(browser: Any, app_url: str, outside: list[str], **kwargs: Any) -> Any:
    """A zh-CN browser context where any request not to the app is aborted and recorded in ``outside``."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000}, **kwargs)

    def route(r: Any) -> None:
        if r.request.url.startswith(app_url) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context


def log_in(page: Any, app_url: str, user: str, password: str) -> None:
    page.goto(app_url)
    page.locator("input").first.fill(user)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name="登录").click()


def ask(page: Any, question: str) -> Any:
    """Type a question, press Enter, wait for its finished turn; return that turn's locator."""
    before = page.locator("#chat .turn").count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    turn = page.locator("#chat .turn").nth(before)
    turn.locator(".foot").wait_for(timeout=180_000)
    return turn
