"""Time from pressing Enter in the chat to evidence on screen and to the first answer token.

Starts `rag serve` on the bundled sample articles (a temporary data folder)
with the default answer model unless --llm says otherwise, opens it in
headless Chromium, asks N answerable gold questions one after another and
records, inside the page, performance.now() at the Enter keydown, when the new
turn's first evidence item is in the DOM, and when its first answer text is.

    python bench/ui_latency.py [--llm local] [-n 12]
    python bench/ui_latency.py --cases --llm none   # cross-place questions: Enter → case table

Prints per-question figures and medians/p95, and writes bench/out/ui_latency.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.startup import memory_mb  # noqa: E402
from eval.datasets import GOLD_SET, read_jsonl  # noqa: E402
from eval.metrics import percentile  # noqa: E402
from tests.browser import launch_chromium, new_context, running_app  # noqa: E402

OBSERVER = """() => {
  window.__lat = {};
  const box = document.querySelector('#question textarea');
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') window.__lat = {t0: performance.now(), n: document.querySelectorAll('#chat .turn').length};
  },
                       {capture: true});
  new MutationObserver(() => {
    const lat = window.__lat; if (!lat.t0) return;
    const t = document.querySelectorAll('#chat .turn')[lat.n]; if (!t) return;  // the new turn only
    if (!lat.ev && t.querySelector('.ev')) lat.ev = performance.now();
    if (!lat.cases && t.querySelector('.cases')) lat.cases = performance.now();
    if (!lat.tok && t.querySelector('.answer')) lat.tok = performance.now();
    if (!lat.done && t.querySelector('.foot')) lat.done = performance.now();
  }).observe(document.querySelector('#chat'), {childList: true, subtree: true});
}"""


CASE_QUESTIONS = ("其他地方是怎么选派党建指导员的？", "各地是怎么建立党建联盟的？", "其他地方是怎么做楼宇党建的？",
                  "哪些地方建了红色驿站？", "各地是怎么做商圈党建的？", "各地怎样在非公企业建立党组织？")


def gold_questions(n: int) -> list[str]:
    return [item.question for item in read_jsonl(GOLD_SET) if item.answerable][:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default="", help="answer mode for the app (default: RAG_LLM, i.e. local 1.5B)")
    parser.add_argument("-n", type=int, default=12, help="questions to ask (>= 10 for the issue's median)")
    parser.add_argument("--cases", action="store_true", help="ask cross-place questions; time the case table")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    data = Path(tempfile.mkdtemp(prefix="ui-latency-"))
    rag = str(Path(sys.executable).parent / "rag")
    subprocess.run([rag, "--data-dir", str(data), "ingest", "-q"], check=True)
    rows = []
    procs: list = []
    with running_app(data, {}, ["--llm", args.llm] if args.llm else [], started=procs) as url, \
            sync_playwright() as pw:
        browser = launch_chromium(pw)
        outside: list[str] = []
        page = new_context(browser, url, outside).new_page()
        page.goto(url)
        page.locator("#question textarea").wait_for()
        page.evaluate(OBSERVER)
        questions = [CASE_QUESTIONS[i % len(CASE_QUESTIONS)] for i in range(args.n)] if args.cases \
            else gold_questions(args.n)
        for question in questions:
            page.fill("#question textarea", question)
            page.press("#question textarea", "Enter")
            page.wait_for_function("() => window.__lat.done", timeout=300_000, polling=100)
            lat = page.evaluate("() => window.__lat")
            row = {"question": question, "evidence_ms": lat["ev"] - lat["t0"],
                   "first_token_ms": (lat["tok"] - lat["t0"]) if lat.get("tok") else None,
                   "done_ms": lat["done"] - lat["t0"],
                   "cases_ms": (lat["cases"] - lat["t0"]) if lat.get("cases") else None}
            rows.append(row)
            tok = f"{row['first_token_ms'] / 1000:6.2f}" if row["first_token_ms"] else "     —"
            print(f"evidence {row['evidence_ms'] / 1000:5.2f} s  first token {tok} s  "
                  f"done {row['done_ms'] / 1000:6.2f} s  {question}", flush=True)
        browser.close()
        memory = memory_mb(procs[0].pid)  # the serving process after answering, model loaded
    ev = [r["evidence_ms"] for r in rows]
    tok = [r["first_token_ms"] for r in rows if r["first_token_ms"] is not None]
    ev_stats = {"median": statistics.median(ev), "p95": percentile(ev, 0.95), "n": len(ev)}
    tok_stats = {"median": statistics.median(tok), "p95": percentile(tok, 0.95), "n": len(tok)} if tok else None
    cases = [r["cases_ms"] for r in rows if r["cases_ms"] is not None]
    if cases:
        print(f"Enter → case table: median {statistics.median(cases):.0f} ms, p95 {percentile(cases, 0.95):.0f} ms "
              f"({len(cases)}/{len(rows)} questions showed one)")
    summary = {"llm": args.llm or "default", "questions": len(rows), "outside_requests": outside,
               "cases_ms": {"median": statistics.median(cases), "p95": percentile(cases, 0.95)} if cases else None,
               "evidence_ms": ev_stats, "first_token_ms": tok_stats, "serve_memory_mb": memory, "rows": rows}
    print(f"rag serve memory after the questions: RSS {memory['VmRSS']:.0f} MB, peak {memory['VmHWM']:.0f} MB")
    print(f"\nEnter → evidence: median {ev_stats['median']:.0f} ms, p95 {ev_stats['p95']:.0f} ms")
    if tok_stats:
        print(f"Enter → first answer token: median {tok_stats['median'] / 1000:.2f} s, "
              f"p95 {tok_stats['p95'] / 1000:.2f} s ({len(tok)}/{len(rows)} answers streamed text)")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    name = "ui_latency_cases.json" if args.cases else "ui_latency.json"
    (out / name).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
