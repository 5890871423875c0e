"""Export one answer with its quotes and source list, as Markdown or DOCX, for lesson preparation.

Deliberately not here: the chat itself; exports are written to a folder the
caller chooses (the UI uses a temporary folder Gradio may serve).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from rag.compose import regions_text
from rag.types import Answer, Citation

_UNSAFE = re.compile(r"[^\w\u4e00-\u9fff-]+")


def _quote_label(c: Citation) -> str:
    return f"《{c.title}》（{c.source}，{regions_text(c)}，{c.location}）"


def _source_line(c: Citation) -> str:
    return f"《{c.title}》 {c.source}（{regions_text(c)}）"


def _sources(answer: Answer) -> list[Citation]:
    """One entry per article, in order of first citation."""
    seen: dict[str, Citation] = {}
    for c in answer.citations or answer.evidence:
        seen.setdefault(c.source, c)
    return list(seen.values())


def to_markdown(answer: Answer, when: datetime | None = None) -> str:
    when = when or datetime.now()
    lines = [f"# {answer.question}", ""]
    if answer.notice:
        lines += [f"> 提示：{answer.notice}", ""]
    lines += ["## 回答", "", answer.text, "", "## 原文摘录", ""]
    for c in answer.citations or answer.evidence:
        lines += [f"**[{c.n}]** {_quote_label(c)}", "",
                  f"> {c.quote}", ""]
    lines += ["## 来源", ""]
    lines += [f"- {_source_line(c)}" for c in _sources(answer)]
    lines += ["", f"*导出时间 {when:%Y-%m-%d %H:%M}；回答方式 {answer.llm}*", ""]
    return "\n".join(lines)


def to_docx(answer: Answer, path: Path, when: datetime | None = None) -> Path:
    from docx import Document as DocxDocument

    when = when or datetime.now()
    doc = DocxDocument()
    doc.add_heading(answer.question, level=1)
    if answer.notice:
        doc.add_paragraph(f"提示：{answer.notice}")
    doc.add_heading("回答", level=2)
    doc.add_paragraph(answer.text)
    doc.add_heading("原文摘录", level=2)
    for c in answer.citations or answer.evidence:
        doc.add_paragraph(f"[{c.n}] {_quote_label(c)}")
        doc.add_paragraph(c.quote, style="Quote")
    doc.add_heading("来源", level=2)
    for c in _sources(answer):
        doc.add_paragraph(_source_line(c), style="List Bullet")
    doc.add_paragraph(f"导出时间 {when:%Y-%m-%d %H:%M}；回答方式 {answer.llm}")
    doc.save(str(path))
    return path


def export_files(answer: Answer, folder: Path) -> tuple[Path, Path]:
    """Write ``<question>.md`` and ``<question>.docx`` into ``folder``; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = _UNSAFE.sub("_", answer.question)[:40].strip("_") or "回答"
    md = folder / f"{stem}.md"
    md.write_text(to_markdown(answer), encoding="utf-8")
    return md, to_docx(answer, folder / f"{stem}.docx")
