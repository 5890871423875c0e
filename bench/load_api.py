"""Load test of the HTTP API: N concurrent clients × M questions through `/v1/chat/completions` (evidence mode).

The API counterpart of ``bench/load.py`` (same question pool and per-user plans): starts
`rag serve` on the sample articles with an API key and drives it with one official
``openai`` client per user, all users at once, model ``dangjian-evidence``.

Checks on every answer (a failure is printed and counted as an error): the request
finished; its text and references equal what a single client got for that question
alone (evidence mode is deterministic); every [n] in the text is among the references;
every reference's quote equals the stored article text at its offsets.

    python bench/load_api.py                 # 20 × 20

Writes bench/out/load-api.json.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import plans_for, pool_questions, stats  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.knowledge import KnowledgeBase  # noqa: E402
from tests.browser import running_app  # noqa: E402

KEY = "bench-load-key-0123456789"


def ask(client, question: str) -> tuple[float, str, list[dict], str]:
    """(seconds, text, references, error)."""
    started = time.perf_counter()
    try:
        reply = client.chat.completions.create(model="dangjian-evidence",
                                               messages=[{"role": "user", "content": question}])
    except Exception as exc:  # counted, printed
        return time.perf_counter() - started, "", [], repr(exc)
    message = reply.choices[0].message
    return time.perf_counter() - started, message.content or "", message.model_extra.get("references", []), ""


def check(text: str, refs: list[dict], reference: tuple[str, list[dict]] | None, text_of) -> str:
    numbers = {r["n"] for r in refs}
    if not {int(n) for n in re.findall(r"\[(\d+)\]", text)} <= numbers:
        return "cites a number it has no reference for"
    if any(text_of(r["source"])[r["start"]:r["end"]] != r["quote"] for r in refs):
        return "a reference quote is not the article text at its offsets"
    if reference is not None and (text, refs) != reference:
        return "differs from the single-client answer"
    return ""


def main() -> int:
    from openai import OpenAI

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    pool = pool_questions()
    data = Path(tempfile.mkdtemp(prefix="load-api-"))
    subprocess.run([str(Path(sys.executable).parent / "rag"), "--data-dir", str(data), "ingest", "-q"], check=True)
    kb = KnowledgeBase(Settings(data_dir=data))
    texts = {d.source: d.text for d in kb.documents()}
    env = {"RAG_API_KEYS": KEY, "RAG_API_RATE_PER_MIN": str(args.users * args.questions * 4)}
    with running_app(data, env, ["--llm", "none"]) as url:
        def client():
            return OpenAI(base_url=f"{url}v1", api_key=KEY, timeout=120, max_retries=0)
        alone = client()
        reference, single_s = {}, []
        for q in pool:
            seconds, text, refs, error = ask(alone, q)
            assert not error, error
            reference[q] = (text, refs)
            single_s.append(seconds * 1000)
        results: list[tuple[int, str, float, str]] = []
        lock, gate = threading.Lock(), threading.Barrier(args.users)

        def user(u: int, plan: list[str]) -> None:
            c = client()
            gate.wait()
            for q in plan:
                seconds, text, refs, error = ask(c, q)
                problem = error or check(text, refs, reference.get(q), texts.get)
                with lock:
                    results.append((u, q, seconds * 1000, problem))
                    if problem:
                        print(f"  user {u}: {q}: {problem}", flush=True)

        threads = [threading.Thread(target=user, args=(u, p))
                   for u, p in enumerate(plans_for(pool, args.users, args.questions))]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    errors = [r for r in results if r[3]]
    load, single = stats([r[2] for r in results]), stats(single_s)
    print(f"{len(results)} answers in {wall:.0f} s ({len(results) / wall:.1f}/s), {len(errors)} errors")
    print(f"single client: median {single['median']} ms, p95 {single['p95']} ms; "
          f"{args.users} clients: median {load['median']} ms, p95 {load['p95']} ms "
          f"({load['p95'] / single['p95']:.1f}× single p95)")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load-api.json").write_text(json.dumps(
        {"users": args.users, "questions": args.questions, "wall_s": round(wall, 1), "answers": len(results),
         "errors": [{"user": u, "question": q, "problem": p} for u, q, _, p in errors],
         "single_ms": single, "load_ms": load}, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
