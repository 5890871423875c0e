"""Evaluation datasets: the project's gold JSONL and the shared ``docs/`` + ``qa.dev.jsonl`` folders.

A dataset is either

* a **file**: JSON lines with ragas-style fields (``user_input``, ``reference``,
  ``reference_contexts``, ``sources``, plus ``answerable``, ``kind``,
  ``key_points``, and ``part_sources`` for a question whose parts stand in
  different documents: per part, the documents any one of which holds it),
  answered from the current knowledge base (or the bundled sample articles); or
* a **folder** with ``docs/`` and ``qa.dev.jsonl`` (fields ``question``,
  ``answer``, ``answer_aliases``, ``source_doc_ids``, RGB's ``answer_spec``),
  plus any other ``*.jsonl`` of rejection items (``answerable: false``). The
  documents become a temporary knowledge base.

A file may also be a chat's ``feedback.jsonl`` (lines are ``Answer.to_json()``
plus ``vote``): each 👍 answer becomes a reference answer for its standalone
question, with the sources it cited as gold sources and the figures it gave as
key points; a 👍 refusal becomes an unanswerable item; 👎 lines are skipped.

A malformed line raises ``DatasetError`` naming the file, the line number and
what is wrong. Deliberately not here: running or scoring.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.files import SUPPORTED_SUFFIXES

Spec = tuple[tuple[str, ...], ...]  # every element must appear; any alternative of an element suffices


GOLD_SET = Path(__file__).resolve().parent / "gold" / "sample_gold.jsonl"  # the gold set over the sample articles
_MARKS = re.compile(r"\[\d{1,2}\]")
_FIGURE = re.compile(r"\d+(?:\.\d+)?(?:余|多)?(?:%|个|名|家|人|项|次|场|户|所|条|支|万|亿|元)")


class DatasetError(RagError):
    """A dataset that cannot be read, with file and line."""


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    references: tuple[str, ...] = ()  # reference answer and its aliases (any one counts)
    spec: Spec = ()  # RGB's answer_spec, when given
    sources: tuple[str, ...] = ()  # source document ids (file stems)
    answerable: bool = True
    kind: str = ""
    key_points: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    part_sources: tuple[tuple[str, ...], ...] = ()  # per needed part, the documents any one of which holds it

    @property
    def needed_sources(self) -> tuple[tuple[str, ...], ...]:
        """Per needed part, its documents: ``part_sources``, or for a multi-part item (kind ``multi…``
        with several sources) each source on its own; empty when one document answers the item."""
        if self.part_sources:
            return self.part_sources
        return tuple((s,) for s in self.sources) if self.kind.startswith("multi") and len(self.sources) > 1 else ()


@dataclass(frozen=True)
class Dataset:
    name: str
    path: Path
    items: tuple[EvalItem, ...]
    docs_dir: Path | None = None  # documents to build a temporary knowledge base from
    kinds: tuple[str, ...] = field(default=())

    def limited(self, n: int | None) -> Dataset:
        return self if not n else replace(self, items=self.items[:n])

    def every_answerable(self, n: int | None) -> Dataset:
        """Every ``n``-th answerable item from the first (the CI gate's fixed subset of the gold set)."""
        if not n:
            return self
        return replace(self, items=tuple(i for i in self.items if i.answerable)[::n])


def source_id(name: str) -> str:
    """A document's id as datasets name it: the file name without a document suffix."""
    return Path(name).stem if Path(name).suffix.lower() in SUPPORTED_SUFFIXES else name


def _strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v for v in value if v)
    raise DatasetError(f"{where}：字段 {name} 应为字符串或字符串列表")


def _spec(value: Any, where: str) -> Spec:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DatasetError(f"{where}：字段 answer_spec 应为列表")
    out = []
    for element in value:
        alternatives = _strings(element, where, "answer_spec")
        if alternatives:
            out.append(alternatives)
    return tuple(out)


