"""Knowledge base through the real model and real Chroma, embedded and behind `chroma run`."""

from __future__ import annotations

import json
import math
import multiprocessing
import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import ingest_paths
from rag.data import sample_dir
from rag.errors import ModelMismatchError, RagError
from rag.knowledge import KnowledgeBase
from rag.retrieval import search
from rag.vectorstore import VectorStore

SHORT_A = "上饶经开区推动非公企业党建。今年4月，上饶经开区对全区非公企业开展全面摸底排查，建立党建工作台账。"
SHORT_B = "乐山市推出非公企业党建“红领带”行动。乐山高新区设立红色驿站12个，落实12名领导干部联系企业。"
SHORT_B2 = "乐山市推出非公企业党建“红领带”行动。乐山高新区新建党群服务中心8个，选派党建指导员35名。"


@pytest.fixture
def kb(store_settings, embeddings):
    with KnowledgeBase(store_settings, embeddings=embeddings) as kb:
        yield kb


def _connections_to(port: int) -> int:
    """This process's open TCP connections to ``port`` on 127.0.0.1 (Linux: /proc)."""
    fds = Path("/proc/self/fd")
    inodes = set()
    for fd in fds.iterdir():
        target = str(fd.readlink()) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/self/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port, state, inode = int(fields[2].split(":")[1], 16), fields[3], fields[9]
        count += remote_port == port and state == "01" and inode in inodes  # 01: ESTABLISHED
    return count


def _ids_everywhere(kb: KnowledgeBase) -> tuple[set[str], set[str], set[str]]:
    return set(kb.chunk_ids()), kb.vector_ids(), set(kb.keyword_ids())


