"""Helpers for tests (and bench scripts) that run a real process: a server on 127.0.0.1, or an
ingest whose manifest is watched while it writes (read-only, so the watcher never takes a write lock)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen, timeout_s: float) -> None:
    """Terminate ``proc``; kill it if it has not exited within ``timeout_s``; always reap it."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.05) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` once ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)


def run_rag(data_dir: Path, *args: str, env: dict[str, str] | None = None,
            timeout_s: float = 600) -> subprocess.CompletedProcess[str]:
    """``rag ARGS`` (as ``python -m ui.cli``) on ``data_dir`` with ``env`` added; output captured, no raise."""
    full_env = {**os.environ, "RAG_DATA_DIR": str(data_dir), **(env or {})}
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout_s, check=False)


def _read_only(manifest: Path) -> sqlite3.Connection | None:
    return sqlite3.connect(f"file:{manifest}?mode=ro", uri=True, timeout=30) if manifest.exists() else None


def manifest_generation(manifest: Path) -> int:
    """The manifest's change counter; -1 before the file exists, 0 before its tables do."""
    db = _read_only(manifest)
    if db is None:
        return -1
    try:
        row = db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def stored_chunk_ids(manifest: Path) -> dict[str, list[str]]:
    """Chunk ids per stored document, in order, read without touching the writer."""
    db = _read_only(manifest)
    if db is None:
        return {}
    try:
        rows = db.execute("SELECT d.source, c.chunk_id FROM documents d JOIN chunks c ON c.source = d.source "
                          "ORDER BY d.source, c.ordinal").fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()
    out: dict[str, list[str]] = {}
    for source, chunk_id in rows:
        out.setdefault(source, []).append(chunk_id)
    return out
