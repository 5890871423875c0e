"""``report.html``: one self-contained page (inline SVG charts, inline script, no external assets).

Headline numbers with intervals; charts of metrics by question kind, latency
distribution and answer-score histogram; a per-question table that can be
filtered by text, kind and outcome, with each question's evidence. The page is
the Jinja2 template ``eval/templates/report.html.j2`` with autoescaping on, so
every dataset, question, answer and document string is escaped by default;
this module only computes the numbers the template draws.

Deliberately not here: computing metrics (``eval.runner``, ``eval.metrics``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from eval.record import METRICS, ScoredRow, label

COLORS = ("#b91c1c", "#2563eb", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777")
_BAR_H, _GAP, _LABEL_W, _WIDTH = 14, 10, 170, 320


@lru_cache(maxsize=1)
def _template() -> Any:
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("eval", "templates"), autoescape=True)
    env.filters["pct"] = lambda value: f"{value * 100:.1f}%"
    return env.get_template("report.html.j2")


def headline(block: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for metric in METRICS:
        value = block.get(metric.name)
        if not isinstance(value, dict):
            continue
        if metric.aggregate == "mean":
            out.append({"kind": "mean", "label": metric.label, "mean": value["mean"], "low": value["ci95"][0],
                        "high": value["ci95"][1], "n": value["n"]})
        else:
            out.append({"kind": "latency", "label": metric.label, "median": value["median"], "p95": value["p95"],
                        "n": value["n"]})
    return out


def bars_by_kind(summary: dict[str, Any]) -> dict[str, Any]:
    groups = summary.get("by_kind") or {"全部": summary["overall"]}
    charted = [m.name for m in METRICS if m.chart and any(m.name in b for b in groups.values())]
    metrics, y = [], 10
    for name in charted:
        bars = []
        top = y
        for i, (kind, block) in enumerate(groups.items()):
            if name in block:
                bars.append({"kind": kind, "mean": block[name]["mean"], "w": block[name]["mean"] * _WIDTH, "y": y,
                             "color": COLORS[i % len(COLORS)]})
            y += _BAR_H
        metrics.append({"label": label(name), "y": top, "bars": bars})
        y += _GAP
    legend = [{"kind": k, "color": COLORS[i % len(COLORS)]} for i, k in enumerate(groups)]
    height = len(charted) * (len(groups) * _BAR_H + _GAP) + 30
    return {"metrics": metrics, "legend": legend, "height": height, "width": _LABEL_W + _WIDTH + 60,
            "label_w": _LABEL_W}


def histogram(values: list[float], bins: list[float], title: str, fmt: str = "{:.1f}") -> dict[str, Any]:
    counts = [0] * (len(bins) - 1)
    for v in values:
        for i in range(len(bins) - 1):
            if bins[i] <= v < bins[i + 1] or (i == len(bins) - 2 and v >= bins[-1]):
                counts[i] += 1
                break
    top = max(counts) or 1
    return {"label": title, "bars": [{"count": c, "h": c / top * 150, "edge": fmt.format(bins[i])}
                                     for i, c in enumerate(counts)]}


def _item(row: ScoredRow) -> dict[str, Any]:
    total = row.value(next(m for m in METRICS if m.name == "total_ms"))
    hit1, f1 = row.metrics.get("hit@1"), row.metrics.get("char_f1")
    return {"id": row.id, "kind": row.kind, "question": row.question, "reference": row.reference,
            "text": row.text, "evidence": row.evidence, "right": row.right, "refused": row.refused,
            "hit1": "—" if hit1 is None else ("✓" if hit1 else "✗"), "f1": "—" if f1 is None else f"{f1:.2f}",
            "seconds": "—" if total is None else f"{total / 1000:.1f}"}


def render(summary: dict[str, Any], rows: list[ScoredRow]) -> str:
    totals = [r.answer["timings_ms"]["total"] / 1000 for r in rows if "total" in r.answer.get("timings_ms", {})]
    step = max(max(totals, default=1.0) / 10, 0.01)
    f1 = [r.metrics["char_f1"] for r in rows if "char_f1" in r.metrics]
    histograms = [histogram(totals, [i * step for i in range(11)], "总用时分布（秒）")]
    if f1:
        histograms.append(histogram(f1, [i / 10 for i in range(11)], "答案字级 F1 分布"))
    return _template().render(
        title=f"评测报告：{summary['dataset']}（{summary['llm']}，k={summary['k']}）", summary=summary, rows=rows,
        headline=headline(summary["overall"]), bars=bars_by_kind(summary), histograms=histograms,
        kinds=sorted({r.kind for r in rows}), items=[_item(r) for r in rows])


def write_report(path: Path, summary: dict[str, Any], rows: list[ScoredRow]) -> Path:
    path.write_text(render(summary, rows), encoding="utf-8")
    return path