def test_add_update_remove_keeps_manifest_chroma_and_bm25_in_agreement(kb, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(SHORT_A, "utf-8")
    (folder / "b.txt").write_text(SHORT_B, "utf-8")
    report = ingest_paths(kb, [folder])
    assert (report.count("added"), report.count("failed")) == (2, 0)
    manifest, vectors, keyword = _ids_everywhere(kb)
    assert manifest == vectors == keyword and len(manifest) >= 2

    generation = kb.generation
    again = ingest_paths(kb, [folder])
    assert again.count("unchanged") == 2 and kb.generation == generation  # nothing written

    old_b = set(kb.chunk_ids("b.txt"))
    (folder / "b.txt").write_text(SHORT_B2, "utf-8")
    assert ingest_paths(kb, [folder]).count("updated") == 1
    manifest, vectors, keyword = _ids_everywhere(kb)
    assert manifest == vectors == keyword
    assert not old_b & vectors, "stale chunks of the old version left in Chroma"
    hits = search(kb, "选派党建指导员多少名", k=1)
    assert hits[0].chunk.source == "b.txt" and "35名" in hits[0].chunk.text

    with kb.write_lock():
        assert kb.remove("b.txt")
    manifest, vectors, keyword = _ids_everywhere(kb)
    assert manifest == vectors == keyword
    assert all(h.chunk.source == "a.txt" for h in search(kb, "乐山 红领带 党建指导员", k=5))


def test_sync_mirrors_a_folder(kb, tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(SHORT_A, "utf-8")
    (folder / "sub" / "b.md").write_text(SHORT_B, "utf-8")
    ingest_paths(kb, [folder])
    assert [s.source for s in kb.sources()] == ["a.txt", "sub/b.md"]
    (folder / "a.txt").unlink()
    (folder / "c.txt").write_text(SHORT_B2, "utf-8")
    report = ingest_paths(kb, [folder], sync=True)
    assert (report.count("added"), report.count("removed"), report.count("unchanged")) == (1, 1, 1)
    assert [s.source for s in kb.sources()] == ["c.txt", "sub/b.md"]
    manifest, vectors, _ = _ids_everywhere(kb)
    assert manifest == vectors


def test_a_renamed_file_is_not_refused_as_a_copy_of_its_old_name(kb, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "旧名.txt").write_text(SHORT_A, "utf-8")
    (folder / "另一篇.txt").write_text(SHORT_B, "utf-8")
    ingest_paths(kb, [folder])
    (folder / "旧名.txt").rename(folder / "新名.txt")
    report = ingest_paths(kb, [folder], sync=True)
    assert (report.count("added"), report.count("removed"), report.count("failed")) == (1, 1, 0), report
    assert [s.source for s in kb.sources()] == ["另一篇.txt", "新名.txt"]
    (folder / "副本.txt").write_text(SHORT_B, "utf-8")  # a copy whose original is still there is refused
    copy = ingest_paths(kb, [folder])
    assert [o.error for o in copy.failed] == ["副本.txt：内容与已导入的 另一篇.txt 完全相同，未重复导入"
                                              "（如需以新名称导入，请先删除 另一篇.txt）"]
    manifest, vectors, _ = _ids_everywhere(kb)
    assert manifest == vectors


def test_bad_files_fail_alone_and_nothing_stored_is_lost(kb, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(SHORT_A, "utf-8")
    ingest_paths(kb, [folder])
    before = set(kb.chunk_ids())

    (folder / "a.txt").write_bytes(b"")  # the stored article's file is emptied
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (folder / "gbk.txt").write_bytes(SHORT_B.encode("gbk"))
    report = ingest_paths(kb, [folder])
    failed = {o.source: o.error for o in report.failed}
    assert set(failed) == {"a.txt", "binary.txt"}
    assert "文件为空" in failed["a.txt"] and "二进制" in failed["binary.txt"]
    assert report.count("added") == 1  # the GBK file
    assert before <= set(kb.chunk_ids()) <= kb.vector_ids()
    assert kb.document("gbk.txt").text == SHORT_B


def test_region_and_source_filters(sample_kb):
    hits = search(sample_kb, "党建工作", k=8, region="乐山")
    assert hits and all("四川省乐山市" in "".join(h.chunk.regions) or h.chunk.source.startswith("000")
                        for h in hits)
    only = search(sample_kb, "党建工作", k=5, sources=["004_80e31c2401ce812c.txt"])
    assert only and {h.chunk.source for h in only} == {"004_80e31c2401ce812c.txt"}
    assert len(search(sample_kb, "党建工作", region="西藏")) == 0
    with pytest.raises(RagError, match="无法识别地区"):
        search(sample_kb, "党建", region="火星")


def test_model_mismatch_is_refused(store_settings, embeddings):
    with KnowledgeBase(store_settings, embeddings=embeddings) as kb:
        assert kb.vector_count() == 0
        with pytest.raises(ModelMismatchError, match="不能在同一集合中混用模型"):
            VectorStore(store_settings, "some-other-model", 384)


def test_closing_a_knowledge_base_behind_a_chroma_server_closes_its_connections(chroma_server, tmp_path, embeddings):
    from tests.conftest import make_settings

    host, port = chroma_server
    before = _connections_to(port)
    kb = KnowledgeBase(make_settings(tmp_path, chroma_host=host, chroma_port=port, collection="closing"),
                       embeddings=embeddings)
    (tmp_path / "a.txt").write_text(SHORT_A, "utf-8")
    ingest_paths(kb, [tmp_path / "a.txt"])
    assert search(kb, "上饶经开区摸底排查")
    assert _connections_to(port) > before
    kb.close()
    assert _connections_to(port) == before
    assert search(kb, "上饶经开区摸底排查"), "a closed knowledge base opens Chroma again when asked"
    kb.close()
    assert _connections_to(port) == before


def test_check_repairs_orphans_and_missing_vectors(kb, tmp_path):
    (tmp_path / "a.txt").write_text(SHORT_A, "utf-8")
    ingest_paths(kb, [tmp_path / "a.txt"])
    real_ids = set(kb.chunk_ids())
    vec = kb.embeddings.encode(["孤立片段"])
    # damage behind the front door, as an interrupted writer would leave it: the same collection, opened directly
    behind = VectorStore(kb.settings, kb.embeddings.model_id, kb.embeddings.dimension)
    behind.collection.upsert(ids=["orphan-1"], embeddings=vec, documents=["孤立片段"],
                             metadatas=[{"source": "gone.txt"}])
    behind.delete(sorted(real_ids)[:1])
    behind.close()
    with kb.write_lock():
        report = kb.check(repair=True)
    assert (report.orphan_vectors, report.missing_vectors, report.repaired) == (1, 1, True)
    assert kb.vector_ids() == real_ids
    assert kb.check(repair=False).ok


def test_damaged_bm25_files_are_found_by_check_and_never_break_a_search(tmp_path, embeddings):
    from rag.keyword import KeywordIndex
    from rag.manifest import Manifest
    from tests.conftest import make_settings

    kb = KnowledgeBase(make_settings(tmp_path), embeddings=embeddings)
    (tmp_path / "a.txt").write_text(SHORT_A, "utf-8")
    (tmp_path / "b.txt").write_text(SHORT_B, "utf-8")
    ingest_paths(kb, [tmp_path / "a.txt", tmp_path / "b.txt"])
    assert kb.check(repair=False, full=True).ok
    for part in (kb.settings.bm25_dir / "index").glob("*.npy"):
        part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])  # half-written files
    fresh = KeywordIndex(Manifest(kb.settings.manifest_path), kb.settings.bm25_dir)  # as the next process would
    assert [kb.chunks([i])[i].source for i, _ in fresh.search("红色驿站", 1)] == ["b.txt"]
    for part in (kb.settings.bm25_dir / "index").glob("*.npy"):
        part.write_bytes(b"\x93NUMPY garbage")
    report = kb.check(repair=False, full=True)
    assert not report.ok and report.keyword_problem == "索引文件缺失、损坏或已过期" and not report.repaired
    with kb.write_lock():
        report = kb.check(repair=True, full=True)
    assert report.repaired and kb.check(repair=False, full=True).ok
    assert [kb.chunks([i])[i].source for i, _ in kb.keyword_search("摸底排查", 1)] == ["a.txt"]


def _hold_lock(settings, ready, release) -> None:
    kb = KnowledgeBase(settings)
    with kb.write_lock():
        ready.set()
        release.wait(30)


def test_second_writer_is_refused_with_a_clear_message(tmp_path):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(settings, ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        with pytest.raises(RagError, match="正被另一个进程写入"), KnowledgeBase(settings).write_lock(wait_seconds=0.5):
            pass
    finally:
        release.set()
        holder.join(30)


def test_every_write_outside_the_write_lock_raises(tmp_path, embeddings):
    from ingest.chunking import chunk_text
    from tests.conftest import make_settings

    kb = KnowledgeBase(make_settings(tmp_path), embeddings=embeddings)
    (tmp_path / "a.txt").write_text(SHORT_A, "utf-8")
    ingest_paths(kb, [tmp_path / "a.txt"])  # takes the lock itself
    doc = kb.document("a.txt")
    chunks = chunk_text(doc.text, "a.txt", budget=kb.settings.chunk_tokens, title=doc.title)
    vectors = kb.embed_chunks(chunks)
    for write in (lambda: kb.put(doc, chunks, vectors), lambda: kb.remove("a.txt"), lambda: kb.check(repair=True)):
        with pytest.raises(RagError, match="写锁"):
            write()
    assert [s.source for s in kb.sources()] == ["a.txt"]  # nothing was written
    assert kb.check(repair=False).ok  # reading needs no lock
    with kb.write_lock():
        assert kb.remove("a.txt")
    assert kb.sources() == []


def test_two_data_folders_do_not_interfere(tmp_path, embeddings):
    from tests.conftest import make_settings

    one = KnowledgeBase(make_settings(tmp_path / "one"), embeddings=embeddings)
    two = KnowledgeBase(make_settings(tmp_path / "two"), embeddings=embeddings)
    shutil.copy(sample_dir() / "004_80e31c2401ce812c.txt", tmp_path / "x.txt")
    ingest_paths(one, [tmp_path / "x.txt"])
    assert [s.source for s in one.sources()] == ["x.txt"]
    assert two.sources() == [] and two.vector_count() == 0


def test_hnsw_recall_at_10_against_exact_search_on_real_embeddings(tmp_path, sample_kb):
    """Our HNSW settings on ~6k vectors grown from real sample embeddings (small perturbations)."""
    from tests.conftest import make_settings

    ids = sample_kb.chunk_ids()
    base = np.stack([sample_kb.vectors_of(ids)[i] for i in ids])
    rng = np.random.default_rng(7)
    grown = np.concatenate([base + rng.normal(0, 0.02, base.shape) for _ in range(80)]).astype(np.float32)
    grown /= np.linalg.norm(grown, axis=1, keepdims=True)
    store = VectorStore(make_settings(tmp_path), "recall-test", grown.shape[1])
    all_ids = [f"v{i}" for i in range(len(grown))]
    for start in range(0, len(grown), 2000):
        store.collection.add(ids=all_ids[start:start + 2000], embeddings=grown[start:start + 2000])
    queries = sample_kb.embeddings.encode(
        ["楼宇党建怎么做", "党组织覆盖率", "红领带行动", "党员先锋岗", "篮球场联建", "党建指导员",
         "兴达公司", "三会一课", "党群服务中心", "非公企业发展"], query=True)
    recall = []
    for q in queries:
        exact = {all_ids[j] for j in np.argsort(-(grown @ q))[:10]}
        approx = {cid for cid, _ in store.query(q, 10)}
        recall.append(len(exact & approx) / 10)
    assert float(np.mean(recall)) >= 0.95, recall


HEADED_A = ("凝聚非公力量 彰显红色温度\n"
            "上饶经开区整合区两新综合党委力量，推动非公企业党组织应建尽建。"
            "今年以来，各安商服务小组深入企业走访，帮助企业解决用工、融资等难题。\n"
            "截至目前，安商办受理企业问题诉求共204个，已销号128个，企业满意度持续提升。")
HEADED_B = ("自贡高新区园区党建综述\n自贡高新区建立“三项制度”，由县级领导带头联系重点企业。"
            "园区定向畅通企业诉求渠道，今年受理企业问题诉求共88个，协调解决76个。")


def test_a_chunk_is_found_by_its_articles_only_place_which_its_own_words_and_title_do_not_name(tmp_path, embeddings):
    from rag.keyword import KeywordIndex
    from rag.manifest import Manifest
    from tests.conftest import make_settings

    kb = KnowledgeBase(make_settings(tmp_path / "data", chunk_tokens=32, chunk_overlap_sentences=0),
                       embeddings=embeddings)
    (tmp_path / "a.txt").write_text(HEADED_A, "utf-8")
    (tmp_path / "b.txt").write_text(HEADED_B, "utf-8")
    ingest_paths(kb, [tmp_path / "a.txt", tmp_path / "b.txt"])
    chunks = kb.chunks(kb.chunk_ids())
    figure_chunk = next(c for c in chunks.values() if "204个" in c.text)
    assert "上饶" not in figure_chunk.text  # the chunk itself does not name the place
    best = kb.keyword_search("上饶经开区受理了多少个企业问题诉求？", 1)
    assert [cid for cid, _ in best] == [figure_chunk.chunk_id]
    # The place does not make its name common: 上饶's document frequency is the chunks that say it.
    n, in_a = len(chunks), sum(c.source == "a.txt" for c in chunks.values())
    df = sum("上饶" in c.text for c in chunks.values())
    assert 0 < df < in_a
    assert kb.idf(["上饶"])["上饶"] == pytest.approx(math.log(1.0 + (n - df + 0.5) / (df + 0.5)))
    # An index saved in the earlier format (no places) is rebuilt, not used.
    info_path = kb.settings.bm25_dir / "info.json"
    info = json.loads(info_path.read_text("utf-8"))
    info.pop("format")
    info_path.write_text(json.dumps(info, ensure_ascii=False), "utf-8")
    fresh = KeywordIndex(Manifest(kb.settings.manifest_path), kb.settings.bm25_dir)
    assert [cid for cid, _ in fresh.search("上饶经开区受理了多少个企业问题诉求？", 1)] == [figure_chunk.chunk_id]
    assert "format" in json.loads(info_path.read_text("utf-8"))


def test_a_name_of_letters_and_digits_is_found_however_it_is_written(kb, tmp_path):
    """"GPT4" finds the article that writes "GPT-4", and "C-919" the one that writes "C919", over an article
    that shares the question's other words (RGB's "ChatGPT和GPT4的发布时间" got 小米13's 发布时间)."""
    from rag.keyword import tokenize

    assert {"gpt", "4"} <= set(tokenize("GPT4的发布时间")) and "gpt4" in tokenize("GPT-4发布")
    files = {"gpt.txt": "OpenAI于2023年3月14日正式发布全新大型多模态模型GPT-4。",
             "xiaomi.txt": "小米13系列手机的发布时间一直没有公布，发布时间被泄露了。",
             "c919.txt": "C919大型客机5月28日完成首次商业飞行。"}
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    ingest_paths(kb, [tmp_path / name for name in files])
    chunks = kb.chunks(kb.chunk_ids())
    for question, source in (("GPT4的发布时间", "gpt.txt"), ("C-919什么时候首飞", "c919.txt")):
        best = kb.keyword_search(question, 1)
        assert [chunks[cid].source for cid, _ in best] == [source], question
