"""End-to-end: the real `rag serve` app driven in headless Debian Chromium through Playwright.

One app process serves the module, on 127.0.0.1 with a password (RAG_UI_AUTH),
the sample articles ingested, `--llm none` as the default mode and the 0.5B
model behind the "本地模型" switch. Every request that leaves the app is
aborted and must not happen.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from tests.browser import ask, launch_chromium, log_in, new_context, running_app
from tests.conftest import ROOT, make_settings

USER, PASSWORD = "tester", "secret-pass-123"
ARTIFACTS = ROOT / "tests" / "artifacts"
NEW_ARTICLE = ("青松县推进红色驿站建设\n青松县委组织部推行“红色驿站”计划，全县共建成红色驿站316个，"
               "为快递员、外卖骑手提供休息和学习场所。\n")
XSS_ARTICLE = ("白桦镇党建工作简报\n白桦镇党委设立“白桦书屋”<script>window.__xss='script'</script>"
               "<img src=x onerror=\"window.__xss='img'\">，[点此查看](javascript:window.__xss='link') "
               "${window.__xss='template'} {{constructor.constructor('window.__xss=1')()}}"
               "共组织党员学习活动45场。\n")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, embeddings):
    from ingest.pipeline import ingest_paths
    from rag.data import sample_dir
    from rag.knowledge import KnowledgeBase

    data = tmp_path_factory.mktemp("ui-data")
    assert ingest_paths(KnowledgeBase(make_settings(data), embeddings=embeddings), [sample_dir()]).count("added") == 5
    env = {"RAG_UI_AUTH": f"{USER}:{PASSWORD}", "RAG_LOCAL_MODEL": "0.5b", "RAG_MAX_FILE_MB": "1",
           "RAG_TORCH_THREADS": "1", "GRADIO_ANALYTICS_ENABLED": "True"}  # the app must turn analytics off itself
    with running_app(data, env, ["--llm", "none"]) as url:
        yield url, data


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    url, _ = app_url
    outside: list[str] = []
    context = new_context(browser, url, outside, accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, url, USER, PASSWORD)
    page.locator("#question textarea").wait_for(timeout=60_000)
    yield page
    context.close()
    assert outside == [], f"the page tried to reach the network: {outside}"
    assert dialogs == [], f"a document ran code: {dialogs}"


def test_wrong_password_is_refused(browser, app_url):
    url, _ = app_url
    context = new_context(browser, url, [])
    page = context.new_page()
    with page.expect_response(lambda r: r.request.method == "POST" and "/login" in r.url) as login:
        log_in(page, url, USER, "wrong-password")
    assert login.value.status in (400, 401, 403)  # the server's answer, not a timer
    assert page.locator("#question").count() == 0
    assert page.get_by_role("button", name="登录").is_visible()
    context.close()


def test_the_api_of_a_local_app_without_keys_answers_the_openai_client_whatever_key_it_sends(app_url):
    """The app as the README's first command starts it: on 127.0.0.1, no RAG_API_KEYS. The openai package must
    send an api_key; the README's example passes "…". It gets an answer whose references are the article text at
    their offsets; uploading still needs keys configured on the server."""
    import httpx
    from openai import OpenAI

    from rag.knowledge import KnowledgeBase

    url, data = app_url
    client = OpenAI(base_url=f"{url.rstrip('/')}/v1", api_key="any-key-the-user-typed", timeout=120)
    reply = client.chat.completions.create(model="dangjian-evidence",
                                           messages=[{"role": "user", "content": "乐山市选派了多少名党建指导员？"}])
    message = reply.choices[0].message
    kb = KnowledgeBase(make_settings(data))
    refs = message.model_extra["references"]
    assert "807" in message.content and refs, message.content
    assert all(kb.document(r["source"]).text[r["start"]:r["end"]] == r["quote"] for r in refs)
    upload = httpx.post(f"{url.rstrip('/')}/api/documents", headers={"Authorization": "Bearer anything"},
                        files={"file": ("a.txt", "党建".encode())}, timeout=60)
    assert upload.status_code == 401 and upload.json()["error"]["code"] == "keys_not_configured"


def test_answer_with_evidence_and_clickable_citation(page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    turn = ask(page, "其他地方是怎么选派党建指导员的？")
    assert turn.locator(".ev").count() >= 3
    assert "807名" in turn.locator(".answer").inner_text()
    first = turn.locator(".ev").first
    assert re.search(r"\[1\] \d{3}_\w+\.txt 《.+》", first.locator(".meta").inner_text())
    viewer = first.locator("details.viewer")
    assert viewer.get_attribute("open") is None
    joins: list[str] = []
    page.on("request", lambda r: joins.append(r.url) if "/queue/join" in r.url else None)
    turn.locator("a.cite").first.click()
    span = first.locator("mark.span")
    span.wait_for(state="visible")
    assert viewer.get_attribute("open") is not None
    assert span.inner_text() == first.locator("blockquote").inner_text()
    page.wait_for_function("(el) => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= "
                           "window.innerHeight; }", arg=span.element_handle(), timeout=5000)  # scrolled into view
    assert joins == [], "a citation click must stay in the browser (a server round trip re-renders the chat)"
    page.screenshot(path=str(ARTIFACTS / "chat_answer.png"), full_page=True)


def test_follow_up_uses_the_conversation_and_export_downloads_markdown(page):
    ask(page, "自贡选派了多少名党建指导员？")
    turn = ask(page, "那乐山呢？")
    assert "乐山" in turn.locator(".ev").first.locator(".meta").inner_text()
    with page.expect_download() as download:
        page.click("#export-md")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# 那乐山呢？") and "807名" in text and "## 来源" in text


def test_cross_place_question_shows_the_case_table_chips_sources_and_exports(page):
    from docx import Document as DocxDocument
    from openpyxl import load_workbook

    turn = ask(page, "其他地方是怎么选派党建指导员的？")
    table = turn.locator(".cases")
    assert table.locator(".cases-head").inner_text().startswith("资料中共有 5 篇文章涉及党建指导员")
    rows = table.locator("tr.case")
    assert rows.count() == 5
    places = [rows.nth(i).locator("td").first.inner_text() for i in range(5)]
    table.locator("button.chip", has_text="四川 3").click()
    visible = table.locator("tr.case:visible")
    assert visible.count() == 3
    assert all(visible.nth(i).locator("td").first.inner_text().startswith("四川") for i in range(3))
    table.locator("button.chip", has_text="全部").click()
    assert table.locator("tr.case:visible").count() == 5
    table.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat_cases.png"))
    first = rows.first
    first.locator("details.case-viewer summary").click()
    mark = first.locator("details.case-viewer mark.span")
    mark.scroll_into_view_if_needed()
    assert mark.is_visible() and mark.inner_text() in first.inner_text()
    with page.expect_download() as download:
        page.click("#export-cases-docx")
    doc = DocxDocument(download.value.path())
    word_rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert word_rows[0] == ["地区", "单位", "主要做法", "成效", "时间", "来源"]
    assert [r[0] for r in word_rows[1:]] == places
    with page.expect_download() as download:
        page.click("#export-cases-xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active  # the temp path has no .xlsx
    excel_rows = [[c or "" for c in r] for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert [r[0] for r in excel_rows] == places and [r[2] for r in excel_rows] == [r[2] for r in word_rows[1:]]


def test_lesson_tab_previews_a_pack_and_offers_its_three_files(page):
    from docx import Document as DocxDocument
    from pptx import Presentation

    page.get_by_role("tab", name="备课").click()
    page.fill("#lesson-topic textarea", "党建指导员")
    page.click("#lesson-build")
    preview = page.locator("#lesson-preview")
    preview.get_by_text("随堂测验").wait_for(timeout=60_000)
    assert "资料中共有 5 篇文章涉及党建指导员" in preview.inner_text() and "答案与依据" in preview.inner_text()
    downloads = {}
    for elem, suffix in (("#lesson-docx", ".docx"), ("#lesson-pptx", ".pptx"), ("#lesson-md", ".md")):
        with page.expect_download() as download:
            page.click(elem)
        assert download.value.suggested_filename.endswith(suffix)
        downloads[suffix] = download.value.path()
    assert DocxDocument(downloads[".docx"]).tables[0].rows[0].cells[0].text == "地区"
    assert len(Presentation(downloads[".pptx"]).slides) >= 8
    assert Path(downloads[".md"]).read_text("utf-8").startswith("# 备课包：党建指导员")


def test_region_filter_narrows_retrieval(page):
    page.locator("#region input").click()
    page.get_by_role("option", name="江西省上饶市").click()
    turn = ask(page, "怎样给非公企业选派党建指导员？")
    metas = turn.locator(".ev .meta").all_inner_texts()
    assert metas and all("江西省上饶市" in m for m in metas)


def test_feedback_is_appended_to_the_data_folder(page, app_url):
    _, data = app_url
    path = data / "feedback.jsonl"
    before = len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0
    turn = ask(page, "乐山市选派了多少名党建指导员？")
    turn.locator("button.vote[data-vote='up']").click()
    page.locator("#chat .turn .foot", has_text="已记录反馈").first.wait_for()
    rows = path.read_text(encoding="utf-8").splitlines()
    assert len(rows) == before + 1
    record = json.loads(rows[-1])
    assert record["vote"] == "up" and record["question"] == "乐山市选派了多少名党建指导员？" and record["citations"]


def _upload(page, files: list[Path]) -> str:
    page.get_by_role("tab", name="知识库").click()
    page.set_input_files("#upload input[type=file]", [str(f) for f in files])
    page.locator("#upload").get_by_text(files[-1].stem).first.wait_for()  # shown as stem + suffix
    page.click("#import")
    page.locator("#kb-message", has_text="处理了").wait_for(timeout=120_000)
    return page.locator("#import-result").inner_text()


def test_upload_answer_delete_and_limits(page, tmp_path):
    article = tmp_path / "青松县红色驿站.txt"
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    exe = tmp_path / "程序.exe"
    exe.write_bytes(b"MZ" * 100)
    big = tmp_path / "长文.txt"
    big.write_text("党建" * 300_000, encoding="utf-8")  # 1.7 MB; the app runs with RAG_MAX_FILE_MB=1
    result = _upload(page, [exe, big, article])
    assert "程序.exe：不支持的文件类型" in result and "长文.txt：文件大小 1.7 MB，超过 1 MB 上限" in result
    assert "新增" in result
    assert "青松县红色驿站.txt" in page.locator("#documents").inner_text()
    page.get_by_role("tab", name="问答").click()
    turn = ask(page, "青松县建成了多少个红色驿站？")
    assert "316" in turn.locator(".answer").inner_text()
    assert "青松县红色驿站.txt" in turn.locator(".ev .meta").first.inner_text()

    page.get_by_role("tab", name="知识库").click()
    page.locator("#delete-pick input").click()
    page.get_by_role("option", name=re.compile("青松县红色驿站.txt")).click()
    page.click("#delete")
    page.locator("#kb-message", has_text="已删除：青松县红色驿站.txt").wait_for()
    assert "青松县红色驿站.txt" not in page.locator("#documents").inner_text()
    page.get_by_role("tab", name="问答").click()
    turn = ask(page, "青松县建成了多少个红色驿站？")
    assert "青松县红色驿站.txt" not in turn.inner_text()


def test_hostile_document_renders_as_text(page, tmp_path):
    article = tmp_path / "白桦镇简报.txt"
    article.write_text(XSS_ARTICLE, encoding="utf-8")
    assert "新增" in _upload(page, [article])
    page.get_by_role("tab", name="问答").click()
    turn = ask(page, "白桦镇组织了多少场党员学习活动？")
    first = turn.locator(".ev").first
    turn.locator("a.cite").first.click()
    first.locator("mark.span").wait_for(state="visible")
    shown = first.inner_text()
    assert "<img src=x onerror=" in shown and "<script>" in shown
    assert turn.locator("img, script, a[href^='javascript']").count() == 0
    assert page.evaluate("() => window.__xss") is None


SCANNED_PAGES = ("红杉镇党建工作简报\n红杉镇党委推行“支部建在产业链上”，在茶叶、竹编两条产业链上建立党支部5个，"
                 "带动农户增收。红杉镇还组织党员开展政策宣讲，覆盖全镇各村。",
                 "红杉镇党委推出党员先锋行动。\n全镇共设立党员先锋岗38个，由党员带头承担急难险重任务。")


def test_scanned_pdf_upload_cites_its_page_and_shows_that_page(page, tmp_path):
    from tests.scans import render_pages, scanned_pdf

    images = [render_pages(text, size=(1240, 700))[0].image for text in SCANNED_PAGES]
    pdf = scanned_pdf(images, tmp_path / "红杉镇简报扫描件.pdf")
    result = _upload(page, [pdf])
    assert "新增" in result, result
    assert "OCR 识别" in page.locator("#documents").inner_text()
    page.get_by_role("tab", name="问答").click()
    turn = ask(page, "红杉镇共设立了多少个党员先锋岗？")
    first = turn.locator(".ev").first
    meta = first.locator(".meta").inner_text()
    assert "红杉镇简报扫描件.pdf" in meta and "第 2 页" in meta and "OCR 识别" in meta, meta
    assert "38个" in first.locator("blockquote").inner_text()
    turn.locator("a.cite").first.click()
    span = first.locator("mark.span")
    span.wait_for(state="visible")
    viewer = first.locator("details.viewer")
    assert "查看第 2 页原文" in viewer.locator("summary").inner_text()
    article = viewer.locator(".article").inner_text()
    assert "先锋岗" in article and "茶叶" not in article  # the quote's page, not the whole document
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat_scanned_page.png"), full_page=True)


def test_local_model_streams_an_answer(page):
    page.get_by_label(re.compile("本地模型")).check()
    page.fill("#question textarea", "乐山市从机关事业单位选派了多少名党建指导员？")
    page.press("#question textarea", "Enter")
    turn = page.locator("#chat .turn").last
    turn.locator(".ev").first.wait_for(timeout=60_000)
    # streamed text is on screen before the answer is finished (no footer yet)
    page.wait_for_function("() => { const t = [...document.querySelectorAll('#chat .turn')].pop();"
                           " return t.querySelector('.answer') && !t.querySelector('.foot'); }", timeout=120_000)
    turn.locator(".foot").wait_for(timeout=180_000)
    assert "local:" in turn.locator(".foot").inner_text()
    assert turn.locator(".answer").inner_text().strip()
    # the 0.5B answers "807名…[1]"; the clause of its quote it came from is shown apart, verbatim
    clause = turn.locator(".answer .support")
    assert clause.count() == 1, turn.locator(".answer").inner_text()
    words = clause.inner_text().removeprefix("（原文：").removesuffix("）")
    assert "807名党建指导员" in words
    assert any(words in turn.locator(".ev blockquote").nth(i).inner_text()
               for i in range(turn.locator(".ev blockquote").count()))
    page.screenshot(path=str(ARTIFACTS / "chat_local_answer.png"), full_page=True)


def test_follow_up_after_a_refusal_keeps_the_topic_with_the_local_model(page):
    """The chat case of issue 15: after a refused 南山区 question, "那乐山呢？" asks about 乐山's 党建指导员
    (it was answered about 乐山's 党建联盟 when the model rewrote it from whole answer texts)."""
    ask(page, "其他地方是怎么做楼宇党建的？")  # its case table is the slow part with a model; not under test
    refused = ask(page, "深圳市南山区是怎么做党建指导员工作的？")
    assert "资料中没有找到" in refused.locator(".answer").inner_text()
    page.get_by_label(re.compile("本地模型")).check()  # the model is there when the follow-up is rewritten
    turn = ask(page, "那乐山呢？")
    evidence = turn.locator(".ev")
    assert "乐山" in evidence.first.locator(".meta").inner_text()
    quotes = " ".join(evidence.nth(i).locator("blockquote").inner_text() for i in range(evidence.count()))
    assert "党建指导员" in quotes and "807名" in quotes
    assert "local:" in turn.locator(".foot").inner_text()
