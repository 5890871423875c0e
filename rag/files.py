"""What ingestion accepts: the supported file types and the size limit.

``check_file`` is the one check behind ``rag ingest`` (``ingest.loaders``) and
the UI upload (``ui.app``, before a file is copied into the data folder), so
both refuse the same files with the same Chinese reasons.

Deliberately not here: reading or parsing files (``ingest.loaders``).
"""

from __future__ import annotations

from pathlib import Path

from rag.errors import IngestError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})  # read by OCR
SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".docx", ".pdf", ".html", ".htm"}) | IMAGE_SUFFIXES
LEGACY_SUFFIXES = frozenset({".doc", ".wps"})  # refused with advice to save as .docx
SUPPORTED_KINDS = "、".join(sorted(s.lstrip(".") for s in SUPPORTED_SUFFIXES))  # for messages and labels
_MB = 1024 * 1024


def check_file(path: Path, source: str, max_bytes: int) -> None:
    """``IngestError`` unless the file's type is supported and its size is within ``max_bytes``.

    ``OSError`` from reading the size is left to the caller.
    """
    suffix = path.suffix.lower()
    if suffix in LEGACY_SUFFIXES:
        kind = "WPS 文字" if suffix == ".wps" else "旧版 Word（.doc）"
        raise IngestError(source, f"这是{kind}文件，暂不能直接读取：请用 Word 或 WPS 打开后“另存为”.docx 再导入")
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(source, f"不支持的文件类型“{suffix or '无扩展名'}”，可上传 {SUPPORTED_KINDS}")
    size = path.stat().st_size
    if size > max_bytes:
        raise IngestError(source, f"文件大小 {size / _MB:.1f} MB，超过 {max_bytes / _MB:g} MB 上限"
                                  "（文件过大，可调整 RAG_MAX_FILE_MB）")
