"""HTML for the chat: questions, streamed answers with clickable [n] marks, evidence, source viewer.

Every piece of text that comes from a user or a document (questions, answers,
quotes, titles, file names, article text) goes through ``html.escape`` before
it is placed in markup, so a document containing ``<script>`` or
``<img onerror=…>`` shows as text. The only markup is built here from fixed
strings. Citation marks become ``<a class="cite" data-target=…>`` links; the
small script in ``CHAT_JS`` (run by the chat component) opens the cited
passage's source viewer and scrolls to the highlighted span.

Deliberately not here: Gradio (``ui.app``), answering (``rag.chain``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rag.compose import regions_text
from rag.types import Answer, Citation

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


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def source_window(text: str, start: int, end: int, width: int = SOURCE_WINDOW_CHARS) -> str:
    """The article around ``text[start:end]`` with that span highlighted (escaped HTML)."""
    lo, hi = max(0, start - width), min(len(text), end + width)
    before = ("…" if lo > 0 else "") + text[lo:start]
    after = text[end:hi] + ("…" if hi < len(text) else "")
    return f'{esc(before)}<mark class="span">{esc(text[start:end])}</mark>{esc(after)}'


def answer_html(text: str, uid: str, known: Sequence[int]) -> str:
    """Escaped answer text with each known ``[n]`` turned into a link to evidence item n."""
    out, pos = [], 0
    for m in _MARK.finditer(text):
        n = int(m.group(1))
        if n not in known:
            continue
        out.append(esc(text[pos:m.start()]))
        out.append(f'<a class="cite" href="#" data-target="{uid}-e{n}" title="查看出处 [{n}]">[{n}]</a>')
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def evidence_item(uid: str, c: Citation, window: str) -> str:
    viewer = (f'<details class="viewer"><summary>查看原文（第 {c.start}–{c.end} 字）</summary>'
              f'<div class="article">{window}</div></details>') if window else ""
    return (f'<div class="ev" id="{uid}-e{c.n}"><div class="meta"><b>[{c.n}]</b> {esc(c.source)}'
            f' 《{esc(c.title)}》 {esc(regions_text(c))}</div><blockquote>{esc(c.quote)}</blockquote>{viewer}</div>')


def turn_html(turn: ChatTurn) -> str:
    uid, parts = turn.uid, [f'<div class="turn" id="{turn.uid}"><div class="q">问：{esc(turn.question)}</div>']
    answer = turn.answer
    if answer is not None and answer.notice:
        parts.append(f'<div class="notice">{esc(answer.notice)}</div>')
    if turn.status:
        parts.append(f'<div class="status">{esc(turn.status)}</div>')
    evidence = answer.evidence if answer is not None else turn.evidence
    known = [c.n for c in evidence]
    text = answer.text if answer is not None else turn.partial
    if text:
        refused = " refused" if answer is not None and answer.refused else ""
        parts.append(f'<div class="answer{refused}">{answer_html(text, uid, known)}</div>')
    if evidence:
        title = "相关资料（仅供参考）" if answer is not None and answer.refused else "原文摘录"
        parts.append(f'<div class="ev-title">{title}</div>')
        parts.extend(evidence_item(uid, c, turn.windows.get(c.n, "")) for c in evidence)
    if answer is not None:
        parts.append(_footer(turn, answer))
    parts.append("</div>")
    return "".join(parts)


def _footer(turn: ChatTurn, answer: Answer) -> str:
    ms = answer.timings_ms
    timing = f"{esc(answer.llm)}；原文 {ms.get('evidence', 0) / 1000:.1f} 秒，共 {ms.get('total', 0) / 1000:.1f} 秒"
    if turn.vote:
        votes = f"已记录反馈：{'👍' if turn.vote == 'up' else '👎'}"
    else:
        votes = "".join(f'<button class="vote" data-turn="{turn.uid}" data-vote="{v}">{label}</button>'
                        for v, label in (("up", "👍 有帮助"), ("down", "👎 没帮助")))
    return f'<div class="foot">{votes} <span>{timing}</span></div>'


def conversation_html(turns: Sequence[ChatTurn]) -> str:
    if not turns:
        return '<div class="chat"><div class="empty">请在下方输入问题，或点击示例问题。</div></div>'
    return '<div class="chat">' + "".join(turn_html(t) for t in turns) + "</div>"


def fill_windows(turn: ChatTurn, text_of: Callable[[str], str | None]) -> None:
    """Prepare the source viewer of each evidence item from the stored article text."""
    answer = turn.answer
    for c in answer.evidence if answer is not None else turn.evidence:
        text = text_of(c.source)
        if text is not None and text[c.start:c.end] == c.quote:
            turn.windows[c.n] = source_window(text, c.start, c.end)
