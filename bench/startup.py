"""Benchmark: start-up and memory — `rag serve` to ready, `rag ask` one-shot, RSS with the model loaded.

Usage: python bench/startup.py [--runs 3] [--llm local]

On the five sample articles (ingested into a temporary data folder first):
- `rag serve`: wall time from process start to the "已就绪" line (the embedding model,
  Chroma, BM25 and the answer model are loaded before it is printed), and the process's
  resident memory then (VmRSS) and its peak (VmHWM);
- `rag ask QUESTION`: one-shot wall time with `--llm none` and with ``--llm``.
Median over ``--runs`` runs; writes ``bench/out/startup.json``. Memory after answering
questions through the browser is in ``bench/ui_latency.py``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.browser import running_app  # noqa: E402

QUESTION = "乐山选派了多少名党建指导员？"


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


def serve_once(data: Path, llm: str) -> dict[str, float]:
    procs: list = []
    started = time.perf_counter()
    with running_app(data, {}, ["--llm", llm], started=procs):
        ready_s = time.perf_counter() - started
        return {"ready_s": round(ready_s, 2), **memory_mb(procs[0].pid)}


def ask_once(rag: str, data: Path, llm: str) -> float:
    started = time.perf_counter()
    subprocess.run([rag, "--data-dir", str(data), "ask", QUESTION, "--llm", llm],
                   check=True, capture_output=True, text=True)
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--llm", default="local", help="answer model for serve and the second ask")
    args = parser.parse_args()
    rag = shutil.which("rag", path=str(Path(sys.executable).parent)) or "rag"
    data = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        subprocess.run([rag, "--data-dir", str(data), "ingest", "-q"], check=True)
        serves = [serve_once(data, args.llm) for _ in range(args.runs)]
        ask_none = [ask_once(rag, data, "none") for _ in range(args.runs)]
        ask_llm = [ask_once(rag, data, args.llm) for _ in range(args.runs)]
    finally:
        shutil.rmtree(data, ignore_errors=True)
    result = {
        "llm": args.llm, "runs": args.runs,
        "serve_ready_s": statistics.median(s["ready_s"] for s in serves),
        "serve_rss_mb_at_ready": statistics.median(s["VmRSS"] for s in serves),
        "serve_peak_rss_mb": max(s["VmHWM"] for s in serves),
        "ask_none_s": statistics.median(ask_none), f"ask_{args.llm}_s": statistics.median(ask_llm),
        "raw": {"serve": serves, "ask_none": ask_none, f"ask_{args.llm}": ask_llm},
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "startup.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")


if __name__ == "__main__":
    main()
