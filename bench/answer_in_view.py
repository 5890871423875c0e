"""Where the wrong answers of stored `rag eval` runs come from: the quotes shown held the answer, or not.

    python bench/answer_in_view.py DATASET RUN_DIR [RUN_DIR…] [--docs DIR]

For every answerable question of each run (its ``results.jsonl``), the quotes the answer was given with
are read together and checked as ``rag eval`` checks an answer (``eval.runner.answer_in_quotes``, the
``answer_in_quotes`` score that new runs record). A wrong answer (or a refusal) whose quotes held the
answer is a miss of the model, or of the checks after it; one whose quotes did not is a miss of
retrieval and quote selection, which no prompt can mend. Runs made before the score existed are
scored here from their stored quotes; nothing is asked again.

One line per run: answerable questions, accuracy, answer in quotes, and the wrong answers split into
"in view" and "not in view", each by the path that gave the final text (model / evidence / refusal).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.datasets import load_dataset  # noqa: E402
from eval.runner import answer_in_quotes  # noqa: E402


def _paths(counter: Counter[str]) -> str:
    return " / ".join(str(counter[path]) for path in ("model", "evidence", "refusal"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--docs", type=Path)
    args = ap.parse_args()
    items = {item.id: item for item in load_dataset(args.dataset, args.docs).items}
    print("| run | answerable | accuracy | answer in quotes | wrong, answer in quotes (model / evidence / refusal) "
          "| wrong, answer not in quotes (model / evidence / refusal) |")
    print("|---|---|---|---|---|---|")
    for run in args.runs:
        rows = [json.loads(line) for line in (run / "results.jsonl").read_text(encoding="utf-8").splitlines()]
        scored = [(r, items[r["id"]]) for r in rows if r["answerable"] and "accuracy" in r["metrics"]]
        right = in_view = 0
        wrong_in, wrong_out = Counter[str](), Counter[str]()
        for r, item in scored:
            held = answer_in_quotes(item, [c["quote"] for c in r["evidence"]])
            in_view += held
            if r["metrics"]["accuracy"]:
                right += 1
            else:
                (wrong_in if held else wrong_out)[r["answered_by"]] += 1
        n = len(scored)
        print(f"| {run.name} | {n} | {right / n:.3f} | {in_view / n:.3f} | {sum(wrong_in.values())} "
              f"({_paths(wrong_in)}) | {sum(wrong_out.values())} ({_paths(wrong_out)}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
