"""``report.html``: one self-contained page (inline SVG charts, inline script, no external assets).

Headline numbers with intervals; charts of metrics by question kind, latency
distribution and answer-score histogram; a per-question table that can be
filtered by text, kind and outcome, with each question's evidence. Every
dataset or model string is HTML-escaped.

Deliberately not here: computing metrics (``eval.runner``, ``eval.metrics``).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

LABELS = {
    "accuracy": "答案正确率", "key_facts": "关键事实全部命中", "hit@1": "文档 hit@1", "hit@5": "文档 hit@5",
    "mrr@10": "文档 MRR@10", "char_f1": "字级 F1", "exact_match": "完全匹配 EM", "key_point_recall": "要点召回",
    "citation_verbatim": "引文逐字一致", "cites_a_source": "引用了正确来源", "rejection_rate": "拒答率（不可回答题）",
    "false_refusal_rate": "误拒率（可回答题）", "evidence_ms": "原文摘录用时", "first_token_ms": "首字用时",
    "total_ms": "总用时",
}
CHART_METRICS = ("accuracy", "key_facts", "hit@1", "hit@5", "citation_verbatim", "rejection_rate",
                 "false_refusal_rate")
COLORS = ("#b91c1c", "#2563eb", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777")
e = html.escape

CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;margin:24px;color:#111}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:4px 8px;font-size:13px;vertical-align:top}
th{background:#f3f4f6}.ok{color:#059669}.bad{color:#b91c1c}.charts{display:flex;flex-wrap:wrap;gap:24px}
.chart{border:1px solid #e5e7eb;border-radius:8px;padding:8px}.q{max-width:280px}
.a{max-width:420px;white-space:pre-wrap}
details{font-size:12px;color:#374151}#filters{margin:12px 0;display:flex;gap:12px;align-items:center}
"""

FILTER_JS = """
const rows=[...document.querySelectorAll('#items tbody tr')];
function apply(){const t=document.getElementById('f-text').value.trim();const k=document.getElementById('f-kind').value;
const w=document.getElementById('f-wrong').checked;let shown=0;
for(const r of rows){const ok=(!t||r.textContent.includes(t))&&(!k||r.dataset.kind===k)&&(!w||r.dataset.wrong==='1');
r.style.display=ok?'':'none';shown+=ok;}document.getElementById('f-count').textContent=shown+' 题';}
for(const id of ['f-text','f-kind','f-wrong'])document.getElementById(id).addEventListener('input',apply);apply();
"""


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def headline_table(block: dict[str, Any]) -> str:
    rows = []
    for name, value in block.items():
        if isinstance(value, dict) and "mean" in value:
            low, high = value["ci95"]
            rows.append(f"<tr><td>{e(LABELS.get(name, name))}</td><td><b>{_pct(value['mean'])}</b></td>"
                        f"<td>{_pct(low)} – {_pct(high)}</td><td>{value['n']}</td></tr>")
        elif isinstance(value, dict) and "median" in value:
            rows.append(f"<tr><td>{e(LABELS.get(name, name))}</td><td><b>中位 {value['median'] / 1000:.2f} 秒</b></td>"
                        f"<td>p95 {value['p95'] / 1000:.2f} 秒</td><td>{value['n']}</td></tr>")
    return ("<table><tr><th>指标</th><th>数值</th><th>95% 区间</th><th>题数</th></tr>" + "".join(rows) + "</table>")


def bars_by_kind(summary: dict[str, Any]) -> str:
    groups = summary.get("by_kind") or {"全部": summary["overall"]}
    metrics = [m for m in CHART_METRICS if any(m in b for b in groups.values())]
    bar_h, gap, label_w, width = 14, 10, 170, 320
    height = len(metrics) * (len(groups) * bar_h + gap) + 30
    parts = [f'<svg width="{label_w + width + 60}" height="{height}" role="img" aria-label="各类题目的指标">']
    y = 10
    for metric in metrics:
        parts.append(f'<text x="0" y="{y + 11}" font-size="12">{e(LABELS[metric])}</text>')
        for i, (kind, block) in enumerate(groups.items()):
            if metric in block:
                w = block[metric]["mean"] * width
                parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                             f'fill="{COLORS[i % len(COLORS)]}"><title>{e(kind)} {_pct(block[metric]["mean"])}'
                             f'</title></rect><text x="{label_w + w + 4:.1f}" y="{y + 10}" font-size="10">'
                             f'{_pct(block[metric]["mean"])}</text>')
            y += bar_h
        y += gap
    legend = "".join(f'<tspan fill="{COLORS[i % len(COLORS)]}">■ {e(k)} </tspan>' for i, k in enumerate(groups))
    parts.append(f'<text x="{label_w}" y="{height - 6}" font-size="11">{legend}</text></svg>')
    return "".join(parts)


