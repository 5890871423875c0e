"""The local GGUF model's llama.cpp server (xllamacpp), run in a child process.

The child (``python -m rag.llama_server MODEL THREADS CONTEXT``) imports only
xllamacpp, binds 127.0.0.1 on a free port behind the random API key it gets in
its environment (not on its command line, which other users can read), prints
its address as one JSON line, and serves until its standard input closes: when
the parent exits or dies, the server goes with it.

Why a child and not a thread of this process: this process also holds PyTorch
(the embedder), whose bundled ``libgomp.so.1`` then also serves llama.cpp's
OpenMP threads; with the 1.5B on the gold set, measured in one session, the median
finished answer took 6.0 s in-process and 5.4 s from this child (decoding 2.7 -> 2.0 s;
``bench/README.md``, fifth round).
A child also keeps a llama.cpp crash from taking the chat down with it.

Prompt-lookup speculative decoding (llama.cpp's ``ngram-simple``, ``lookup=(n, m)``): when the last
``n`` tokens also stand earlier in the prompt or answer, the ``m`` tokens that followed them there are
drafted and checked in one batch. Our answers copy their quotes, so most drafts are accepted; a
by-place answer of four lines finished about a quarter sooner (``bench/README.md``, twenty-eighth round).
Greedy decoding keeps the model's choice, though a batch's rounding can flip a near tie.

The same request gets the same answer whatever was asked before: llama.cpp's memory cache of earlier prompts
(8 GiB by default; the child grew by ~9 MB a question) is off, and ``http_client`` brings the slot back to the
request's system prompt before each chat request (``rag.llama_prefix``).

Deliberately not here: which model or provider to use (``rag.llm``), prompts.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import selectors
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from rag.errors import RagError

_KEY_ENV = "RAG_LLAMA_SERVER_KEY"
_START_TIMEOUT_S = 120.0


class LocalLlamaServer:
    """A llama.cpp server in a child process, bound to 127.0.0.1 with a private key."""

    def __init__(self, model_path: Path, threads: int, context: int, lookup: tuple[int, int] = (0, 0)) -> None:
        self.model_path = model_path
        self.api_key = secrets.token_hex(16)
        self._client: Any = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child; closed in close()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rag.llama_server", str(model_path), str(threads), str(context), *map(str, lookup)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            env={**os.environ, _KEY_ENV: self.api_key},
        )
        atexit.register(self.close)
        deadline = time.monotonic() + _START_TIMEOUT_S
        try:
            root = self._read_address(deadline).rstrip("/")
            self.base_url = root + "/v1"
            self._wait_healthy(root + "/health", deadline)
            self._client = _prefix_reset_client()
        except BaseException:
            self.close()
            raise

    def _read_address(self, deadline: float) -> str:
        """The address line the child prints; other lines a native library may print are skipped."""
        assert self.process.stdout is not None
        fd, pending = self.process.stdout.fileno(), b""
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    raise RagError(f"本地模型服务启动超时：{self.model_path.name}")
                chunk = os.read(fd, 4096)  # the raw pipe: a buffered readline could hide a second line from select
                if not chunk:
                    raise RagError(f"本地模型服务启动失败：{self.model_path.name}：{self._last_log_line()}")
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    if line.startswith(b"{"):
                        return str(json.loads(line)["address"])

    def _wait_healthy(self, health: str, deadline: float) -> None:
        while True:
            try:
                with urllib.request.urlopen(health, timeout=2) as resp:  # 127.0.0.1 only
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if self.process.poll() is not None:
                raise RagError(f"本地模型服务意外退出：{self.model_path.name}：{self._last_log_line()}")
            if time.monotonic() > deadline:
                raise RagError(f"本地模型服务启动超时：{self.model_path.name}")
            time.sleep(0.2)

    def _last_log_line(self) -> str:
        self._log.seek(0)
        lines = [line for line in self._log.read().decode("utf-8", "replace").splitlines() if line.strip()]
        return lines[-1].strip() if lines else f"退出码 {self.process.poll()}"

    def http_client(self) -> Any:
        """The ``httpx.Client`` for this server, whose chat requests start from their system prompt alone."""
        return self._client

    def close(self) -> None:
        """Stop the child: close its standard input, then kill it if it lingers."""
        if self._client is not None:
            self._client.close()
        if self.process.poll() is None:
            if self.process.stdin is not None and not self.process.stdin.closed:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        self._log.close()


def _prefix_reset_client() -> Any:
    """An ``httpx.Client`` whose chat requests are taken one at a time, each from its system prompt."""
    import httpx

    from rag.llama_prefix import PrefixResetTransport

    return httpx.Client(transport=PrefixResetTransport(httpx.HTTPTransport()))


_servers: dict[tuple[str, int, int, tuple[int, int]], LocalLlamaServer] = {}
_servers_lock = threading.Lock()


def local_server(model_path: Path, threads: int, context: int, lookup: tuple[int, int] = (0, 0)) -> LocalLlamaServer:
    """The shared server for this model file, thread count, context and prompt lookup (n-gram size, most drafted
    tokens; 0: off); started on first use, restarted if it died."""
    key = (str(model_path), threads, context, lookup)
    with _servers_lock:
        server = _servers.get(key)
        if server is None or server.process.poll() is not None:
            if server is not None:
                server.close()
            server = _servers[key] = LocalLlamaServer(model_path, threads, context, lookup)
        return server


def _serve(model_path: str, threads: int, context: int, lookup_ngram: int, lookup_draft: int) -> None:
    """The child's side: start the server, announce its address, serve until stdin closes."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model_path
    params.n_ctx = context
    params.n_parallel = 1  # one generation at a time: 2 cores cannot serve more
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # a free port
    params.cache_prompt = True  # reuse the KV cache of the shared system-prompt prefix
    params.cache_ram_mib = 0  # no earlier prompts kept in memory (8 GiB by default): the slot alone is reused
    params.verbosity = -1
    params.api_keys = [os.environ[_KEY_ENV]]
    if lookup_ngram > 0:
        params.speculative.types = [xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]
        params.speculative.ngram_simple.size_n = lookup_ngram
        params.speculative.ngram_simple.size_m = lookup_draft
        params.speculative.draft.n_max = lookup_draft
    server = xllamacpp.Server(params)
    print(json.dumps({"address": server.listening_address}), flush=True)
    sys.stdin.read()  # returns at EOF: the parent closed it or is gone
    os._exit(0)  # skip interpreter teardown of the native server threads


if __name__ == "__main__":
    _serve(sys.argv[1], *map(int, sys.argv[2:6]))
