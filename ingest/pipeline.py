"""Ingest files and folders into a knowledge base: load → clean → metadata → chunk → embed → store.

Files are skipped when their content hash and embedding model match the
manifest (re-ingesting unchanged files writes nothing), so an interrupted
ingest resumes where it stopped. Chunks of several files are embedded
together (``RAG_INGEST_BATCH_CHUNKS``), the batch's vectors go to Chroma in one
write, then each file's manifest row is committed on its own: an interruption
loses at most the batch in flight. Time per stage (prepare, embed, chroma,
manifest, bm25) comes back in the report. A bad file becomes a
failed outcome with a Chinese reason and the rest of the batch goes on.
``sync=True`` makes the base mirror the given folders (removes documents whose
files are gone from them).

Deliberately not here: the stores themselves (``rag.knowledge``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ingest.chunking import chunk_text
from ingest.clean import clean_text, to_clean_offset
from ingest.loaders import parse_bytes, read_checked
from ingest.metadata import extract_metadata
from ingest.ocr import OcrOptions
from ingest.official import read_official
from ingest.paged import Progress
from rag.config import Settings
from rag.errors import IngestError, RagError
from rag.files import LEGACY_SUFFIXES, SUPPORTED_SUFFIXES, check_file
from rag.knowledge import KnowledgeBase
from rag.timing import Timer
from rag.types import Chunk, Document, FileOutcome, IngestReport


@dataclass(frozen=True)
class _Layout:
    """How to chunk a document: only its body, each block (a Word table) whole where it fits."""

    body: tuple[int, int]
    blocks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class _Prepared:
    doc: Document
    chunks: list[Chunk]
    status: Literal["added", "updated"]


PageProgress = Callable[[str, int, int], None]  # (source, pages done, pages to recognise)


def _legacy_reason(path: Path, root: Path) -> str:
    try:
        check_file(path, path.relative_to(root).as_posix(), 1 << 62)
    except IngestError as err:
        return str(err)
    return ""


def discover(paths: Sequence[Path]) -> tuple[list[tuple[Path, str]], list[FileOutcome]]:
    """(file, source name) pairs under ``paths``; names are relative to a given folder.

    Folders are walked recursively without following symlinks (no loops);
    hidden files and unsupported types inside folders are skipped. A path that
    does not exist becomes a failed outcome.
    """
    found: list[tuple[Path, str]] = []
    failed: list[FileOutcome] = []
    for given in paths:
        if given.is_dir():
            root = given.resolve()
            for folder, dirs, files in os.walk(root, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    path = Path(folder) / name
                    if name.startswith("."):
                        continue
                    if path.suffix.lower() in LEGACY_SUFFIXES:  # said, not skipped: the user must re-save it
                        failed.append(FileOutcome(path.relative_to(root).as_posix(), "failed",
                                                  error=_legacy_reason(path, root)))
                        continue
                    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                        continue
                    if path.is_symlink() and not path.exists():
                        failed.append(FileOutcome(name, "failed",
                                                  error=f"{name}：符号链接无效（目标不存在或链接成环）"))
                        continue
                    found.append((path, path.relative_to(root).as_posix()))
        elif given.exists():
            found.append((given.resolve(), given.name))
        else:
            failed.append(FileOutcome(str(given), "failed", error=f"{given}：文件或目录不存在"))
    return found, failed


def _prepare(kb: KnowledgeBase, path: Path, source: str, pending: dict[str, str],
             progress: PageProgress | None = None) -> _Prepared | FileOutcome:
    """Read, clean and chunk one file; any failure becomes that file's outcome alone.

    ``pending`` maps the sha256 of files prepared earlier in this run to their names, so the
    same article under a second name is refused whether or not the first is stored yet.
    """
    try:
        return _prepare_checked(kb, path, source, pending, progress)
    except Exception as err:  # a parser bug in one file must not stop the batch
        return FileOutcome(source, "failed", error=f"{source}：无法解析（{type(err).__name__}：{err}）")


def _prepare_checked(kb: KnowledgeBase, path: Path, source: str, pending: dict[str, str],
                     progress: PageProgress | None) -> _Prepared | FileOutcome:
    settings = kb.settings
    try:
        data = read_checked(path, source, int(settings.max_file_mb * 1048576))
        sha = hashlib.sha256(data).hexdigest()
        if kb.is_unchanged(source, sha):
            return FileOutcome(source, "unchanged", chunks=len(kb.chunk_ids(source)))
        twin = pending.get(sha) or _stored_twin(kb, sha, source)
        if twin:
            return FileOutcome(source, "failed", error=_duplicate(source, twin))
        pages = (lambda done, total: progress(source, done, total)) if progress is not None else None
        doc, layout = read_document(data, path, source, sha, ocr_options(settings), pages)
    except IngestError as err:
        return FileOutcome(source, "failed", error=str(err))
    chunks = chunk_text(doc.text, source, budget=settings.chunk_tokens,
                        overlap_sentences=settings.chunk_overlap_sentences,
                        title=doc.title, regions=doc.regions, page_starts=doc.page_starts,
                        body=layout.body, keep_together=layout.blocks)
    status: Literal["added", "updated"] = "updated" if kb.is_stored(source) else "added"
    return _Prepared(doc, chunks, status)


def document_of(data: bytes, path: Path, source: str, sha: str = "") -> Document:
    """A file's bytes as a cleaned ``Document`` with its metadata (no chunks, no vectors); ``IngestError`` if empty.

    What ingest stores for a file; also for reading articles without a knowledge base (benchmarks, tests).
    """
    return read_document(data, path, source, sha)[0]


def ocr_options(settings: Settings) -> OcrOptions:
    return OcrOptions(max_pages=settings.ocr_max_pages, max_pixels=settings.ocr_max_pixels, dpi=settings.ocr_dpi)


def read_document(data: bytes, path: Path, source: str, sha: str = "", ocr: OcrOptions | None = None,
                  progress: Progress | None = None) -> tuple[Document, _Layout]:
    """``document_of`` with how to chunk it; ``progress(done, total)`` follows OCR page by page."""
    loaded = parse_bytes(data, path.suffix, source, ocr, progress)
    cleaned = clean_text(loaded.text)
    if not cleaned.text.strip():
        raise IngestError(source, "清理后没有正文")
    text, runs = cleaned.text, cleaned.offset_runs

    def at(offset: int) -> int:
        return to_clean_offset(runs, offset, len(text))

    page_starts = tuple(sorted({at(p) for p in loaded.page_starts} | ({0} if loaded.page_starts else set())))
    blocks = tuple((at(s), at(e)) for s, e in loaded.blocks)
    meta = extract_metadata(text, Path(source).stem)
    official = read_official(text)
    header = official.header if official else None
    doc = Document(
        source=source, path=str(path), sha256=sha or hashlib.sha256(data).hexdigest(),
        text=text, title=(header.title if header and header.title else meta.title), regions=meta.regions,
        outlet=meta.outlet, reporters=meta.byline, date=(header.issued if header and header.issued else meta.date),
        encoding=loaded.encoding, offset_runs=runs, kind="公文" if official else "文章", official=header,
        page_starts=page_starts, ocr_confidence=loaded.ocr_confidence,
    )
    return doc, _Layout(official.body if official else (0, len(text)), blocks)


def _stored_twin(kb: KnowledgeBase, sha: str, source: str) -> str | None:
    """A stored document with this content whose file is still there (a renamed or moved file is no copy)."""
    return next((twin for twin, path in kb.stored_copies(sha, source) if Path(path).exists()), None)


def _duplicate(source: str, twin: str) -> str:
    return f"{source}：内容与已导入的 {twin} 完全相同，未重复导入（如需以新名称导入，请先删除 {twin}）"


def _flush(kb: KnowledgeBase, batch: list[_Prepared], report: Callable[[FileOutcome], None],
           timer: Timer) -> list[FileOutcome]:
    """Embed a batch's chunks together, store them in one ``put_many``, then report each file."""
    if not batch:
        return []
    all_chunks = [c for p in batch for c in p.chunks]
    vectors = kb.embed_chunks(all_chunks, timer)
    items, offset = [], 0
    for prepared in batch:
        n = len(prepared.chunks)
        items.append((prepared.doc, prepared.chunks, vectors[offset:offset + n]))
        offset += n
    kb.put_many(items, timer)
    outcomes = [FileOutcome(p.doc.source, p.status, chunks=len(p.chunks)) for p in batch]
    for outcome in outcomes:
        report(outcome)
    return outcomes


