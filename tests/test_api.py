"""The HTTP API through a real `rag serve` on 127.0.0.1, called with the real clients integrators use.

`openai` (non-streaming and streaming), LangChain's `ChatOpenAI`, and `httpx` for Dify's
external-knowledge `/retrieval` (the request and response of Dify's documentation as the
fixture shape), the CLI contracts under `/api`, and documents (upload -> ask -> delete ->
gone). Auth, 401 / 409 / 413 / 422 / 429, and a hostile document whose text must come back
JSON-escaped. Every citation is checked against the stored article text at its offsets.
"""

from __future__ import annotations

import httpx
import pytest

from rag.knowledge import KnowledgeBase
from tests.browser import running_app
from tests.conftest import make_settings
from tests.processes import run_rag

KEY, RATE_KEY = "test-key-0123456789", "rate-key-9876543210"
RATE = 30
LESHAN_Q = "乐山市从机关事业单位选派了多少名党建指导员？"
HOSTILE = "恶意文档.txt"


@pytest.fixture(scope="module")
def api(tmp_path_factory, embeddings):
    from ingest.pipeline import ingest_paths
    from rag.data import sample_dir

    data = tmp_path_factory.mktemp("api-data")
    ingest_paths(KnowledgeBase(make_settings(data), embeddings=embeddings), [sample_dir()])
    env = {"RAG_API_KEYS": f"{KEY},{RATE_KEY}", "RAG_API_RATE_PER_MIN": str(RATE), "RAG_LOCAL_MODEL": "0.5b",
           "RAG_MAX_FILE_MB": "1", "RAG_API_MAX_BODY_KB": "64"}
    with running_app(data, env, ["--llm", "none"]) as url:
        yield url.rstrip("/"), data


def _texts(data):
    kb = KnowledgeBase(make_settings(data))
    return lambda source: kb.document(source).text


def _check_references(refs, text_of):
    assert refs, "an answer from the articles cites them"
    for r in refs:
        assert set(r) == {"n", "source", "title", "regions", "quote", "start", "end", "page", "ocr_confidence"}
        assert text_of(r["source"])[r["start"]:r["end"]] == r["quote"]


def test_openai_client_gets_an_answer_with_checked_references(api):
    from openai import OpenAI

    url, data = api
    client = OpenAI(base_url=f"{url}/v1", api_key=KEY)
    assert [m.id for m in client.models.list()] == ["dangjian-local", "dangjian-local-0.5b", "dangjian-evidence"]
    reply = client.chat.completions.create(model="dangjian-evidence", messages=[{"role": "user", "content": LESHAN_Q}])
    message = reply.choices[0].message
    assert "807" in message.content and reply.choices[0].finish_reason == "stop"
    assert message.model_extra["refused"] is False
    _check_references(message.model_extra["references"], _texts(data))


def test_openai_client_streams_the_local_model_and_a_follow_up(api):
    from openai import OpenAI

    url, data = api
    client = OpenAI(base_url=f"{url}/v1", api_key=KEY, timeout=300)
    history = [{"role": "user", "content": "自贡市是怎么选派党建指导员的？"},
               {"role": "assistant", "content": "自贡市选派党建指导员……"}, {"role": "user", "content": "那乐山呢？"}]
    chunks = list(client.chat.completions.create(model="dangjian-local-0.5b", messages=history, stream=True))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) >= 2, "tokens arrive as they come"
    last = next(c for c in reversed(chunks) if c.choices and "references" in (c.choices[0].delta.model_extra or {}))
    extra = last.choices[0].delta.model_extra
    assert isinstance(extra["refused"], bool) and content.strip(), content
    text_of = _texts(data)
    for r in extra["references"]:  # the 0.5B does not always cite; what it cites must hold
        assert text_of(r["source"])[r["start"]:r["end"]] == r["quote"]
    assert "乐山" in content + "".join(r["quote"] for r in extra["references"]), f"not about 乐山: {content}"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_langchain_chat_openai_works_unchanged(api):
    from langchain_openai import ChatOpenAI

    url, _ = api
    model = ChatOpenAI(base_url=f"{url}/v1", api_key=KEY, model="dangjian-evidence", temperature=0)
    assert "807" in model.invoke(LESHAN_Q).content


