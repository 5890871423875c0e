"""Export a case table (``rag.cases.CaseReport``) as Word (a real table), Excel (.xlsx) and Markdown.

Each format has the coverage header, one row per case — 地区 | 单位 | 主要做法 | 成效 |
时间 | 来源 — with the quotes verbatim, and the list of source articles, so
trainers can paste the table into lesson material.

Deliberately not here: finding the cases (``rag.cases``) or showing them (``ui.render``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rag.cases import CaseCard, CaseReport

COLUMNS = ("地区", "单位", "主要做法", "成效", "时间", "来源")
_UNSAFE = re.compile(r"[^\w\u4e00-\u9fff-]+")


def case_row(card: CaseCard) -> tuple[str, ...]:
    """The six cells of one case, as shown in every export and in the chat's table."""
    measures = "\n".join(([f"概括：{card.summary}"] if card.summary else []) + [q.quote for q in card.measures])
    return ("、".join(card.regions) or "未注明地区", card.organisation or "", measures,
            "\n".join(q.quote for q in card.results),
            card.date or "", f"《{card.title}》 {card.source}" + (f"（{card.outlet}）" if card.outlet else ""))


def _sources(report: CaseReport) -> list[str]:
    return list(dict.fromkeys(f"《{c.title}》 {c.source}" + (f"，{c.outlet}" if c.outlet else "")
                              + (f"，{c.date}" if c.date else "") for c in report.cases))


def to_markdown(report: CaseReport) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "｜").replace("\n", "<br>")

    lines = [f"# 案例对比：{report.topic}", "", report.header(), "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(c) for c in case_row(card)) + " |" for card in report.cases]
    lines += ["", "## 来源", ""] + [f"- {s}" for s in _sources(report)] + [""]
    return "\n".join(lines)


def add_case_table(doc: Any, cards: Iterable[CaseCard]) -> None:
    """A real Word table of the cases, one row each (``COLUMNS``), into a python-docx document."""
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = name
    for card in cards:
        for cell, value in zip(table.add_row().cells, case_row(card), strict=True):
            cell.text = value


def to_docx(report: CaseReport, path: Path) -> Path:
    from docx import Document as DocxDocument

    doc = DocxDocument()
    doc.add_heading(f"案例对比：{report.topic}", level=1)
    doc.add_paragraph(report.header())
    add_case_table(doc, report.cases)
    doc.add_heading("来源", level=2)
    for line in _sources(report):
        doc.add_paragraph(line, style="List Bullet")
    doc.save(str(path))
    return path


def to_xlsx(report: CaseReport, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "案例对比"
    sheet.append([report.header()])
    sheet.append(list(COLUMNS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for card in report.cases:
        sheet.append(list(case_row(card)))
    for column, width in zip("ABCDEF", (18, 22, 60, 60, 12, 40), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sources = book.create_sheet("来源")
    for line in _sources(report):
        sources.append([line])
    book.save(str(path))
    return path


def export_cases(report: CaseReport, folder: Path) -> tuple[Path, Path, Path]:
    """Write ``案例_<topic>.docx/.xlsx/.md`` into ``folder``; return the three paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = "案例_" + (_UNSAFE.sub("_", report.topic)[:30].strip("_") or "对比")
    md = folder / f"{stem}.md"
    md.write_text(to_markdown(report), encoding="utf-8")
    return to_docx(report, folder / f"{stem}.docx"), to_xlsx(report, folder / f"{stem}.xlsx"), md
