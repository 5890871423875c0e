"""Plain-text output of the ``rag`` command: documents, search hits, citations, case lists.

Deliberately not here: argument parsing (``ui.cli_parser``) or the commands themselves
(``ui.cli``); JSON output is each object's own ``to_json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rag.compose import regions_text
from rag.types import Citation, SearchHit, SourceInfo


def print_sources(rows: Sequence[SourceInfo]) -> None:
    for r in rows:
        print(f"{r.source}\n  标题：{r.title}" + (f"（{r.label}）" if r.label else "")
              + f"\n  地区：{'、'.join(r.regions) or '（未识别）'}\n  片段：{r.chunks}    导入时间：{r.ingested_at}")
        if r.official:
            fields = (("发文机关", r.official.organ), ("发文字号", r.official.number), ("成文日期", r.official.issued),
                      ("密级", r.official.secrecy), ("紧急程度", r.official.urgency))
            print("  " + "    ".join(f"{name}：{value}" for name, value in fields if value))


def print_hits(hits: Sequence[SearchHit]) -> None:
    for i, h in enumerate(hits, 1):
        c = h.chunk
        page = f"第 {c.page} 页，" if c.page is not None else ""
        print(f"[{i}] {c.source}  《{c.title}》  {page}字符 {c.start}–{c.end}  得分 {h.score:.3f}")
        if c.regions:
            print(f"    地区：{'、'.join(c.regions)}")
        print("    " + c.text.replace("\n", "\n    "))


def print_cases(report: Any) -> None:
    print(report.header())
    for i, card in enumerate(report.cases, 1):
        where = "、".join(card.regions[:3]) or "未注明地区"
        facts = [x for x in (card.organisation, card.date, card.outlet) if x]
        print(f"\n[{i}] {where}{'｜' + '｜'.join(facts) if facts else ''}\n    《{card.title}》 {card.source}")
        if card.summary:
            print(f"    概括：{card.summary}")
        for label, quotes in (("做法", card.measures), ("成效", card.results)):
            for q in quotes:
                print(f"    {label}：“{q.quote}”（第 {q.start}–{q.end} 字）")
    if report.cases:
        print(f"\n以上列出全部 {report.matched} 个案例。")
    if report.overview:
        print(f"\n共同做法（[n] 为案例编号）：\n{report.overview}")


def print_citations(citations: Sequence[Citation]) -> None:
    for c in citations:
        place = regions_text(c)
        print(f"[{c.n}] {c.source}  《{c.title}》  {place}  {c.location}")
        print(f"    “{c.quote}”")
