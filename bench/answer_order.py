"""Does a local answer depend on the question asked before it? The same questions in order, then reversed.

    RAG_DATA_DIR=<ingested knowledge base> python bench/answer_order.py QUESTIONS.jsonl [-n 16] [--llm local]

Asks the first ``n`` questions of a JSONL file (one ``question`` per line) through ``rag.chain.ask``, then the same
questions in reverse order, and prints how many answers differ between the two runs (each question is preceded by
a different one), the time of each run, the local server child's resident memory before and after, and the
time of one reset of the server's slot to the system prompt (``rag.llama_prefix``). Before that reset and with
llama.cpp's memory prompt cache on, 2 of 16 RGB integration check answers differed and the child grew by ~9 MB
a question (``bench/README.md``, thirty-first round).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.chain import ask  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.knowledge import KnowledgeBase  # noqa: E402
from rag.llama_prefix import reset_body  # noqa: E402
from rag.llama_server import LocalLlamaServer  # noqa: E402
from rag.llm import parse_llm, settings_server  # noqa: E402
from rag.models import resolve_chat_model  # noqa: E402
from rag.prompts import SYSTEM_PROMPT  # noqa: E402


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def _reset_seconds(server: LocalLlamaServer, model: str) -> float:
    """The reset ``rag.llama_prefix`` sends before an answer request, sent alone: what each reset costs."""
    body = reset_body({"model": model, "messages": [{"role": "system", "content": SYSTEM_PROMPT}]})
    start = time.perf_counter()
    httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=60,  # a plain client: no reset before it
               headers={"Authorization": f"Bearer {server.api_key}"}).raise_for_status()
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("-n", type=int, default=16)
    ap.add_argument("--llm", default="local")
    args = ap.parse_args()
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()][:args.n]
    settings = Settings()
    choice = parse_llm(args.llm, settings)
    if choice.kind != "local":
        raise SystemExit("只测本地模型（--llm local 或 local:0.5b）")
    kb = KnowledgeBase(settings)
    kb.open()
    server = settings_server(resolve_chat_model(choice.model, settings.models_dir), settings)  # started before timing
    rss_before = _rss_mb(server.process.pid)
    answers: dict[str, dict[str, str]] = {}
    for label, order in (("in order", questions), ("reversed", questions[::-1])):
        start = time.perf_counter()
        answers[label] = {q: ask(kb, q, llm=args.llm).text for q in order}
        print(f"{label}: {len(order)} questions in {time.perf_counter() - start:.1f} s")
    differ = [q for q in questions if answers["in order"][q] != answers["reversed"][q]]
    print(f"answers that differ: {len(differ)} of {len(questions)}")
    for q in differ:
        print(f"  {q}")
    print(f"server child RSS: {rss_before:.0f} MB -> {_rss_mb(server.process.pid):.0f} MB "
          f"after {2 * len(questions)} questions")
    print(f"one reset to the system prompt: {_reset_seconds(server, choice.model):.3f} s")
    kb.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
