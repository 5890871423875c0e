"""Crash safety: `rag ingest` killed with SIGKILL at 20 random moments, then finished, equals an uninterrupted run.

Each trial starts a real `rag ingest` on the same data folder, waits until it has begun
writing, sleeps a random 0–1.5 s (so kills land in embedding, the Chroma write or the
manifest commit) and kills it. After every kill the stored documents must each have exactly
the chunk ids of an uninterrupted run (a consistent prefix: no half-written document). After
the last kill one run finishes the job; then documents, chunk ids, Chroma and BM25 must equal
the uninterrupted run, with no duplicates or orphans. Seeded (``RAG_CRASH_SEED``) and bounded
in time.
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
from tests.conftest import ROOT, SHARED, make_settings
from tests.processes import manifest_generation, stored_chunk_ids

TRIALS = 20
NEWS = SHARED / "corpus/dangjian_news/docs"


def test_random_sigkills_during_ingest_then_a_rerun_equal_an_uninterrupted_run(tmp_path, embeddings):
    folder = tmp_path / "news"
    folder.mkdir()
    for path in sorted(NEWS.glob("*.txt"))[100:180]:
        shutil.copy(path, folder / path.name)
    reference_kb = KnowledgeBase(make_settings(tmp_path / "reference"), embeddings=embeddings)
    assert ingest_paths(reference_kb, [folder]).count("added") == 80
    reference = stored_chunk_ids(reference_kb.settings.manifest_path)

    settings = make_settings(tmp_path / "data", ingest_batch_chunks=4)
    env = {**os.environ, "RAG_DATA_DIR": str(settings.data_dir), "RAG_INGEST_BATCH_CHUNKS": "4"}
    command = [sys.executable, "-m", "rag.cli", "ingest", "-q", str(folder)]
    rng = random.Random(int(os.environ.get("RAG_CRASH_SEED", "20261121")))
    kills, deadline = 0, time.monotonic() + 900
    while kills < TRIALS and time.monotonic() < deadline:
        before = manifest_generation(settings.manifest_path)
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while manifest_generation(settings.manifest_path) == before and proc.poll() is None:
            time.sleep(0.05)
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
    ids = kb.manifest.all_chunk_ids()
    kb.keyword.refresh()
    assert kb.vectors.all_ids() == ids and kb.vectors.count() == len(ids)
    assert sorted(kb.keyword._ids) == sorted(ids)  # BM25: every chunk exactly once
    assert kb.check(repair=False).ok
