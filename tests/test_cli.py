"""The `rag` command end to end: real processes, real model, real Chroma, a temp data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.manifest import Manifest
from tests.processes import ROOT
from tests.processes import run_rag as rag


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli-data")
    result = rag(folder, "ingest")  # no path: the bundled sample articles
    assert result.returncode == 0, result.stderr
    assert "文件数 5：新增 5，更新 0，未变 0，失败 0" in result.stdout
    assert "片段数" in result.stdout and "用时" in result.stdout
    return folder


def test_sources_json_contract(data_dir):
    result = rag(data_dir, "sources", "--json")
    assert result.returncode == 0, result.stderr
    docs = json.loads(result.stdout)["documents"]
    assert [d["source"] for d in docs] == sorted(p.name for p in (ROOT / "rag/data/sample").glob("*.txt"))
    for d in docs:
        assert set(d) == {"source", "title", "regions", "chunks", "ingested_at", "kind", "official", "pages",
                          "ocr_confidence"}
        assert isinstance(d["title"], str) and d["title"]
        assert isinstance(d["regions"], list) and d["chunks"] > 0


def test_ask_json_contract(data_dir):
    result = rag(data_dir, "ask", "其他地方是怎么选派党建指导员的？", "--llm", "none", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert {"question", "answer", "refused", "llm", "citations", "retrieved", "timings_ms"} <= set(payload)
    assert payload["llm"] == "none" and payload["refused"] is False
    assert {"retrieve", "generate"} <= set(payload["timings_ms"])
    cited_sources = {c["source"] for c in payload["citations"]}
    assert len(cited_sources) >= 3, "a cross-region question cites several articles"
    manifest = Manifest(data_dir / "manifest.sqlite3")
    try:
        for c in payload["citations"]:
            assert set(c) == {"n", "source", "title", "regions", "quote", "start", "end", "page", "ocr_confidence"}
            assert f"[{c['n']}]" in payload["answer"]
            assert manifest.document(c["source"]).text[c["start"]:c["end"]] == c["quote"]
    finally:
        manifest.close()
    for r in payload["retrieved"]:
        # the same form as `rag search --json` results (SearchHit.to_json)
        assert set(r) == {"source", "title", "regions", "chunk_id", "start", "end", "page", "score", "text"}
        assert 0 < r["score"] <= 1


def test_ask_text_output_and_refusal(data_dir):
    result = rag(data_dir, "ask", "自贡建立了多少个“小个专”党建指导站？", "--llm", "none")
    assert result.returncode == 0, result.stderr
    assert "23个" in result.stdout and "引用出处" in result.stdout
    assert "002_c1bd32abbb7e348e.txt" in result.stdout and "第 " in result.stdout
    refused = rag(data_dir, "ask", "深圳市南山区是怎样开展楼宇党建的？", "--llm", "none", "--json")
    payload = json.loads(refused.stdout)
    assert payload["refused"] is True
    assert payload["answer"].startswith("资料中没有找到关于深圳市南山区的相关内容")
    bad = rag(data_dir, "ask", "问题", "--llm", "gpt4")
    assert bad.returncode == 2 and "无法识别的模型设置" in bad.stderr


def test_search_json_contract_and_remove(data_dir, tmp_path):
    result = rag(data_dir, "search", "乐山高新区建立了多少个红色驿站？", "-k", "3", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["query"] == "乐山高新区建立了多少个红色驿站？"
    assert len(payload["results"]) == 3
    first = payload["results"][0]
    assert set(first) == {"source", "title", "regions", "chunk_id", "start", "end", "page", "score", "text"}
    assert first["source"] == "003_cb9038ba9ea812d0.txt" and "四川省乐山市" in first["regions"]
    assert 0 < first["score"] <= 1 and first["end"] - first["start"] == len(first["text"])

    removed = rag(data_dir, "remove", "003_cb9038ba9ea812d0.txt", "没有这个文件.txt")
    assert removed.returncode == 1
    assert "已移除 003_cb9038ba9ea812d0.txt" in removed.stdout
    assert "知识库中没有 没有这个文件.txt" in removed.stderr
    after = rag(data_dir, "search", "乐山 红色驿站", "--json")
    assert all(r["source"] != "003_cb9038ba9ea812d0.txt" for r in json.loads(after.stdout)["results"])
    check = rag(data_dir, "check")
    assert check.returncode == 0 and "检查通过" in check.stdout


def test_bad_file_in_a_batch_fails_clearly(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "好文章.txt").write_text("上饶经开区推动非公企业党建工作，建立党建工作台账。", "utf-8")
    (folder / "坏文件.txt").write_bytes(bytes(range(256)) * 8)
    result = rag(tmp_path / "data", "ingest", str(folder))
    assert result.returncode == 1
    assert "坏文件.txt：看起来是二进制文件，不是文本" in result.stderr
    assert "新增 1" in result.stdout and "失败 1" in result.stdout


def test_unknown_region_and_empty_base_messages(tmp_path):
    empty = rag(tmp_path, "sources")
    assert empty.returncode == 0 and "知识库为空" in empty.stdout
    bad = rag(tmp_path, "search", "党建", "--region", "火星")
    assert bad.returncode == 2 and "无法识别地区“火星”" in bad.stderr


def test_invalid_setting_is_reported_in_chinese(tmp_path):
    result = rag(tmp_path, "sources", env={"RAG_CHUNK_TOKENS": "很多"}, timeout_s=120)
    assert result.returncode == 2
    assert "配置错误：RAG_CHUNK_TOKENS" in result.stderr and "Traceback" not in result.stderr


def test_help_and_usage_errors_are_in_chinese(tmp_path):
    helped = rag(tmp_path, "search", "-h")
    assert helped.returncode == 0
    assert helped.stdout.startswith("用法：rag search")
    assert "选项" in helped.stdout and "显示帮助并退出" in helped.stdout
    wrong = rag(tmp_path, "search")
    assert wrong.returncode == 2 and "错误：" in wrong.stderr and "rag search -h" in wrong.stderr


def test_serve_refuses_a_public_address_without_a_password(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_UI_AUTH", raising=False)
    result = rag(tmp_path, "serve", "--host", "0.0.0.0", "--port", "1")
    assert result.returncode != 0
    assert "RAG_UI_AUTH" in result.stderr and "0.0.0.0" in result.stderr
