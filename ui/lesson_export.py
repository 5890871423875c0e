"""Write a lesson pack (``rag.lesson.LessonPack``) as a Word handout, a slide deck and Markdown.

* ``.docx`` (python-docx): title, coverage line, a cases table, talking points,
  discussion questions, the quiz, then the answer key and the numbered sources;
* ``.pptx`` (python-pptx): a title slide, one slide per case with its quotes and
  source, the talking points, the quiz (a slide per three items) and the answers;
* ``.md``: the same as the handout.

Every quoted sentence is written as it stands in the pack (its checked quote).
Deliberately not here: choosing or checking the content (``rag.lesson``).
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.lesson import LessonPack, place
from ui.case_export import COLUMNS, add_case_table, case_row

_UNSAFE = re.compile(r"[^\w\u4e00-\u9fff-]+")
_FONT = "Noto Sans CJK SC"


def _quiz_parts(pack: LessonPack) -> list[tuple[str, str]]:
    """(numbered question, its options line or "") of each quiz item."""
    parts = []
    for i, item in enumerate(pack.quiz, 1):
        options = "　".join(f"{'ABCD'[j]}. {o}" for j, o in enumerate(item.options)) if item.kind == "单选" else ""
        parts.append((f"{i}.（{item.kind}）{item.question}", options))
    return parts


def _quiz_lines(pack: LessonPack) -> list[str]:
    return [question + (f"　{options}" if options else "") for question, options in _quiz_parts(pack)]


def _key_lines(pack: LessonPack) -> list[str]:
    lines = []
    for i, item in enumerate(pack.quiz, 1):
        answer = item.answer
        if item.kind == "单选":
            answer = f"{'ABCD'[item.options.index(item.answer)]}. {item.answer}"
        lines.append(f"{i}. {answer}　依据：“{item.quote}”（{item.source}，第 {item.start}–{item.end} 字）")
    return lines


def _source_lines(pack: LessonPack) -> list[str]:
    return [f"[{q.n}] {q.place}：{q.source}，第 {q.start}–{q.end} 字" for q in pack.quotes]


def to_markdown(pack: LessonPack) -> str:
    note = [f"> {pack.phrasing_note()}", ""] if pack.written_by else []
    lines = [f"# 备课包：{pack.topic}", "", pack.header, *note, "", "## 案例", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(c.replace("|", "｜").replace("\n", "<br>") for c in case_row(card)) + " |"
              for card in pack.cases]
    lines += ["", "## 讲解要点", ""] + [f"{i}. {t}" for i, (t, _) in enumerate(pack.points, 1)]
    lines += ["", "## 讨论题", ""] + [f"{i}. {t}" for i, t in enumerate(pack.discussion, 1)]
    lines += ["", "## 随堂测验", "", *_quiz_lines(pack)]
    lines += ["", "## 答案与依据", "", *_key_lines(pack)]
    lines += ["", "## 引文出处", ""] + [f"- {s}" for s in _source_lines(pack)] + [""]
    return "\n".join(lines)


def to_docx(pack: LessonPack, path: Path) -> Path:
    from docx import Document as DocxDocument

    doc = DocxDocument()
    doc.add_heading(f"备课包：{pack.topic}", level=1)
    doc.add_paragraph(pack.header)
    if pack.written_by:
        doc.add_paragraph(pack.phrasing_note())
    doc.add_heading("案例", level=2)
    add_case_table(doc, pack.cases)
    for title, lines in (("讲解要点", [t for t, _ in pack.points]), ("讨论题", list(pack.discussion)),
                         ("随堂测验", _quiz_lines(pack))):
        doc.add_heading(title, level=2)
        for line in lines:
            doc.add_paragraph(line, style="List Number" if title != "随堂测验" else None)
    doc.add_page_break()
    doc.add_heading("答案与依据", level=2)
    for line in _key_lines(pack):
        doc.add_paragraph(line)
    doc.add_heading("引文出处", level=2)
    for line in _source_lines(pack):
        doc.add_paragraph(line, style="List Bullet")
    doc.save(str(path))
    return path


def _slide(prs: object, title: str, lines: list[str], size: int = 18) -> None:
    from pptx.util import Inches, Pt

    slide = prs.slides.add_slide(prs.slide_layouts[5])  # type: ignore[attr-defined]  # title only
    slide.shapes.title.text = title
    for paragraph in slide.shapes.title.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.name, run.font.size = _FONT, Pt(30)
    box = slide.shapes.add_textbox(Inches(0.6), Inches(1.6), Inches(12.1), Inches(5.5)).text_frame
    box.word_wrap = True
    for i, line in enumerate(lines):
        paragraph = box.paragraphs[0] if i == 0 else box.add_paragraph()
        paragraph.text = line
        paragraph.space_after = Pt(8)
        for run in paragraph.runs:
            run.font.name, run.font.size = _FONT, Pt(size)


def _clip(text: str, n: int = 150) -> str:
    return text if len(text) <= n else text[:n] + "…"


def to_pptx(pack: LessonPack, path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    _slide(prs, f"备课包：{pack.topic}", [pack.header, f"案例 {len(pack.cases)} 个 · 讲解要点 {len(pack.points)} 条 · "
                                                     f"随堂测验 {len(pack.quiz)} 题"], 22)
    for card in pack.cases:
        quotes = [f"做法：“{_clip(q.quote)}”" for q in card.measures[:2]] + \
                 [f"成效：“{_clip(q.quote)}”" for q in card.results[:1]]
        facts = "｜".join(x for x in (card.organisation, card.date, card.outlet) if x)
        _slide(prs, place(card), ([facts] if facts else []) + quotes + [f"来源：《{card.title}》 {card.source}"], 16)
    _slide(prs, "讲解要点", [_clip(t, 120) for t, _ in pack.points], 16)
    _slide(prs, "讨论题", list(pack.discussion), 18)
    quiz = _quiz_parts(pack)
    for start in range(0, len(quiz), 3):
        lines = [line for question, options in quiz[start:start + 3]
                 for line in (_clip(question, 150), options) if line]
        _slide(prs, f"随堂测验（{start // 3 + 1}）", lines, 16)
    _slide(prs, "答案", [line.split("　依据")[0] for line in _key_lines(pack)], 18)
    prs.save(str(path))
    return path


def export_lesson(pack: LessonPack, folder: Path) -> dict[str, str]:
    """Write ``备课_<topic>.docx/.pptx/.md`` into ``folder``; return their paths by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = "备课_" + (_UNSAFE.sub("_", pack.topic)[:30].strip("_") or "主题")
    md = folder / f"{stem}.md"
    md.write_text(to_markdown(pack), encoding="utf-8")
    return {"docx": str(to_docx(pack, folder / f"{stem}.docx")), "pptx": str(to_pptx(pack, folder / f"{stem}.pptx")),
            "md": str(md)}
