"""Benchmark: OCR seconds per page, its accuracy, and what scanned-document support costs text documents.

Usage: python bench/ocr_pages.py [--articles 5] [--baseline-rev REV]

1. OCR: each sample article is rendered to A4 page images at 150 dpi (``tests/scans.py``:
   one column with a running header and page numbers, and two columns), put in an
   image-only PDF and read by ``ingest.loaders.parse_bytes``, as ingest does. Prints
   seconds per page (p50 / p95 / mean over documents) and the character accuracy of the recognised text
   against the source (edit distance, whitespace and width ignored).
2. Text documents: the 972 news articles (``../shared``) go through the ingest's
   preparation (read, clean, metadata, 公文 check, chunking: everything before
   embedding) with this code and, in a subprocess, with the code at ``--baseline-rev``
   (default: the commit before scanned-document support). The OCR engine must not be
   loaded by text documents. Prints both times and their ratio.

Writes ``bench/out/ocr_pages.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PREPARE = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from ingest.chunking import chunk_text
from ingest.pipeline import document_of
files = sorted(Path(sys.argv[2]).iterdir())
for _ in range(2):  # the first pass warms jieba, tiktoken and the gazetteer
    start, chunks = time.perf_counter(), 0
    for f in files:
        doc = document_of(f.read_bytes(), f, f.name)
        chunks += len(chunk_text(doc.text, f.name, budget=320, title=doc.title, regions=doc.regions))
    seconds = time.perf_counter() - start
ocr = sys.modules.get("ingest.ocr")
loaded = bool(ocr and ocr._engine.cache_info().currsize)
print(f"{seconds:.3f} {chunks} {int(loaded)}")
"""


def prepare_seconds(code_root: Path, corpus: Path) -> tuple[float, int, bool]:
    out = subprocess.run([sys.executable, "-c", PREPARE, str(code_root), str(corpus)], cwd=code_root,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]), out[2] == "1"


def ocr_figures(articles: int) -> dict[str, float]:
    from ingest.loaders import parse_bytes
    from rag.data import sample_dir
    from tests.scans import render_pages, scanned_pdf
    from tests.test_scanned import char_accuracy

    per_page: list[float] = []
    total_pages = 0
    accuracy: dict[str, list[float]] = {"one column": [], "two columns": []}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(sample_dir().glob("*.txt"))[:articles]:
            text = path.read_text("utf-8")
            for layout, columns in (("one column", 1), ("two columns", 2)):
                pages = render_pages(text, columns=columns, header="某某党建工作简报" if columns == 1 else "",
                                     footer=columns == 1)
                pdf = scanned_pdf([p.image for p in pages], Path(tmp) / f"{path.stem}-{columns}.pdf")
                start = time.perf_counter()
                loaded = parse_bytes(pdf.read_bytes(), ".pdf", pdf.name)
                per_page.append((time.perf_counter() - start) / len(pages))
                total_pages += len(pages)
                accuracy[layout].append(char_accuracy(text, loaded.text))
                print(f"  {path.name} {layout}: {len(pages)} pages, {per_page[-1]:.2f} s/page, "
                      f"accuracy {accuracy[layout][-1]:.4f}", flush=True)
    ordered = sorted(per_page)
    return {"documents": len(per_page), "pages": total_pages, "s_per_page_p50": statistics.median(per_page),
            "s_per_page_p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "s_per_page_mean": statistics.fmean(per_page),
            "accuracy_one_column_min": min(accuracy["one column"]),
            "accuracy_one_column_mean": statistics.fmean(accuracy["one column"]),
            "accuracy_two_columns_min": min(accuracy["two columns"]),
            "accuracy_two_columns_mean": statistics.fmean(accuracy["two columns"])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=5)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared/corpus/dangjian_news/docs"))
    parser.add_argument("--baseline-rev", default="c713d4e")
    args = parser.parse_args()

    print("OCR of scanned sample articles (PDF, 150 dpi pages):")
    figures: dict[str, object] = ocr_figures(args.articles)
    corpus = Path(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["git", "worktree", "add", "--detach", tmp, args.baseline_rev], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            before, before_chunks, _ = prepare_seconds(Path(tmp), corpus)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", tmp], cwd=ROOT, check=True)
    after, after_chunks, ocr_loaded = prepare_seconds(ROOT, corpus)
    figures.update({"text_prepare_s_before": before, "text_prepare_s_after": after,
                    "text_prepare_ratio": after / before, "text_chunks_before": before_chunks,
                    "text_chunks_after": after_chunks, "ocr_engine_loaded_by_text": ocr_loaded,
                    "baseline_rev": args.baseline_rev})
    for key, value in figures.items():
        print(f"{key:34} {value:.3f}" if isinstance(value, float) else f"{key:34} {value}")
    assert not ocr_loaded, "text documents loaded the OCR engine"
    out = ROOT / "bench" / "out" / "ocr_pages.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2), "utf-8")


if __name__ == "__main__":
    main()
