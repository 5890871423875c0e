"""Shared fixtures: one real embedding model per session, real Chroma (embedded and server)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from rag.data import sample_dir
from tests.processes import free_port, stop_process

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """``../shared`` beside the checkout (the news corpus and the external eval sets), or one clear failure."""
    if not (SHARED / "corpus" / "dangjian_news" / "docs").is_dir() or not (SHARED / "evalsets").is_dir():
        pytest.fail(f"this test needs ../shared beside the checkout ({SHARED}: corpus/dangjian_news/docs and "
                    "evalsets/), as CI lays it out", pytrace=False)
    return SHARED


@pytest.fixture(scope="session")
def news_docs(shared: Path) -> Path:
    """The 972 real news articles of ``../shared``."""
    return shared / "corpus" / "dangjian_news" / "docs"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test data folder; the models folder stays the shared default cache."""
    return Settings(data_dir=data_dir, _env_file=None, **overrides)  # type: ignore[call-arg]


def knowledge_base_of(tmp_path: Path, embeddings, files: dict[str, str]):
    """A real knowledge base (Chroma, BM25, the embedding model) of ``files`` (name: text), written and ingested."""
    from ingest.pipeline import ingest_paths
    from rag.knowledge import KnowledgeBase

    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    kb = KnowledgeBase(make_settings(tmp_path / "kb"), embeddings=embeddings)
    ingest_paths(kb, [folder])
    return kb


@pytest.fixture(scope="session")
def embeddings(tmp_path_factory):
    from rag.embeddings import get_embeddings

    return get_embeddings(make_settings(tmp_path_factory.mktemp("unused-data")))


@pytest.fixture(scope="session")
def sample_kb(tmp_path_factory, embeddings):
    """A knowledge base with the five bundled sample articles, ingested once."""
    from ingest.pipeline import ingest_paths
    from rag.knowledge import KnowledgeBase

    kb = KnowledgeBase(make_settings(tmp_path_factory.mktemp("sample-kb")), embeddings=embeddings)
    report = ingest_paths(kb, [sample_dir()])
    assert report.count("added") == 5, report
    return kb


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server on 127.0.0.1 with its own folder."""
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([chroma, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chroma server did not start") from None
                time.sleep(0.3)
        yield "127.0.0.1", port
    finally:
        stop_process(proc, 15)


@pytest.fixture(params=["embedded", "server"])
def store_settings(request, tmp_path) -> Settings:
    """Settings for a fresh data folder, with Chroma embedded or behind a real server."""
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        return make_settings(tmp_path, chroma_host=host, chroma_port=port,
                             collection=f"t{abs(hash(request.node.name)) % 10**9}")
    return make_settings(tmp_path)
