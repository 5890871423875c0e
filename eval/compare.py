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
import random
import statistics
from pathlib import Path
from typing import Any

from eval.datasets import DatasetError
from eval.report import LABELS
from eval.runner import HEADLINE


def load_run(folder: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        rows = [json.loads(line) for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{folder}：不是一次评测的输出目录（需要 summary.json 和 results.jsonl）：{exc}") from exc
    return summary, {r["id"]: r for r in rows}


def is_right(row: dict[str, Any]) -> bool:
    m = row["metrics"]
    return bool(m["accuracy"]) if row["answerable"] else bool(m.get("rejection_rate"))


def paired_delta(pairs: list[tuple[float, float]], rounds: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    diffs = [b - a for a, b in pairs]
    mean = statistics.fmean(diffs)
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(diffs, k=len(diffs))) for _ in range(rounds))
    return mean, means[int(0.025 * rounds)], means[min(rounds - 1, int(0.975 * rounds))]


def compare_runs(run_a: Path, run_b: Path) -> dict[str, Any]:
    summary_a, rows_a = load_run(run_a)
    summary_b, rows_b = load_run(run_b)
    shared = [i for i in rows_a if i in rows_b]
    if not shared:
        raise DatasetError(f"{run_a} 与 {run_b} 没有相同编号的问题，无法比较")
    deltas = {}
    for name in HEADLINE:
        pairs = [(float(rows_a[i]["metrics"][name]), float(rows_b[i]["metrics"][name])) for i in shared
                 if name in rows_a[i]["metrics"] and name in rows_b[i]["metrics"]]
        if pairs:
            mean, low, high = paired_delta(pairs)
            deltas[name] = {"a": statistics.fmean(a for a, _ in pairs), "b": statistics.fmean(b for _, b in pairs),
                            "delta": mean, "ci95": [low, high], "n": len(pairs)}
    flips = {"right_to_wrong": [], "wrong_to_right": []}
    for i in shared:
        before, after = is_right(rows_a[i]), is_right(rows_b[i])
        if before != after:
            key = "right_to_wrong" if before else "wrong_to_right"
            flips[key].append({"id": i, "question": rows_a[i]["question"], "a": rows_a[i]["answer"][:200],
                               "b": rows_b[i]["answer"][:200]})
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
        lines.append(f"| {LABELS.get(name, name)} | {d['a']:.1%} | {d['b']:.1%} | {d['delta']:+.1%} | "
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