def test_dify_retrieval_request_gets_records_and_dify_errors(api):
    url, _ = api
    request = {"knowledge_id": "AAA-BBB-CCC", "query": LESHAN_Q,  # Dify's documented request, our question
               "retrieval_setting": {"top_k": 3, "score_threshold": 0.0}}
    records = httpx.post(f"{url}/retrieval", json=request, headers={"Authorization": f"Bearer {KEY}"}).json()["records"]
    assert 0 < len(records) <= 3 and any("807" in r["content"] for r in records)
    assert all(set(r) == {"content", "score", "title", "metadata"} for r in records)
    only = {**request, "metadata_condition": {"logical_operator": "and", "conditions": [
        {"name": ["region"], "comparison_operator": "contains", "value": "北京"}]}}
    regional = httpx.post(f"{url}/retrieval", json=only).json()["records"]
    assert regional and all(any("北京" in g for g in r["metadata"]["regions"]) for r in regional)
    wrong = httpx.post(f"{url}/retrieval", json=request, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error_code"] == 1002 and "nope" not in wrong.text


def test_cli_contracts_over_http(api):
    url, data = api
    asked = httpx.post(f"{url}/api/ask", json={"question": LESHAN_Q}, timeout=60).json()
    assert asked["question"] == LESHAN_Q and "807" in asked["answer"]
    _check_references(asked["citations"], _texts(data))
    cases = httpx.post(f"{url}/api/cases", json={"question": "各地是怎样选派党建指导员的？"}, timeout=60).json()
    assert cases["matched"] == len(cases["cases"]) >= 3 and cases["by_region"]
    found = httpx.post(f"{url}/api/search", json={"question": LESHAN_Q, "k": 4}).json()
    assert len(found["results"]) == 4 and "timings_ms" in found


def test_documents_upload_ask_delete_and_names_are_not_silently_replaced(api, tmp_path):
    url, _ = api
    auth = {"Authorization": f"Bearer {KEY}"}
    body = "火星市党建工作：火星市委在全市选派了4321名“星火指导员”进驻企业。"
    files = {"file": ("火星党建.txt", body.encode("utf-8"), "text/plain")}
    assert httpx.post(f"{url}/api/documents", files=files).status_code == 401  # writes always need a key
    made = httpx.post(f"{url}/api/documents", files=files, headers=auth, timeout=120)
    assert made.status_code == 201 and made.json()["status"] == "added"
    assert "火星党建.txt" in [d["source"] for d in httpx.get(f"{url}/api/documents").json()["documents"]]
    asked = httpx.post(f"{url}/api/ask", json={"question": "火星市选派了多少名星火指导员？"}, timeout=60).json()
    assert "4321" in asked["answer"] and any(c["source"] == "火星党建.txt" for c in asked["citations"])
    other = {"file": ("火星党建.txt", "完全不同的内容：火星市的另一篇文章。".encode(), "text/plain")}
    clash = httpx.post(f"{url}/api/documents", files=other, headers=auth, timeout=120)
    assert clash.status_code == 409 and "同名" in clash.json()["error"]["message"]
    bad = httpx.post(f"{url}/api/documents", files={"file": ("x.exe", b"MZ", "application/octet-stream")},
                     headers=auth)
    assert bad.status_code == 400 and "x.exe" in bad.json()["error"]["message"]
    replaced = httpx.post(f"{url}/api/documents", files=other, data={"replace": "true"}, headers=auth, timeout=120)
    assert replaced.status_code == 201 and replaced.json()["status"] == "updated"
    assert httpx.delete(f"{url}/api/documents/火星党建.txt", headers=auth).status_code == 200
    assert "火星党建.txt" not in [d["source"] for d in httpx.get(f"{url}/api/documents").json()["documents"]]
    gone = httpx.post(f"{url}/api/ask", json={"question": "火星市选派了多少名星火指导员？"}, timeout=60).json()
    assert "4321" not in gone["answer"]
    assert httpx.delete(f"{url}/api/documents/火星党建.txt", headers=auth).status_code == 404


def test_hostile_document_text_comes_back_json_escaped(api):
    url, _ = api
    auth = {"Authorization": f"Bearer {KEY}"}
    text = '红色驿站党建：<script>alert("x")</script><img src=x onerror=alert(1)> & "引号" 红色驿站选派了55名志愿者。'
    assert httpx.post(f"{url}/api/documents", files={"file": (HOSTILE, text.encode(), "text/plain")},
                      headers=auth, timeout=120).status_code == 201
    raw = httpx.post(f"{url}/api/search", json={"question": "红色驿站选派了多少名志愿者", "k": 3})
    assert raw.headers["content-type"].startswith("application/json")
    assert "<script" not in raw.text and "<img" not in raw.text and "\\u003cscript" in raw.text
    assert any("<script>alert(\"x\")</script>" in r["text"] for r in raw.json()["results"])  # the text is intact
    httpx.delete(f"{url}/api/documents/{HOSTILE}", headers=auth)


def test_bad_requests_get_json_errors(api):
    url, _ = api
    broken = httpx.post(f"{url}/v1/chat/completions", content=b"{not json",
                        headers={"content-type": "application/json"})
    assert broken.status_code == 422 and "请求格式不正确" in broken.json()["error"]["message"]
    unknown = httpx.post(f"{url}/v1/chat/completions", json={"model": "gpt-4", "messages": [{"role": "user",
                                                                                              "content": "你好"}]})
    assert unknown.status_code == 404 and "dangjian-evidence" in unknown.json()["error"]["message"]
    huge = httpx.post(f"{url}/api/ask", json={"question": "党" * 70_000})
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "request_too_large"
    wrong = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer wrong-key"})
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"


def test_rate_limit_per_key_answers_429_with_retry_after(api):
    url, _ = api
    headers = {"Authorization": f"Bearer {RATE_KEY}"}
    with httpx.Client() as client:
        statuses = [client.get(f"{url}/v1/models", headers=headers).status_code for _ in range(RATE + 1)]
        assert statuses[:RATE] == [200] * RATE and statuses[RATE] == 429
        limited = client.get(f"{url}/v1/models", headers=headers)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert client.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_serving_beyond_localhost_needs_api_keys(tmp_path):
    result = run_rag(tmp_path, "serve", "--host", "0.0.0.0",
                     env={"RAG_UI_AUTH": "user:password123", "RAG_API_KEYS": ""})
    assert result.returncode == 2 and "RAG_API_KEYS" in result.stderr
