"""HTML for the chat: questions, streamed answers with clickable [n] marks, evidence, source viewer.

The markup is the Jinja2 template ``ui/templates/chat.html.j2`` with
autoescaping on, so every piece of text that comes from a user or a document
(questions, answers, quotes, titles, file names, article text) is escaped by
default and a document containing ``<script>`` or ``<img onerror=…>`` shows as
text; only the template's own macros produce markup. Citation marks become ``<a class="cite" data-target=…>`` links; the
small script in ``CHAT_JS`` (run by the chat component) opens the cited
passage's source viewer and scrolls to the highlighted span.

Deliberately not here: Gradio (``ui.app``), answering (``rag.chain``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rag.cases import NO_REGION, CaseReport, province_of
from rag.compose import regions_text
from rag.support import support_spans
from rag.types import Answer, Citation, Document

SOURCE_WINDOW_CHARS = 1500  # article text shown on each side of a quoted span
_MARK = re.compile(r"\[(\d{1,2})\]")

# The chat component's js_on_load: delegated clicks on citation marks and feedback buttons.
CHAT_JS = """
element.addEventListener('click', (ev) => {
  const cite = ev.target.closest('a.cite');
  if (cite) {
    ev.preventDefault();
    const item = element.querySelector('#' + CSS.escape(cite.dataset.target));
    if (!item) return;
    const viewer = item.querySelector('details.viewer');
    if (viewer) viewer.open = true;
    const span = item.querySelector('mark.span') || item;
    const show = () => span.scrollIntoView({block: 'center', behavior: 'instant'});
    show(); requestAnimationFrame(() => requestAnimationFrame(show));  // again after late layout shifts
    item.classList.remove('flash'); void item.offsetWidth; item.classList.add('flash');
    return;
  }
  const chip = ev.target.closest('button.chip');
  if (chip) {
    const box = chip.closest('.cases');
    box.querySelectorAll('button.chip').forEach((b) => b.classList.toggle('active', b === chip));
    const want = chip.dataset.region;
    box.querySelectorAll('tr.case').forEach((row) => {
      row.style.display = (!want || row.dataset.region === want) ? '' : 'none';
    });
    return;
  }
  const vote = ev.target.closest('button.vote');
  if (vote) trigger('like', {turn: vote.dataset.turn, vote: vote.dataset.vote});
});
"""

CHAT_CSS = """
.chat { display: flex; flex-direction: column; gap: 14px; }
.turn { border: 1px solid #e5e7eb; border-radius: 10px; padding: 10px 14px; background: #fff; }
.turn .q { font-weight: 600; margin-bottom: 6px; white-space: pre-wrap; }
.turn .notice { color: #92400e; background: #fffbeb; padding: 4px 8px; border-radius: 6px; margin: 4px 0; }
.turn .status { color: #6b7280; font-size: 0.9em; }
.turn .answer { white-space: pre-wrap; line-height: 1.7; }
.turn .answer.refused { color: #7c2d12; }
.turn a.cite { color: #b91c1c; font-weight: 600; text-decoration: none; cursor: pointer; }
.turn .support { color: #1e3a8a; background: #eff6ff; border-radius: 4px; padding: 0 2px; }
.turn .ev-title { font-weight: 600; margin-top: 8px; color: #374151; }
.turn .ev { border-left: 3px solid #d1d5db; padding: 4px 8px; margin: 6px 0; }
.turn .ev.flash { border-left-color: #b91c1c; background: #fef2f2; }
.turn .ev .meta { color: #6b7280; font-size: 0.85em; }
.turn .ev blockquote { margin: 4px 0; white-space: pre-wrap; }
.turn details.viewer .article { white-space: pre-wrap; max-height: 320px; overflow-y: auto;
  background: #f9fafb; padding: 8px; border-radius: 6px; line-height: 1.7; }
.turn mark.span { background: #fde68a; }
.turn .foot { color: #6b7280; font-size: 0.85em; margin-top: 6px; }
.turn button.vote { border: 1px solid #d1d5db; border-radius: 6px; background: #fff; cursor: pointer;
  margin-right: 4px; }
.empty { color: #6b7280; }
.cases { margin: 8px 0 12px; }
.cases .cases-head { font-weight: 600; margin-bottom: 6px; }
.cases .chips { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 6px; }
.cases button.chip { border: 1px solid #d1d5db; border-radius: 999px; background: #fff; padding: 1px 10px;
  cursor: pointer; font-size: 0.9em; }
.cases button.chip.active { background: #b91c1c; color: #fff; border-color: #b91c1c; }
.cases .case-scroll { max-height: 520px; overflow-y: auto; }
.cases table.case-table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
.cases table.case-table th, .cases table.case-table td { border: 1px solid #e5e7eb; padding: 4px 6px;
  vertical-align: top; }
.cases table.case-table th { background: #f3f4f6; position: sticky; top: 0; white-space: nowrap; }
.cases table.case-table td:nth-child(1) { min-width: 6em; }
.cases table.case-table td:nth-child(2) { min-width: 6em; }
.cases table.case-table td:nth-child(5) { white-space: nowrap; }
.cases td .q + .q { margin-top: 4px; }
.cases td .summary { font-weight: 600; color: #374151; margin-bottom: 4px; }
.cases .cases-foot { color: #6b7280; font-size: 0.85em; }
"""


@dataclass
class ChatTurn:
    """One question in the chat and everything shown for it, filled in as events arrive."""

    uid: str
    question: str
    evidence: tuple[Citation, ...] = ()
    partial: str = ""
    status: str = ""
    answer: Answer | None = None
    vote: str = ""
    windows: dict[int, str] = field(default_factory=dict)  # n → rendered source-viewer HTML
    cases: CaseReport | None = None  # the case table of a cross-place question
    case_windows: dict[int, str] = field(default_factory=dict)  # case index → source-viewer HTML
    case_files: tuple[str, ...] = ()  # the case table's .docx, .xlsx and .md, once written


@lru_cache(maxsize=1)
def _macros() -> Any:
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("ui", "templates"), autoescape=True)
    return env.get_template("chat.html.j2").module


def source_window(text: str, start: int, end: int, width: int = SOURCE_WINDOW_CHARS,
                  bounds: tuple[int, int] | None = None) -> str:
    """The article around ``text[start:end]`` with that span highlighted (escaped HTML), within ``bounds``."""
    first, last = bounds or (0, len(text))
    lo, hi = max(first, start - width), min(last, end + width)
    before = ("…" if lo > first else "") + text[lo:start]
    after = text[end:hi] + ("…" if hi < last else "")
    return _macros().window(before, text[start:end], after)


def answer_html(text: str, uid: str, known: Sequence[int]) -> str:
    """Escaped answer text with each known ``[n]`` turned into a link to evidence item n, and each
    clause ``rag.support`` added ("（原文：…）") set apart as the article's words."""
    segments: list[tuple[str, int | None, bool]] = []
    pos = 0
    clauses = support_spans(text)
    marks = [(m.start(), m.end(), n) for m in _MARK.finditer(text) if (n := int(m.group(1))) in known
             and not any(start <= m.start() < end for start, end in clauses)]  # "[2]" in an article's words is text
    cuts = sorted(marks + [(start, end, None) for start, end in clauses])
    for start, end, n in cuts:
        segments.append((text[pos:start], None, False))
        segments.append(("", n, False) if n is not None else (text[start:end], None, True))
        pos = end
    segments.append((text[pos:], None, False))
    return _macros().answer(segments, uid)


def evidence_item(uid: str, c: Citation, window: str) -> str:
    return _macros().evidence_item(uid, c, regions_text(c), window)


def turn_html(turn: ChatTurn) -> str:
    answer = turn.answer
    evidence = answer.evidence if answer is not None else turn.evidence
    text = answer.text if answer is not None else turn.partial
    view = {
        "uid": turn.uid, "question": turn.question, "status": turn.status, "vote": turn.vote,
        "notice": answer.notice if answer is not None else "",
        "refused": answer is not None and answer.refused,
        "answer_html": answer_html(text, turn.uid, [c.n for c in evidence]) if text else "",
        "cases_html": cases_html(turn) if turn.cases is not None and turn.cases.cases else "",
        "evidence": [evidence_item(turn.uid, c, turn.windows.get(c.n, "")) for c in evidence],
        "finished": answer is not None, "timing": _timing(answer) if answer is not None else "",
    }
    return _macros().turn(view)


def cases_html(turn: ChatTurn) -> str:
    """The case table of a turn: coverage header, region chips, one row per case with its source viewer."""
    from ui.case_export import case_row

    report = turn.cases
    assert report is not None
    rows = []
    for i, card in enumerate(report.cases):
        place, organisation, _, _, date, source = case_row(card)
        rows.append({"place": place, "organisation": organisation, "date": date, "source": source,
                     "province": province_of(card.regions[0]) if card.regions else NO_REGION,
                     "measures": [q.quote for q in card.measures], "results": [q.quote for q in card.results],
                     "summary": card.summary or "",
                     "window": turn.case_windows.get(i, "")})
    return _macros().cases({"uid": turn.uid, "header": report.header(), "by_region": report.by_region,
                            "rows": rows})


def _timing(answer: Answer) -> str:
    ms = answer.timings_ms
    return f"{answer.llm}；原文 {ms.get('evidence', 0) / 1000:.1f} 秒，共 {ms.get('total', 0) / 1000:.1f} 秒"


def conversation_html(turns: Sequence[ChatTurn]) -> str:
    return str(_macros().conversation([turn_html(t) for t in turns]))


def fill_case_windows(turn: ChatTurn, text_of: Callable[[str], str | None]) -> None:
    """Prepare each case row's source viewer: the article around its first quote."""
    for i, card in enumerate(turn.cases.cases if turn.cases is not None else ()):
        first = (*card.measures, *card.results)[:1]
        text = text_of(card.source)
        if first and text is not None and text[first[0].start:first[0].end] == first[0].quote:
            turn.case_windows[i] = source_window(text, first[0].start, first[0].end)


def fill_windows(turn: ChatTurn, document_of: Callable[[str], Document | None]) -> None:
    """Prepare the source viewer of each evidence item from the stored article: a paged one shows the quote's page."""
    answer = turn.answer
    for c in answer.evidence if answer is not None else turn.evidence:
        doc = document_of(c.source)
        if doc is not None and doc.text[c.start:c.end] == c.quote:
            bounds = doc.page_span(c.page) if c.page is not None else None
            turn.windows[c.n] = source_window(doc.text, c.start, c.end, bounds=bounds)
