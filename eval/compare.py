"""``rag eval compare RUN_A RUN_B``: metric deltas with paired bootstrap intervals, and flipped questions.

Questions are matched by id. A question's outcome is "right" when it is
answerable and answered correctly, or unanswerable and refused. The delta of
each metric is B − A over the questions both runs scored, with a 95% paired
bootstrap interval (resampling questions). Writes ``compare.json`` and
``compare.md`` into the output folder (RUN_B by default).

Deliberately not here: running evaluations (``eval.runner``).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from eval.datasets import DatasetError
from eval.metrics import bootstrap_ci
from eval.record import SCORES, ScoredRow, label


def load_run(folder: Path) -> tuple[dict[str, Any], dict[str, ScoredRow]]:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        rows = [ScoredRow.from_json(json.loads(line))
                for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        raise DatasetError(f"{folder}：不是一次评测的输出目录（需要 summary.json 和 results.jsonl）：{exc}") from exc
    return summary, {r.id: r for r in rows}


def compare_runs(run_a: Path, run_b: Path) -> dict[str, Any]:
    summary_a, rows_a = load_run(run_a)
    summary_b, rows_b = load_run(run_b)
    shared = [i for i in rows_a if i in rows_b]
    if not shared:
        raise DatasetError(f"{run_a} 与 {run_b} 没有相同编号的问题，无法比较")
    deltas = {}
    for metric in SCORES:
        pairs = [(a, b) for a, b in ((rows_a[i].value(metric), rows_b[i].value(metric)) for i in shared)
                 if a is not None and b is not None]
        if pairs:
            mean, low, high = bootstrap_ci([b - a for a, b in pairs])  # paired: resample the questions' deltas
            deltas[metric.name] = {"a": statistics.fmean(a for a, _ in pairs),
                                   "b": statistics.fmean(b for _, b in pairs),
                                   "delta": mean, "ci95": [low, high], "n": len(pairs)}
    flips: dict[str, list[dict[str, str]]] = {"right_to_wrong": [], "wrong_to_right": []}
    for i in shared:
        before, after = bool(rows_a[i].right), bool(rows_b[i].right)
        if before != after:
            key = "right_to_wrong" if before else "wrong_to_right"
            flips[key].append({"id": i, "question": rows_a[i].question, "a": rows_a[i].text[:200],
                               "b": rows_b[i].text[:200]})
    return {"a": {"run": str(run_a), "llm": summary_a.get("llm"), "dataset": summary_a.get("dataset")},
            "b": {"run": str(run_b), "llm": summary_b.get("llm"), "dataset": summary_b.get("dataset")},
            "questions": len(shared), "deltas": deltas, **flips}


def to_markdown(result: dict[str, Any]) -> str:
    a, b = result["a"], result["b"]
    lines = [f"# 评测对比：A = {a['run']}（{a['llm']}） → B = {b['run']}（{b['llm']}）", "",
             f"共同题目 {result['questions']} 题。", "",
             "| 指标 | A | B | B − A | 95% 区间 | 题数 |", "|---|---|---|---|---|---|"]
    for name, d in result["deltas"].items():
        low, high = d["ci95"]
        lines.append(f"| {label(name)} | {d['a']:.1%} | {d['b']:.1%} | {d['delta']:+.1%} | "
                     f"{low:+.1%} … {high:+.1%} | {d['n']} |")
    for key, title in (("right_to_wrong", "由对变错"), ("wrong_to_right", "由错变对")):
        lines += ["", f"## {title}（{len(result[key])} 题）", ""]
        lines += [f"- {f['id']} {f['question']}\n  - A：{f['a']}\n  - B：{f['b']}" for f in result[key]]
    return "\n".join(lines) + "\n"


def write_comparison(result: dict[str, Any], out_dir: Path) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "compare.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    text = to_markdown(result)
    (out_dir / "compare.md").write_text(text, encoding="utf-8")
    return text
