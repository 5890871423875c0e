"""One Markdown table row per `rag eval` output folder (the issue-15 tables in bench/README.md).

Each row: accuracy, accuracy on the model's own words (without the clauses `rag.support` adds),
char F1, false refusals, rejection, every-needed-source-cited, how often the quotes shown held the answer
(``answer_in_quotes``) and how many wrong answers had it in view (the model's misses and refusals the quotes
contradict; the rest are misses of retrieval and quote selection), median total time of the answered
questions and median first token, how many final texts came from the model / the evidence / a
refusal, and the fallback reasons counted by `rag eval`.

Usage: python bench/eval_table.py RUN_DIR [RUN_DIR…]
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

HEADER = ("| set | llm | questions | accuracy | model's own words | char F1 | false refusals | rejection "
          "| every source cited | answer in quotes | wrong, answer in quotes "
          "| median total (answered) | median first token "
          "| model / evidence / refusal | fallbacks |")


def _mean(overall: dict, name: str) -> str:
    return f"{overall[name]['mean']:.3f}" if name in overall else "—"


def _median_s(values: list[float]) -> str:
    return f"{statistics.median(values) / 1000:.1f} s" if values else "—"


def _own_words(rows: list[dict]) -> str:
    """Accuracy with every model answer scored on its own words (``accuracy_own_words``), the rest as they are."""
    values = [r["metrics"].get("accuracy_own_words", r["metrics"]["accuracy"]) for r in rows
              if "accuracy" in r["metrics"]]
    return f"{sum(values) / len(values):.3f}" if values and any("accuracy_own_words" in r["metrics"] for r in rows) \
        else "—"


def _wrong_in_view(rows: list[dict]) -> str:
    """How many answerable questions were answered wrong (or refused) while the quotes shown held the answer."""
    scored = [r["metrics"] for r in rows if "answer_in_quotes" in r["metrics"]]
    return str(sum(m["answer_in_quotes"] and not m["accuracy"] for m in scored)) if scored else "—"


def row(folder: Path) -> str:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    overall = summary["overall"]
    total = [r["timings_ms"]["total"] for r in rows if not r["refused"] and "total" in r["timings_ms"]]
    first = [r["timings_ms"]["first_token"] for r in rows if "first_token" in r["timings_ms"]]
    paths = summary.get("answered_by", {})
    fallbacks = ", ".join(f"{k} {v}" for k, v in summary.get("fallback", {}).items()) or "—"
    cells = [summary["dataset"], summary["llm"], str(overall["questions"]), _mean(overall, "accuracy"),
             _own_words(rows), _mean(overall, "char_f1"), _mean(overall, "false_refusal_rate"),
             _mean(overall, "rejection_rate"),
             _mean(overall, "cites_every_source"), _mean(overall, "answer_in_quotes"), _wrong_in_view(rows),
             _median_s(total), _median_s(first),
             f"{paths.get('model', 0)} / {paths.get('evidence', 0)} / {paths.get('refusal', 0)}", fallbacks]
    return "| " + " | ".join(cells) + " |"


def main(folders: list[str]) -> None:
    print(HEADER)
    print("|" + "---|" * HEADER.count(" | ") + "---|")
    for folder in folders:
        print(row(Path(folder)))


if __name__ == "__main__":
    main(sys.argv[1:])
