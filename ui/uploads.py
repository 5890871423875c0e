"""Where an uploaded file goes before it is ingested, and when its name may not be reused.

An upload is checked as ``rag ingest`` checks a file (type, size, readable; the same
Chinese reason), then copied to ``<data>/uploads/<name>``. A name already taken by a
*different* document (another upload's file, or a stored document of that name
with other content) is refused with a reason unless the caller asks to replace it;
the same content again is fine (the ingest skips it as unchanged).

Deliberately not here: ingesting (the caller's ``IngestFn``); the HTTP and Gradio layers.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from rag.errors import IngestError
from rag.files import check_file
from rag.knowledge import KnowledgeBase


def check_upload(path: Path, max_mb: float) -> str:
    """'' when the file may be ingested, else the Chinese reason ``rag ingest`` would give, naming it."""
    try:
        check_file(path, path.name, int(max_mb * 1024 * 1024))
    except IngestError as err:
        return str(err)
    return ""


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def name_taken(kb: KnowledgeBase, upload_dir: Path, name: str, digest: str) -> bool:
    """Whether ``name`` already belongs to a document with other content."""
    target = upload_dir / name
    if target.is_file() and _digest(target) != digest:
        return True
    stored = kb.document(name)
    return stored is not None and stored.sha256 != digest


def place_upload(kb: KnowledgeBase, upload_dir: Path, path: Path, *, replace: bool = False) -> tuple[Path | None, str]:
    """(the copy to ingest, '') or (None, the Chinese reason it was refused)."""
    reason = check_upload(path, kb.settings.max_file_mb)
    if reason:
        return None, reason
    if not replace and name_taken(kb, upload_dir, path.name, _digest(path)):
        return None, (f"{path.name}：知识库中已有同名但内容不同的文档。如要替换，请选择“替换同名文档”"
                      "（接口请求加 replace=true），或改名后再上传")
    upload_dir.mkdir(parents=True, exist_ok=True)
    target = upload_dir / path.name
    if path.resolve() != target.resolve():
        shutil.copyfile(path, target)
    return target, ""


def remove_document(kb: KnowledgeBase, upload_dir: Path, source: str) -> bool:
    """Remove ``source`` from the knowledge base (under the write lock) and its uploaded copy; False if absent."""
    with kb.write_lock():
        removed = kb.remove(source)
    if removed:
        (upload_dir / Path(source).name).unlink(missing_ok=True)
    return removed