def histogram(values: list[float], bins: list[float], label: str, fmt: str = "{:.1f}") -> str:
    counts = [0] * (len(bins) - 1)
    for v in values:
        for i in range(len(bins) - 1):
            if bins[i] <= v < bins[i + 1] or (i == len(bins) - 2 and v >= bins[-1]):
                counts[i] += 1
                break
    top = max(counts) or 1
    bar_w, height = 36, 150
    parts = [f'<svg width="{len(counts) * bar_w + 20}" height="{height + 40}" role="img" aria-label="{e(label)}">']
    for i, c in enumerate(counts):
        h = c / top * height
        parts.append(f'<rect x="{10 + i * bar_w}" y="{10 + height - h:.1f}" width="{bar_w - 4}" height="{h:.1f}" '
                     f'fill="#2563eb"><title>{c}</title></rect><text x="{10 + i * bar_w}" y="{height + 24}" '
                     f'font-size="9">{fmt.format(bins[i])}</text><text x="{12 + i * bar_w}" y="{6 + height - h:.1f}" '
                     f'font-size="9">{c}</text>')
    parts.append("</svg>")
    return f'<div class="chart"><div>{e(label)}</div>{"".join(parts)}</div>'


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return fmt.format(value)


def item_rows(rows: list[dict[str, Any]]) -> str:
    out = []
    for r in rows:
        m = r["metrics"]
        right = m.get("accuracy", m.get("rejection_rate"))
        mark = "—" if right is None else ('<span class="ok">✓</span>' if right else '<span class="bad">✗</span>')
        evidence = "".join(f"<div>[{c['n']}] {e(c['source'])}：{e(c['quote'])}</div>" for c in r["evidence"])
        total = r["timings_ms"].get("total_ms")
        reference = e(" / ".join(r["reference"]))
        out.append(
            f'<tr data-kind="{e(r["kind"])}" data-wrong="{0 if right else 1}"><td>{e(r["id"])}</td>'
            f'<td>{e(r["kind"])}</td><td class="q">{e(r["question"])}<br><small>参考：{reference}</small></td>'
            f'<td class="a">{e(r["answer"])}<details><summary>原文摘录（{len(r["evidence"])}）</summary>'
            f'{evidence}</details></td><td>{mark}</td><td>{"是" if r["refused"] else "否"}</td>'
            f'<td>{_cell(m.get("hit@1"), "{}")}</td><td>{_cell(m.get("char_f1"), "{:.2f}")}</td>'
            f'<td>{_cell(None if total is None else total / 1000, "{:.1f}")}</td></tr>')
    return "".join(out)


def render(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    totals = [r["timings_ms"]["total_ms"] / 1000 for r in rows if r["timings_ms"].get("total_ms") is not None]
    top = max(totals, default=1.0)
    step = max(top / 10, 0.01)
    f1 = [r["metrics"]["char_f1"] for r in rows if "char_f1" in r["metrics"]]
    kinds = sorted({r["kind"] for r in rows})
    kind_options = "".join(f'<option value="{e(k)}">{e(k)}</option>' for k in kinds)
    title = f"评测报告：{summary['dataset']}（{summary['llm']}，k={summary['k']}）"
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>{CSS}</style></head><body><h1>{e(title)}</h1>
<p>{len(rows)} 题；数据集 {e(summary["path"])}</p>
<h2>总体</h2>{headline_table(summary["overall"])}
<h2>图表</h2><div class="charts"><div class="chart"><div>各类题目的指标</div>{bars_by_kind(summary)}</div>
{histogram(totals, [i * step for i in range(11)], "总用时分布（秒）")}
{histogram(f1, [i / 10 for i in range(11)], "答案字级 F1 分布", "{:.1f}") if f1 else ""}</div>
<h2>逐题</h2><div id="filters"><input id="f-text" placeholder="筛选：问题、答案或编号">
<select id="f-kind"><option value="">全部类型</option>{kind_options}</select>
<label><input type="checkbox" id="f-wrong">只看错误</label><span id="f-count"></span></div>
<table id="items"><thead><tr><th>编号</th><th>类型</th><th>问题</th><th>回答</th><th>正确</th><th>拒答</th>
<th>hit@1</th><th>F1</th><th>秒</th></tr></thead><tbody>{item_rows(rows)}</tbody></table>
<script>{FILTER_JS}</script>
<script type="application/json" id="summary">{e(json.dumps(summary, ensure_ascii=False))}</script>
</body></html>"""


def write_report(path: Path, summary: dict[str, Any], rows: list[dict[str, Any]]) -> Path:
    path.write_text(render(summary, rows), encoding="utf-8")
    return path