def parse_item(row: Any, where: str) -> EvalItem:
    """One dataset line (either format) as an ``EvalItem``."""
    if not isinstance(row, dict):
        raise DatasetError(f"{where}：每行应为一个 JSON 对象")
    question = row.get("user_input", row.get("question"))
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(f"{where}：缺少问题（user_input 或 question）")
    answerable = row.get("answerable", True)
    if not isinstance(answerable, bool):
        raise DatasetError(f"{where}：字段 answerable 应为 true 或 false")
    references = _strings(row.get("reference", row.get("answer")), where, "answer")
    references += tuple(a for a in _strings(row.get("answer_aliases"), where, "answer_aliases") if a not in references)
    if answerable and not references:
        raise DatasetError(f"{where}：可回答的问题缺少参考答案（reference 或 answer）")
    sources = _strings(row.get("sources", row.get("source_doc_ids")), where, "sources")
    part_sources = row.get("part_sources") or []
    if not isinstance(part_sources, list):
        raise DatasetError(f"{where}：字段 part_sources 应为列表（每个部分一组文档）")
    parts = tuple(tuple(source_id(s) for s in _strings(group, where, "part_sources")) for group in part_sources)
    return EvalItem(
        id=str(row.get("id") or where), question=question.strip(), references=references,
        spec=_spec(row.get("answer_spec"), where), sources=tuple(source_id(s) for s in sources),
        answerable=answerable, kind=str(row.get("kind") or ("answerable" if answerable else "unanswerable")),
        key_points=_strings(row.get("key_points"), where, "key_points"),
        contexts=_strings(row.get("reference_contexts"), where, "reference_contexts"),
        part_sources=tuple(group for group in parts if group),
    )


def feedback_item(row: dict[str, Any], where: str) -> EvalItem | None:
    """A feedback line (``Answer.to_json()`` + ``vote``) as a reference item; None unless voted 👍."""
    if row.get("vote") != "up":
        return None
    question = row.get("standalone_question") or row.get("question")
    answer = row.get("answer")
    if not isinstance(question, str) or not question.strip() or not isinstance(answer, str):
        raise DatasetError(f"{where}：反馈记录缺少 question 或 answer")
    citations = row.get("citations") or []
    if not isinstance(citations, list) or not all(isinstance(c, dict) and "source" in c for c in citations):
        raise DatasetError(f"{where}：反馈记录的 citations 应为引用列表")
    sources = tuple(dict.fromkeys(source_id(str(c["source"])) for c in citations))
    key = f"{row.get('time', '')}|{question}".encode()
    item_id = f"feedback-{hashlib.sha256(key).hexdigest()[:10]}"
    if row.get("refused"):
        return EvalItem(id=item_id, question=question.strip(), answerable=False, kind="feedback-refused")
    reference = _MARKS.sub("", answer).strip()
    figures = tuple(dict.fromkeys(_FIGURE.findall(reference)))
    return EvalItem(id=item_id, question=question.strip(), references=(reference,), sources=sources,
                    kind="feedback", key_points=figures)


def read_jsonl(path: Path) -> list[EvalItem]:
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}：无法读取（{exc}）") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} 第 {number} 行"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}：不是合法的 JSON（{exc.msg}，第 {exc.colno} 列）") from exc
        if isinstance(row, dict) and "vote" in row:
            item = feedback_item(row, where)
            if item is not None:
                items.append(item)
            continue
        items.append(parse_item(row, where))
    return items


def load_dataset(path: Path, docs: Path | None = None) -> Dataset:
    """A dataset file or folder (see the module docstring); ``docs`` gives a question file its documents
    (e.g. ``eval/gold/rgb_multi_doc.jsonl`` over the shared ``rgb_zh/docs``)."""
    if docs is not None and not docs.is_dir():
        raise DatasetError(f"{docs}：文档目录不存在")
    if path.is_file():
        items = read_jsonl(path)
        name, docs_dir = path.stem, docs
    elif path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not (path / "docs").is_dir() or not files:
            raise DatasetError(f"{path}：数据集目录应包含 docs/ 文件夹和 *.jsonl 问题文件")
        items = [i for f in files for i in read_jsonl(f)]
        name, docs_dir = path.name, path / "docs"
    else:
        raise DatasetError(f"{path}：数据集不存在")
    if not items:
        raise DatasetError(f"{path}：没有问题")
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DatasetError(f"{path}：问题 id 重复：{dup}")
    kinds = tuple(dict.fromkeys(i.kind for i in items))
    return Dataset(name, path, tuple(items), docs_dir, kinds)
