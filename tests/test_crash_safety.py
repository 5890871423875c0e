"""Crash safety: `rag ingest` killed with SIGKILL at 20 random moments, then finished, equals an uninterrupted run.

Each trial starts a real `rag ingest` on the same data folder, waits until it has begun
writing, sleeps a random 0–1.5 s (so kills land in embedding, the Chroma write or the
manifest commit) and kills it. After every kill the stored documents must each have exactly
the chunk ids of an uninterrupted run (a consistent prefix: no half-written document). After
the last kill one run finishes the job; then documents, chunk ids, Chroma and BM25 must equal
the uninterrupted run, with no duplicates or orphans. Seeded (``RAG_CRASH_SEED``) and bounded
in time.

Then `rag check` on a folder a kill damaged: `--dry-run` finds the vectors of a batch whose
manifest rows were never committed, lost vectors and the BM25 index left behind, and changes
nothing; `rag check` repairs them without touching a stored document.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time

from ingest.pipeline import ingest_paths
from rag.knowledge import KnowledgeBase
from tests.conftest import ROOT, make_settings
from tests.processes import manifest_generation, run_rag, stored_chunk_ids, wait_until

TRIALS = 20


def test_random_sigkills_during_ingest_then_a_rerun_equal_an_uninterrupted_run(tmp_path, embeddings, news_docs):
    folder = tmp_path / "news"
    folder.mkdir()
    for path in sorted(news_docs.glob("*.txt"))[100:180]:
        shutil.copy(path, folder / path.name)
    reference_kb = KnowledgeBase(make_settings(tmp_path / "reference"), embeddings=embeddings)
    assert ingest_paths(reference_kb, [folder]).count("added") == 80
    reference = stored_chunk_ids(reference_kb.settings.manifest_path)

    settings = make_settings(tmp_path / "data", ingest_batch_chunks=4)
    env = {**os.environ, "RAG_DATA_DIR": str(settings.data_dir), "RAG_INGEST_BATCH_CHUNKS": "4"}
    command = [sys.executable, "-m", "ui.cli", "ingest", "-q", str(folder)]
    rng = random.Random(int(os.environ.get("RAG_CRASH_SEED", "20261121")))
    kills, deadline = 0, time.monotonic() + 900
    while kills < TRIALS and time.monotonic() < deadline:
        before = manifest_generation(settings.manifest_path)
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda b=before, p=proc: manifest_generation(settings.manifest_path) != b or p.poll() is not None,
                   300, "the ingest's first write")
        if proc.poll() is not None:
            break  # it finished: nothing left to interrupt
        time.sleep(rng.uniform(0.0, 1.5))
        proc.kill()
        proc.wait(30)
        kills += 1
        partial = stored_chunk_ids(settings.manifest_path)
        assert all(ids == reference[source] for source, ids in partial.items()), f"trial {kills}"
        assert len(partial) < len(reference) or kills == TRIALS
    assert kills == TRIALS, f"only {kills} kills landed mid-ingest"

    finish = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert finish.returncode == 0, finish.stderr
    kb = KnowledgeBase(settings, embeddings=embeddings)
    assert stored_chunk_ids(settings.manifest_path) == reference
    ids = set(kb.chunk_ids())
    assert kb.vector_ids() == ids and kb.vector_count() == len(ids)
    assert sorted(kb.keyword_ids()) == sorted(ids)  # BM25: every chunk exactly once
    assert kb.check(repair=False).ok


DAMAGE = """
import sys
from pathlib import Path
from rag.config import Settings
from rag.embeddings import get_embeddings
from rag.knowledge import KnowledgeBase
from rag.vectorstore import VectorStore

damaged, reference = (Path(a) for a in sys.argv[1:3])
settings = Settings(data_dir=damaged)
emb = get_embeddings(settings)
kb, ref = KnowledgeBase(settings, embeddings=emb), KnowledgeBase(Settings(data_dir=reference), embeddings=emb)
stored = set(kb.chunk_ids())
# damage behind the front door, as a killed writer leaves it: the same Chroma collections, opened directly
behind = VectorStore(settings, emb.model_id, emb.dimension)
ref_store = VectorStore(ref.settings, emb.model_id, emb.dimension)
# a batch in flight at the kill: its vectors reached Chroma, its manifest rows never did
in_flight = sorted(ref.vector_ids() - stored)[:6]
got = ref_store.collection.get(ids=in_flight, include=["embeddings", "documents", "metadatas"])
behind.collection.upsert(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"],
                         metadatas=got["metadatas"])
# vectors of stored documents lost (e.g. a Chroma write that never reached the disk)
behind.delete(sorted(stored)[:3])
print(len(kb.vector_ids() - stored))
"""


def test_rag_check_finds_and_repairs_a_folder_a_kill_damaged(tmp_path, embeddings, news_docs):
    """A killed ingest, plus the rest of what a kill can leave (a batch's vectors without its manifest rows)
    and lost vectors, found by `rag check --dry-run` and repaired by `rag check`, through the CLI."""
    folder = tmp_path / "news"
    folder.mkdir()
    for path in sorted(news_docs.glob("*.txt"))[200:216]:
        shutil.copy(path, folder / path.name)
    reference_kb = KnowledgeBase(make_settings(tmp_path / "reference"), embeddings=embeddings)
    ingest_paths(reference_kb, [folder])
    reference = stored_chunk_ids(reference_kb.settings.manifest_path)
    data = tmp_path / "data"
    batch = {"RAG_INGEST_BATCH_CHUNKS": "4"}
    env = {**os.environ, "RAG_DATA_DIR": str(data), **batch}

    def rag(*args: str) -> subprocess.CompletedProcess[str]:
        return run_rag(data, *args, env=batch)

    manifest = data / "manifest.sqlite3"
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "ingest", "-q", str(folder)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: manifest_generation(manifest) >= 2 or proc.poll() is not None, 300, "two stored batches")
    proc.kill()
    proc.wait(30)
    partial = stored_chunk_ids(manifest)
    assert 0 < len(partial) < len(reference), "the kill landed after the ingest finished"
    damage = subprocess.run([sys.executable, "-c", DAMAGE, str(data), str(tmp_path / "reference")], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert damage.returncode == 0, damage.stderr
    orphans = int(damage.stdout.strip().splitlines()[-1])
    assert orphans >= 6

    dry = rag("check", "--dry-run")
    assert dry.returncode == 1, dry.stdout + dry.stderr
    # the BM25 index is built at the end of an ingest: after the kill it is missing or behind the manifest
    assert f"发现：多余向量 {orphans} 个，缺失向量 3 个；关键词索引：索引文件缺失、损坏或已过期" in dry.stdout
    assert rag("check", "--dry-run").stdout == dry.stdout  # a dry run changes nothing

    fixed = rag("check")
    assert fixed.returncode == 0 and "已修复" in fixed.stdout and "已重建" in fixed.stdout, fixed.stdout
    again = rag("check")
    assert again.returncode == 0 and "检查通过" in again.stdout, again.stdout
    assert stored_chunk_ids(manifest) == partial  # repair touched no stored document

    finish = rag("ingest", "-q", str(folder))
    assert finish.returncode == 0, finish.stderr
    assert stored_chunk_ids(manifest) == reference
    kb = KnowledgeBase(make_settings(data), embeddings=embeddings)
    ids = set(kb.chunk_ids())
    assert kb.vector_ids() == ids and sorted(kb.keyword_ids()) == sorted(ids)
    assert kb.check(repair=False, full=True).ok
