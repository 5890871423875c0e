"""The Gradio app: chat with streamed, cited answers; source viewer; filters; knowledge-base tab.

The chat calls ``rag.chain.ask_stream``, the same function as ``rag ask``:
evidence is rendered the moment it arrives, tokens stream in after it, and the
final, citation-checked ``Answer`` replaces the streamed text. Uploads are
ingested by the function the caller injects (the CLI passes
``ingest.pipeline.ingest_paths``), so this package never imports ``ingest``.

Deliberately not here: HTML building (``ui.render``), launching, auth and
warm-up (``ui.serve``).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.cases import find_cases
from rag.chain import ask_stream
from rag.errors import RagError
from rag.knowledge import KnowledgeBase
from rag.retrieval import is_cross_case
from rag.types import FileOutcome, IngestReport, SourceInfo, Turn
from ui.case_export import export_cases
from ui.examples import example_questions
from ui.export import export_files
from ui.feedback import append_feedback
from ui.render import ChatTurn, conversation_html, fill_case_windows, fill_windows
from ui.uploads import check_upload, place_upload, remove_document  # noqa: F401  (check_upload: part of this module's API)

IngestFn = Callable[..., IngestReport]  # (kb, paths, on_file=callback) -> IngestReport
ALL_REGIONS = "全部地区"
_STREAM_EVERY_S = 0.12  # re-render the chat at most this often while tokens arrive
_STATUS = {"added": "新增", "updated": "已更新", "unchanged": "未变化", "failed": "失败", "removed": "已移除"}


def configured_endpoint(settings: Any) -> str:
    """The OpenAI-compatible model offered besides the local one: RAG_OPENAI_MODEL, else RAG_LLM's; '' if none."""
    return settings.openai_model or (settings.llm[7:] if settings.llm.startswith("openai:") else "")


def answer_modes(settings: Any) -> list[tuple[str, str]]:
    """(label, llm spec) for the answer-mode switch; the endpoint only when one is configured."""
    local = settings.llm if settings.llm.startswith("local") else "local"
    modes = [(f"本地模型（{settings.local_model}）", local)]
    endpoint = configured_endpoint(settings)
    if endpoint:
        modes.append((f"已配置的接口（{endpoint}）", f"openai:{endpoint}"))
    modes.append(("仅原文摘录（不调用模型）", "none"))
    return modes


def history_of(turns: Sequence[ChatTurn]) -> list[Turn]:
    """The conversation as the rewrite sees it: each turn's standalone question, and its answer unless refused.

    A refusal says nothing about the subject (its related material may be about another
    one), so it is passed without text; a follow-up is passed as the question it stood for.
    """
    return [Turn(t.answer.standalone_question or t.question, "" if t.answer.refused else t.answer.text)
            for t in turns if t.answer is not None]


def lesson_modes(settings: Any) -> list[tuple[str, str]]:
    """(label, llm spec) for how a lesson's points and questions are written: quotes first, then the models."""
    return [("直接用原文（最快）", "none")] + [(f"由{label}归纳并核对出处", spec)
                                          for label, spec in answer_modes(settings) if spec != "none"]


def mode_note(mode: str) -> str:
    if mode.startswith("local"):
        return ("本地模型在 2 核 CPU 上运行：原文摘录约 0.1 秒内出现，回答的第一个字通常 4–11 秒后出现，"
                "完整回答约 20–40 秒；多人同时提问时依次生成。")
    if mode.startswith("openai"):
        return "已配置的接口：原文摘录约 0.1 秒内出现，回答速度取决于接口，通常几秒内开始输出。"
    return "仅原文摘录：不调用模型，约 0.1 秒给出按文章和地区整理的原文摘录，每句都有出处。"


def region_choices(infos: Sequence[SourceInfo]) -> list[str]:
    counts = Counter(r for s in infos for r in s.regions)
    return [ALL_REGIONS] + [r for r, _ in counts.most_common()]


def source_choices(infos: Sequence[SourceInfo]) -> list[tuple[str, str]]:
    return [(f"{s.title}（{s.source}）", s.source) for s in infos]


def documents_rows(infos: Sequence[SourceInfo]) -> list[list[Any]]:
    return [[s.source, f"{s.title}（{s.label}）" if s.label else s.title, "、".join(s.regions), s.chunks,
             s.ingested_at[:19]] for s in infos]