def ingest_paths(
    kb: KnowledgeBase,
    paths: Sequence[Path],
    *,
    sync: bool = False,
    on_file: Callable[[FileOutcome], None] | None = None,
    on_page: PageProgress | None = None,
) -> IngestReport:
    """Ingest ``paths`` (files or folders) into ``kb``; see the module docstring.

    ``on_page(source, done, total)`` follows OCR of scanned pages, page by page.
    """
    timer = Timer()
    report = on_file or (lambda outcome: None)
    files, outcomes = discover(paths)
    for outcome in outcomes:
        report(outcome)
    if sync and not all(p.is_dir() for p in paths):
        raise RagError("--sync 只能用于目录")
    with kb.write_lock():
        kb.check(repair=True)
        batch: list[_Prepared] = []
        batch_chunks = 0
        pending: dict[str, str] = {}  # sha256 → name of files prepared in this run
        for path, source in files:
            with timer.stage("prepare"):
                prepared = _prepare(kb, path, source, pending, on_page)
            if isinstance(prepared, FileOutcome):
                outcomes.append(prepared)
                report(prepared)
                continue
            pending[prepared.doc.sha256] = source
            batch.append(prepared)
            batch_chunks += len(prepared.chunks)
            if batch_chunks >= kb.settings.ingest_batch_chunks:
                outcomes.extend(_flush(kb, batch, report, timer))
                batch, batch_chunks = [], 0
        outcomes.extend(_flush(kb, batch, report, timer))
        if sync:
            outcomes.extend(_sync_removals(kb, paths, {s for _, s in files}, report))
        with timer.stage("bm25"):
            kb.refresh_keyword_index()  # built now, so the first question does not pay for it
    return IngestReport(tuple(outcomes), timer.elapsed(), timer.seconds())


def _sync_removals(kb: KnowledgeBase, folders: Iterable[Path], present: set[str],
                   report: Callable[[FileOutcome], None]) -> list[FileOutcome]:
    roots = [str(p.resolve()) + os.sep for p in folders]
    removed = []
    for info in kb.sources():
        if info.source not in present and any(info.path.startswith(r) for r in roots):
            kb.remove(info.source)
            outcome = FileOutcome(info.source, "removed", chunks=info.chunks)
            removed.append(outcome)
            report(outcome)
    return removed
