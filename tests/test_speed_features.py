"""The speed issue's features, checked for behaviour (the speeds themselves are in bench/).

- the query-embedding cache (real model; LRU eviction with a counting fake),
- the ingest report's stage split (real ingest), its own even with searches running beside it,
- every search and answer carries its own timings, with model loading as a stage of its own,
- an ingest killed with SIGKILL resumes without redoing finished files (real `rag ingest`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading

import numpy as np

from ingest.pipeline import ingest_paths
from rag.data import sample_dir
from rag.embeddings import SentenceTransformerEmbeddings
from rag.knowledge import KnowledgeBase
from tests.conftest import ROOT, make_settings
from tests.processes import stored_chunk_ids, wait_until


def test_repeated_questions_reuse_their_vector(embeddings):
    question = "楼宇党建怎么做？缓存测试"
    hits = embeddings.query_cache_hits
    first = embeddings.encode([question], query=True)
    again = embeddings.encode(["乐山的党建指导员", question, question], query=True)
    assert embeddings.query_cache_hits == hits + 1  # counted once per distinct question
    assert np.array_equal(first[0], again[1]) and np.array_equal(again[1], again[2])
    as_document = embeddings.encode([question])  # documents are never served from the query cache
    assert not np.allclose(as_document[0], first[0], atol=1e-3)
    again[1][:] = 0  # callers get copies: the cached vector is untouched
    assert np.array_equal(embeddings.encode([question], query=True)[0], first[0])


class _CountingModel:
    def __init__(self) -> None:
        self.prompts = {"query": "q: ", "document": "d: "}
        self.encoded: list[str] = []

    def get_sentence_embedding_dimension(self) -> int:
        return 4

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        self.encoded.extend(texts)
        return np.array([[len(t), 1.0, 0.0, float(i)] for i, t in enumerate(texts)], dtype=np.float32)


def test_query_cache_is_bounded_and_evicts_the_least_recent():
    model = _CountingModel()
    emb = SentenceTransformerEmbeddings(model, "counting", query_cache_size=2)
    emb.encode(["甲", "乙"], query=True)
    emb.encode(["甲"], query=True)        # 甲 is now the most recent
    emb.encode(["丙"], query=True)        # evicts 乙
    emb.encode(["甲", "乙"], query=True)  # 甲 cached, 乙 recomputed
    assert model.encoded == ["甲", "乙", "丙", "乙"]
    emb.clear_query_cache()
    emb.encode(["甲"], query=True)
    assert model.encoded[-1] == "甲"
    off = SentenceTransformerEmbeddings(_CountingModel(), "counting", query_cache_size=0)
    off.encode(["甲"], query=True)
    off.encode(["甲"], query=True)
    assert off.model.encoded == ["甲", "甲"]


def test_ingest_report_splits_time_by_stage(tmp_path, embeddings):
    kb = KnowledgeBase(make_settings(tmp_path), embeddings=embeddings)
    report = ingest_paths(kb, sorted(sample_dir().glob("*.txt"))[:2])
    assert report.count("added") == 2
    assert set(report.stages) == {"prepare", "embed", "chroma", "manifest", "bm25"}
    assert all(v > 0 for v in report.stages.values())
    assert sum(report.stages.values()) <= report.seconds
    assert report.stages["embed"] > report.stages["prepare"]


def test_an_ingest_reports_its_own_stages_while_others_search(tmp_path, embeddings, sample_kb):
    """Searches in another thread on the same knowledge base never show up in the ingest's stage split."""
    from rag.retrieval import search

    kb = KnowledgeBase(make_settings(tmp_path), embeddings=embeddings)
    with kb.write_lock():
        pass  # created, nothing stored
    shutil.copytree(sample_dir(), tmp_path / "docs")
    searching, searched = threading.Event(), []

    def keep_searching() -> None:
        while not searching.is_set():
            result = search(kb, "党建指导员", 3)
            searched.append(result.timings_ms)

    worker = threading.Thread(target=keep_searching)
    worker.start()
    try:
        wait_until(lambda: len(searched) >= 2, 120, "searches running beside the ingest")
        report = ingest_paths(kb, [tmp_path / "docs"])
        during = len(searched)
    finally:
        searching.set()
        worker.join(60)
    assert report.count("added") == 5 and during > 2
    assert set(report.stages) == {"prepare", "embed", "chroma", "manifest", "bm25"}
    assert sum(report.stages.values()) <= report.seconds
    for ms in searched:  # each search's own stages fit in its own wall time
        assert sum(v for name, v in ms.items() if name != "total") <= ms["total"] + 1


def test_model_loading_is_its_own_stage_not_retrieval(tmp_path, sample_kb):
    """A knowledge base opened cold reports loading apart from retrieval; a warm one has no load stage."""
    from rag.chain import ask

    cold = KnowledgeBase(sample_kb.settings)  # loads its own embedding model (cached factory) and Chroma
    first = ask(cold, "乐山市选派了多少名党建指导员？", llm="none")
    second = ask(cold, "自贡选派了多少名党建指导员？", llm="none")
    assert "load" in first.timings_ms and "load" not in second.timings_ms
    assert first.timings_ms["retrieve"] < first.timings_ms["total"]
    assert "retrieve" in second.timings_ms and second.timings_ms["retrieve"] <= second.timings_ms["total"]


def test_killed_ingest_resumes_without_redoing_finished_files(tmp_path, embeddings, news_docs):
    folder = tmp_path / "news"
    folder.mkdir()
    for path in sorted(news_docs.glob("*.txt"))[:30]:
        shutil.copy(path, folder / path.name)
    settings = make_settings(tmp_path / "data", ingest_batch_chunks=16)
    env = {**os.environ, "RAG_DATA_DIR": str(settings.data_dir), "RAG_INGEST_BATCH_CHUNKS": "16"}
    command = [sys.executable, "-m", "ui.cli", "ingest", str(folder)]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: len(stored_chunk_ids(settings.manifest_path)) >= 5 or proc.poll() is not None, 240,
               "five stored articles", every_s=0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    finished = len(stored_chunk_ids(settings.manifest_path))
    assert 5 <= finished < 30, f"the kill should land mid-ingest ({finished} of 30 stored)"

    rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"新增 {30 - finished}，更新 0，未变 {finished}，失败 0" in rerun.stdout, rerun.stdout

    kb = KnowledgeBase(settings, embeddings=embeddings)
    ids = set(kb.chunk_ids())
    assert len(kb.sources()) == 30
    assert kb.vector_ids() == ids and set(kb.keyword_ids()) == ids
    assert kb.vector_count() == len(ids)  # no duplicates, no orphans left by the kill
