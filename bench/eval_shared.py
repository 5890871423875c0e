"""Run `rag eval` on the shared dev sets (and the gold set) and print the headline numbers.

    python bench/eval_shared.py [--llm none] [--llm local] [--limit N]

Each dataset folder brings its own documents; the first run ingests them into a
cached knowledge base (minutes: embedding dominates), later runs reuse it. Runs
go to bench/out/eval/<dataset>-<llm>/ (results.jsonl, summary.json, report.html).
The gold set runs over the current knowledge base (RAG_DATA_DIR; `rag ingest` first).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.commands import headline_lines  # noqa: E402

SETS = {
    "gold": ROOT / "eval" / "gold" / "sample_gold.jsonl",
    "crud_news_zh": ROOT.parent / "shared" / "evalsets" / "crud_news_zh",
    "rgb_zh": ROOT.parent / "shared" / "evalsets" / "rgb_zh",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", action="append", help="answer provider(s); default: none")
    parser.add_argument("--set", action="append", choices=sorted(SETS), help="dataset(s); default: all")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    rag = str(Path(sys.executable).parent / "rag")
    for name in args.set or list(SETS):
        for llm in args.llm or ["none"]:
            out = ROOT / "bench" / "out" / "eval" / f"{name}-{llm.replace(':', '_')}"
            cmd = [rag, "eval", str(SETS[name]), "--llm", llm, "--out", str(out)]
            if args.limit:
                cmd += ["--limit", str(args.limit)]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["overall"]
            print(f"\n{name}  llm={llm}  questions={summary['questions']}  → {out}")
            print("\n".join("  " + line for line in headline_lines(summary)))
            for lat in ("evidence_ms", "first_token_ms", "total_ms"):
                if lat in summary:
                    print(f"  {lat:<20} median {summary[lat]['median']:.0f} ms, p95 {summary[lat]['p95']:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