def _page(turns: list[ChatTurn], answer: tuple[str, str] | None = None) -> tuple[Any, ...]:
    import gradio as gr

    answer_files = answer or (gr.skip(), gr.skip())
    # the newest turn's case files go out with every update (an early update's downloads can be overtaken)
    case_files = turns[-1].case_files if turns and turns[-1].case_files else (gr.skip(),) * 3
    return (conversation_html(turns), turns, "", *answer_files, *case_files)


class ChatApp:
    """Handlers bound to one knowledge base; ``build`` lays them out as a Gradio Blocks."""

    def __init__(self, kb: KnowledgeBase, ingest_files: IngestFn, export_dir: Path) -> None:
        self.kb = kb
        self.settings = kb.settings
        self.ingest_files = ingest_files
        self.export_dir = export_dir
        self.upload_dir = kb.settings.data_dir / "uploads"
        self.feedback_path = kb.settings.data_dir / "feedback.jsonl"

    # -- chat -------------------------------------------------------------------
    # Each update is (page, turns, question box, answer .md, answer .docx, cases .docx, cases .xlsx, cases .md);
    # the download slots are skipped until there is something new for them.
    def ask(self, question: str, turns: list[ChatTurn], mode: str, region: str,
            sources: list[str] | None) -> Iterator[tuple[Any, ...]]:
        question = (question or "").strip()
        if not question:
            yield _page(turns)
            return
        history = history_of(turns)
        turn = ChatTurn(uid=f"t{uuid.uuid4().hex[:10]}", question=question, status="正在检索…")
        turns = [*turns, turn]
        yield _page(turns)
        try:
            region_name = None if region in (None, "", ALL_REGIONS) else region
            if is_cross_case(question) and not sources:
                yield from self._cases(turn, turns, region_name)
            yield from self._stream(turn, turns, mode, history, region_name, sources)
            if turn.cases is not None and mode != "none":
                yield from self._case_summaries(turn, turns, mode)
        except Exception as exc:  # shown in the chat; the app keeps serving
            turn.status = f"出错了：{exc}" if isinstance(exc, RagError) else f"出错了（{type(exc).__name__}）：{exc}"
            yield _page(turns)

    def _cases(self, turn: ChatTurn, turns: list[ChatTurn], region: str | None) -> Iterator[tuple[Any, ...]]:
        """The case table of a cross-place question, shown before the answer is written."""
        report = find_cases(self.kb, turn.question, region=region)
        if not report.cases:
            return
        turn.cases = report
        fill_case_windows(turn, self.kb.text_lookup())
        turn.case_files = tuple(str(f) for f in export_cases(report, self.export_dir / turn.uid))
        yield _page(turns)

    def _case_summaries(self, turn: ChatTurn, turns: list[ChatTurn], mode: str) -> Iterator[tuple[Any, ...]]:
        """After the answer: each case's one-line summary from its own quotes, filled in as it is written."""
        from rag.case_summaries import with_summaries

        model, label = self.case_model(mode)
        report = turn.cases
        if model is None or report is None:
            return
        turn.status = "正在为各案例写概括…"
        cards = list(report.cases)
        for i, card in with_summaries(self.kb, report, model, label):
            cards[i] = card
            turn.cases = replace(report, cases=tuple(cards))
            yield _page(turns)
        turn.status = ""
        turn.case_files = tuple(str(f) for f in export_cases(turn.cases, self.export_dir / turn.uid))
        yield _page(turns)

    def case_model(self, mode: str) -> tuple[Any, str]:
        """(chat model, label) for case summaries in this answer mode; (None, "") when unavailable."""
        from rag.llm import make_chat_model, parse_llm

        try:
            choice = parse_llm(mode, self.settings)
            return make_chat_model(choice, self.settings), choice.label
        except Exception:  # no summaries; the table and the answer stand
            return None, ""

    def _stream(self, turn: ChatTurn, turns: list[ChatTurn], mode: str, history: list[Turn], region: str | None,
                sources: list[str] | None) -> Iterator[tuple[Any, ...]]:
        last, document_of = 0.0, self.kb.document_lookup()
        for event in ask_stream(self.kb, turn.question, llm=mode, history=history, region=region,
                                sources=sources or None):
            if event.kind == "evidence":
                turn.evidence, turn.status = event.evidence, "正在生成回答…" if mode != "none" else ""
                fill_windows(turn, document_of)
                if mode == "none":
                    continue  # the answer follows within milliseconds: send the page once, not twice
            elif event.kind == "waiting":
                turn.status = "模型正忙，已排队等待…"
            elif event.kind == "token":
                turn.partial, turn.status = turn.partial + event.token, ""
                if time.monotonic() - last < _STREAM_EVERY_S:
                    continue
            elif event.answer is not None:
                turn.answer, turn.status = event.answer, ""
                fill_windows(turn, document_of)
                md, docx = export_files(event.answer, self.export_dir / turn.uid)
                yield _page(turns, answer=(str(md), str(docx)))
                return
            last = time.monotonic()
            yield _page(turns)

    # -- 备课 -------------------------------------------------------------------
    def lesson(self, topic: str, cases: float, region: str, llm: str = "none") -> tuple[Any, ...]:
        """(preview Markdown, .docx, .pptx, .md) of the lesson pack for ``topic``, or a Chinese reason."""
        from rag.lesson import build_lesson, check_lesson
        from rag.lesson_phrasing import phrased
        from ui.lesson_export import export_lesson, to_markdown

        topic = (topic or "").strip()
        if not topic:
            return "请先输入主题，例如：楼宇党建、党建指导员。", None, None, None
        try:
            report = find_cases(self.kb, topic, region=None if region in (None, "", ALL_REGIONS) else region)
        except RagError as err:
            return f"出错了：{err}", None, None, None
        if not report.cases:
            return f"{report.header()}无法生成备课包。", None, None, None
        pack = phrased(self.kb, build_lesson(report, int(cases)), llm or "none")
        problems = check_lesson(pack, self.kb.text_lookup())
        if problems:  # never expected: every part is built from checked quotes
            return "备课包核对未通过：" + "；".join(problems), None, None, None
        files = export_lesson(pack, self.export_dir / f"lesson-{uuid.uuid4().hex[:8]}")
        return to_markdown(pack), files["docx"], files["pptx"], files["md"]

    def vote(self, turns: list[ChatTurn], evt: Any) -> tuple[str, list[ChatTurn]]:
        # the payload of the page script's trigger("like", {turn, vote}): Gradio keeps a custom event's data there
        data = getattr(evt, "_data", None) or {}
        for turn in turns:
            if turn.uid == data.get("turn") and turn.answer is not None and not turn.vote:
                append_feedback(self.feedback_path, turn.answer, str(data.get("vote")))
                turn.vote = str(data.get("vote"))
        return conversation_html(turns), turns

    # -- knowledge base ---------------------------------------------------------
    def upload(self, files: list[str] | None, replace_same_name: bool = False,
               progress: Any = None) -> tuple[Any, ...]:
        paths = [Path(f) for f in files or []]
        rows: list[list[Any]] = []
        accepted: list[Path] = []
        for path in paths:
            target, reason = place_upload(self.kb, self.upload_dir, path, replace=replace_same_name)
            if target is None:
                rows.append([path.name, "失败", 0, reason])
                continue
            accepted.append(target)
        if accepted:
            done: list[FileOutcome] = []

            def on_file(outcome: FileOutcome) -> None:
                done.append(outcome)
                if progress is not None:
                    progress(len(done) / len(accepted), desc=f"已处理 {len(done)}/{len(accepted)}：{outcome.source}")

            def on_page(source: str, page: int, pages: int) -> None:
                if progress is not None:
                    progress((len(done) + page / pages) / len(accepted),
                             desc=f"{source}：文字识别 第 {page}/{pages} 页")

            report = self.ingest_files(self.kb, accepted, on_file=on_file, on_page=on_page)
            rows += [[o.source, _STATUS.get(o.status, o.status), o.chunks, o.error] for o in report.outcomes]
            for o in report.failed:
                (self.upload_dir / Path(o.source).name).unlink(missing_ok=True)
        message = "请先选择文件。" if not paths else f"处理了 {len(paths)} 个文件。"
        return (message, rows, *self.refreshed())

    def delete(self, source: str | None) -> tuple[Any, ...]:
        if not source:
            return ("请先选择要删除的文档。", *self.refreshed())
        removed = remove_document(self.kb, self.upload_dir, source)
        message = f"已删除：{source}" if removed else f"知识库中没有：{source}"
        return (message, *self.refreshed())

    def refreshed(self) -> tuple[Any, ...]:
        """Updates for the document table and every picker after the knowledge base changed."""
        import gradio as gr

        infos = self.kb.sources()
        sources = source_choices(infos)
        return (documents_rows(infos), gr.update(choices=region_choices(infos)),
                gr.update(choices=sources), gr.update(choices=sources, value=None))

    def examples(self) -> list[str]:
        infos = self.kb.sources()
        texts = (d.text for d in (self.kb.document(s.source) for s in infos) if d is not None)
        return example_questions(texts, region_choices(infos)[1:])
