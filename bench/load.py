"""Load test: N concurrent users × M questions against a running `rag serve` on 127.0.0.1.

Starts `rag serve` (password set, so every user logs in) on the bundled sample
articles in a temporary data folder and drives it through Gradio's HTTP API
with one ``gradio_client.Client`` per user: each user is its own session and
keeps one conversation, asking its questions one after another, all users at
once. The questions are the gold set's questions that are not follow-ups (so
an answer does not depend on the conversation), each user in its own order.

Checks on every answer (a failure is printed and counted as an error):
- the request finished without an error and the conversation has exactly one
  new turn, for the question that was asked (nothing lost, nothing from
  another session);
- its evidence equals the evidence a single user gets for that question
  (asked first, alone, with ``none``), and every [n] the answer cites is
  among it; with ``--llm none`` the whole answer text must be identical too;
- with a model: whether it was generated or fell back to the evidence-only
  answer after waiting longer than ``--queue-timeout`` in the model's queue.

Latency is taken on the client, from submit to the first update showing
evidence, to the first answer text, and to the finished turn; p95 under load
is reported against p95 of the same single user alone.

    python bench/load.py --llm none                     # 20 × 20, about 3 min
    python bench/load.py --llm local --queue-timeout 30 # 20 × 20 with the 1.5B, about 15 min

Writes bench/out/load-<llm>.json.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from eval.datasets import GOLD_SET, read_jsonl  # noqa: E402
from eval.metrics import percentile  # noqa: E402
from rag.rewrite import is_follow_up  # noqa: E402
from tests.browser import running_app  # noqa: E402

USER, PASSWORD = "load", "load-test-password"
_TURN = re.compile(r'<div class="turn" id="t[0-9a-f]+">')
_QUESTION = re.compile(r'<div class="q">问：(.*?)</div>', re.S)
_ANSWER = re.compile(r'<div class="answer(?: refused)?">(.*?)</div>', re.S)
_NOTICE = re.compile(r'<div class="notice">(.*?)</div>', re.S)
_EVIDENCE = re.compile(r'<div class="ev" id="[^"]+-e(\d+)"><div class="meta"><b>\[\d+\]</b> (.*?) 《.*?</div>'
                       r'<blockquote>(.*?)</blockquote>', re.S)
_STATUS = re.compile(r'<div class="status">(.*?)</div>', re.S)
_FOOT = re.compile(r'<div class="foot">.*?<span>(.*?)；', re.S)
_TAG = re.compile(r"<[^>]+>")
_MARK = re.compile(r"\[(\d{1,2})\]")


@dataclass
class Turn:
    """The last turn of a rendered conversation, read back from its HTML."""

    count: int
    question: str = ""
    answer: str = ""
    notice: str = ""
    status: str = ""
    llm: str = ""
    evidence: list[tuple[int, str, str]] = field(default_factory=list)  # (n, source, quote)
    done: bool = False

    @property
    def cited(self) -> set[int]:
        return {int(n) for n in _MARK.findall(self.answer)}


def _plain_text(match: re.Match[str] | None) -> str:
    return html.unescape(_TAG.sub("", match.group(1))) if match else ""


def last_turn(chat_html: str) -> Turn:
    parts = _TURN.split(chat_html)
    turn = Turn(count=len(parts) - 1)
    if turn.count == 0:
        return turn
    body = parts[-1]
    turn.question = _plain_text(_QUESTION.search(body))
    turn.answer = _plain_text(_ANSWER.search(body))
    turn.notice = _plain_text(_NOTICE.search(body))
    turn.status = _plain_text(_STATUS.search(body))
    turn.llm = _plain_text(_FOOT.search(body))
    turn.done = 'class="foot"' in body
    turn.evidence = [(int(n), html.unescape(s), html.unescape(q)) for n, s, q in _EVIDENCE.findall(body)]
    return turn


@dataclass
class Result:
    user: int
    index: int
    question: str
    mode: str
    evidence_ms: float | None = None
    first_text_ms: float | None = None
    total_ms: float = 0.0
    queued: bool = False
    outcome: str = ""  # generated | evidence | queue_timeout | model_failed | refused
    error: str = ""
    turn: Turn | None = None


def ask(client: Any, question: str, mode: str, user: int, index: int) -> Result:
    """Submit one question and follow its streamed updates until the turn is finished."""
    result = Result(user, index, question, mode)
    start = time.perf_counter()
    try:
        job = client.submit(question, mode, "全部地区", [], api_name="/ask")
        turn = Turn(0)
        for outputs in job:
            turn = last_turn(outputs[0])
            elapsed = (time.perf_counter() - start) * 1000
            if turn.count == index + 1 and turn.question == question:
                if turn.evidence and result.evidence_ms is None:
                    result.evidence_ms = elapsed
                if turn.answer and result.first_text_ms is None:
                    result.first_text_ms = elapsed
            result.queued |= "模型正忙" in turn.status
        job.result()  # raises when the request failed
        result.total_ms = (time.perf_counter() - start) * 1000
        result.turn = turn
    except Exception as exc:  # recorded as an error; the user goes on
        result.total_ms = (time.perf_counter() - start) * 1000
        result.error = f"{type(exc).__name__}: {exc}"[:300]
    return result


def classify(result: Result, reference: Turn | None) -> None:
    """Set ``outcome`` and, for a wrong answer, ``error``: lost, mixed up or inconsistent."""
    turn = result.turn
    if result.error or turn is None:
        result.error = result.error or "no answer"
        return
    if turn.count != result.index + 1 or turn.question != result.question or not turn.done:
        result.error = f"wrong turn: #{turn.count} {turn.question!r} done={turn.done}"
        return
    if "排队超时" in turn.notice:
        result.outcome = "queue_timeout"
    elif "模型生成失败" in turn.notice or "不可用" in turn.notice:
        result.outcome, result.error = "model_failed", turn.notice
    elif turn.answer.startswith("资料中没有找到"):
        result.outcome = "refused"
    else:
        result.outcome = "generated" if result.mode != "none" else "evidence"
    if not result.error and not turn.cited <= {n for n, _, _ in turn.evidence}:
        result.error = f"cites {sorted(turn.cited)} outside its evidence"
    if reference is None or result.error:
        return
    if turn.evidence != reference.evidence:
        result.error = "evidence differs from the single-user answer to this question (mixed up?)"
    elif result.mode == "none" and turn.answer != reference.answer:
        result.error = "answer differs from the single-user answer to this question"


def new_client(url: str) -> Any:
    from gradio_client import Client

    return Client(url, auth=(USER, PASSWORD), verbose=False, download_files=False, analytics_enabled=False)


def run_users(url: str, plans: list[list[str]], mode: str) -> tuple[list[Result], float]:
    """Every user asks its questions in order, all users at once; (results, wall seconds)."""
    clients = [new_client(url) for _ in plans]
    results: list[Result] = []
    lock, gate = threading.Lock(), threading.Barrier(len(plans))

    def user(u: int) -> None:
        gate.wait()
        for i, question in enumerate(plans[u]):
            r = ask(clients[u], question, mode, u, i)
            with lock:
                results.append(r)
                if r.error:
                    print(f"  user {u} #{i}: ERROR {r.error}", flush=True)

    threads = [threading.Thread(target=user, args=(u,)) for u in range(len(plans))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    return results, time.perf_counter() - start


def stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"n": len(values), "median": round(statistics.median(values)), "p95": round(percentile(values, 0.95)),
            "max": round(max(values))}


def summarize(results: list[Result]) -> dict[str, Any]:
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[r.outcome or "error"] = outcomes.get(r.outcome or "error", 0) + 1
    generated = [r for r in results if r.outcome == "generated"]
    return {"asks": len(results), "errors": sum(1 for r in results if r.error), "outcomes": outcomes,
            "queued": sum(r.queued for r in results),
            "evidence_ms": stats([r.evidence_ms for r in results if r.evidence_ms is not None]),
            "first_text_ms": stats([r.first_text_ms for r in generated if r.first_text_ms is not None]),
            "total_ms": stats([r.total_ms for r in results]),
            "total_generated_ms": stats([r.total_ms for r in generated])}


def pool_questions() -> list[str]:
    return [item.question for item in read_jsonl(GOLD_SET) if not is_follow_up(item.question)]


def plans_for(pool: list[str], users: int, questions: int) -> list[list[str]]:
    """User u starts at a different place in the pool and steps by a different stride."""
    strides = [s for s in range(1, len(pool)) if math.gcd(s, len(pool)) == 1] or [1]  # each visits the whole pool
    return [[pool[(u * 7 + i * strides[u % len(strides)]) % len(pool)] for i in range(questions)]
            for u in range(users)]


def line(name: str, s: dict[str, Any], single: dict[str, Any]) -> str:
    def fmt(key: str) -> str:
        a, b = s.get(key), single.get(key)
        if not a:
            return f"{key}: —"
        ratio = f" ({a['p95'] / b['p95']:.1f}× single-user p95 {b['p95']} ms)" if b else ""
        return f"{key}: median {a['median']} ms, p95 {a['p95']} ms{ratio}"
    return f"{name}: " + "; ".join(fmt(k) for k in ("evidence_ms", "first_text_ms", "total_ms"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default="none", help="answer mode the users choose: none | local | local:0.5b …")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=20, help="questions per user")
    parser.add_argument("--single", type=int, default=0,
                        help="questions the single user asks for the latency baseline (default: 30 / 5 with a model)")
    parser.add_argument("--queue-timeout", type=float, default=0,
                        help="RAG_LLM_QUEUE_TIMEOUT_S for the server (0: its default)")
    args = parser.parse_args()
    pool = pool_questions()
    data = Path(tempfile.mkdtemp(prefix="load-"))
    subprocess.run([str(Path(sys.executable).parent / "rag"), "--data-dir", str(data), "ingest", "-q"], check=True)
    env = {"RAG_UI_AUTH": f"{USER}:{PASSWORD}", "GRADIO_ANALYTICS_ENABLED": "False"}
    if args.queue_timeout:
        env["RAG_LLM_QUEUE_TIMEOUT_S"] = str(args.queue_timeout)
    with running_app(data, env, ["--llm", args.llm]) as url:
        print(f"{url}  {len(pool)} questions in the pool; references with none …", flush=True)
        refs, _ = run_users(url, [pool], "none")
        reference = {r.question: r.turn for r in refs if not r.error}
        single_n = args.single or (30 if args.llm == "none" else 5)
        single, _ = run_users(url, [pool[:single_n]], args.llm) if args.llm != "none" else (refs[:single_n], 0)
        for r in single:
            classify(r, reference.get(r.question))
        print(f"single user: {json.dumps(summarize(single), ensure_ascii=False)}", flush=True)
        print(f"{args.users} users × {args.questions} questions, llm={args.llm} …", flush=True)
        results, wall = run_users(url, plans_for(pool, args.users, args.questions), args.llm)
    for r in results:
        classify(r, reference.get(r.question))
    load, alone = summarize(results), summarize(single)
    errors = [r for r in results if r.error]
    print(f"\nwall {wall:.0f} s ({len(results) / wall:.1f} answers/s), {len(results)} answers, "
          f"{load['errors']} errors, outcomes {load['outcomes']}, {load['queued']} saw the model queue")
    print(line("single user", alone, {}))
    print(line(f"{args.users} users", load, alone))
    for r in errors[:10]:
        print(f"  user {r.user} #{r.index} {r.question}: {r.error}")
    summary = {"llm": args.llm, "users": args.users, "questions": args.questions, "pool": len(pool),
               "queue_timeout_s": args.queue_timeout or None, "wall_s": round(wall, 1),
               "answers_per_s": round(len(results) / wall, 2),
               "single_user": alone, "load": load,
               "errors": [{k: v for k, v in asdict(r).items() if k != "turn"} for r in errors]}
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"load-{args.llm.replace(':', '_')}.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
