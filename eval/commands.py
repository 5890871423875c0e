"""What ``rag eval`` and ``rag eval compare`` do, as functions the CLI calls with parsed options.

Deliberately not here: argument parsing (``ui.cli``), ingestion (injected by
the CLI, so this package never imports ``ingest``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import RagError


def headline_lines(overall: dict[str, Any]) -> list[str]:
    from eval.record import METRICS

    lines = []
    for metric in METRICS:
        if metric.headline and metric.name in overall:
            m = overall[metric.name]
            lines.append(f"{metric.name:<20} {m['mean']:.3f}  [{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]  n={m['n']}")
    return lines


def eval_command(dataset_path: Path, settings: Settings, ingest_files: Callable[..., Any], *, llm: str | None,
                 k: int | None, limit: int | None, out: str | None, kb_cache: str | None,
                 docs: str | None = None, every_answerable: int | None = None) -> int:
    from tqdm import tqdm

    from eval.datasets import load_dataset
    from eval.runner import dataset_kb, run_eval
    from rag.llm import parse_llm

    label = parse_llm(llm or settings.llm, settings).label
    dataset = load_dataset(dataset_path, Path(docs) if docs else None).every_answerable(every_answerable).limited(limit)
    cache = Path(kb_cache) if kb_cache else settings.models_dir.parent / "eval-kb"
    kb = dataset_kb(dataset, settings, ingest_files, cache)
    if not kb.sources():
        raise RagError(f"知识库 {settings.data_dir} 为空：请先运行 rag ingest，或使用带 docs/ 的数据集目录")
    folder = Path(out or f"eval_out/{dataset.name}-{label.replace(':', '_')}-{datetime.now():%Y%m%d-%H%M%S}")
    with tqdm(total=len(dataset.items), desc=f"评测 {dataset.name}", unit="题", file=sys.stderr) as bar:
        summary = run_eval(dataset, kb, folder, llm=llm, k=k, on_item=lambda row: bar.update(1))
    print("\n".join(headline_lines(summary["overall"])))
    names = {"model": "模型", "evidence": "原文摘录", "refusal": "拒答"}
    print("回答来源：" + "，".join(f"{names.get(k, k)} {n}" for k, n in summary["answered_by"].items()))
    if summary.get("fallback"):
        reasons = {"unavailable": "模型不可用", "busy": "模型繁忙", "failed": "生成失败", "empty": "回答无内容",
                   "refused_against_evidence": "模型拒答但资料高度相关", "unsupported_numbers": "数字与原文不符",
                   "unsupported_names": "名称与原文不符", "uncited": "回答未标注出处",
                   "unquoted_short": "简短答案不在原文中", "missing_parts": "补上遗漏的部分",
                   "more_items": "补上其他人名"}
        print("改用/补充原文摘录：" + "，".join(f"{reasons.get(k, k)} {n}" for k, n in summary["fallback"].items()))
    print(f"结果已写入 {folder}/（results.jsonl、summary.json、report.html）")
    return 0


def compare_command(runs: list[str], out: str | None) -> int:
    from eval.compare import compare_runs, write_comparison

    if len(runs) != 2:
        raise RagError("用法：rag eval compare 评测目录A 评测目录B")
    run_a, run_b = Path(runs[0]), Path(runs[1])
    print(write_comparison(compare_runs(run_a, run_b), Path(out) if out else run_b))
    return 0
