"""The evaluation harness: metrics, dataset loaders, runs through the real chain, compare, report, CI gate."""

from __future__ import annotations

import json
import math

import pytest

from eval.compare import compare_runs, write_comparison
from eval.datasets import GOLD_SET, DatasetError, load_dataset
from eval.metrics import (
    bootstrap_ci,
    char_f1,
    cmrc_tokens,
    contains_any,
    exact_match,
    hit_at,
    key_point_recall,
    mrr_at,
    spec_correct,
)
from eval.runner import run_eval
from tests.conftest import ROOT

GOLD = GOLD_SET
GATE = json.loads((ROOT / "eval" / "gate.json").read_text(encoding="utf-8"))


# -- metrics ------------------------------------------------------------------------------------
def test_cmrc_tokens_split_cjk_keep_ascii_words_and_drop_punctuation():
    assert cmrc_tokens("乐山选派807名，ＧＤＰ增长3.5%！") == ["乐", "山", "选", "派", "807", "名", "gdp", "增", "长",
                                                             "3.5"]


def test_char_f1_is_cmrc_longest_common_substring_f1():
    # gold 5 tokens (2 号 拆 解 洞), prediction 8, longest common run 5: P = 5/8, R = 1
    assert char_f1("答案是2号拆解洞", ["2号拆解洞"]) == pytest.approx(2 * (5 / 8) / (5 / 8 + 1))
    assert char_f1("号拆解", ["2号拆解洞"]) == pytest.approx(2 * 1 * (3 / 5) / (1 + 3 / 5))
    assert char_f1("无关内容", ["2号拆解洞"]) == 0.0
    assert char_f1("第二", ["第一", "第二"]) == 1.0  # best over references
    assert exact_match("第二。", ["第二"]) and not exact_match("排名第二", ["第二"])


def test_contains_and_rgb_spec_normalize_width_and_spaces():
    assert contains_any("结果为ＡＢＣ １２３", ["abc123"])
    assert not contains_any("结果", ["abc"])
    spec = [["洪金宝"], ["许鞍华", "Ann Hui"]]
    assert spec_correct("导演有洪金宝和ANN HUI等", spec)
    assert not spec_correct("导演有洪金宝", spec)
    assert not spec_correct("任何回答", [])
    assert key_point_recall("807名 和 72名", ["807名", "72名", "77名"]) == pytest.approx(2 / 3)


def test_document_ranking_metrics():
    ranked = ["b", "a", "c"]
    assert not hit_at(ranked, {"a"}, 1) and hit_at(ranked, {"a"}, 5)
    assert mrr_at(ranked, {"a"}) == 0.5 and mrr_at(ranked, {"z"}) == 0.0
    assert mrr_at(["x"] * 10 + ["a"], {"a"}, 10) == 0.0


def test_bootstrap_interval_is_deterministic_and_brackets_the_mean():
    values = [1.0] * 30 + [0.0] * 10
    mean, low, high = bootstrap_ci(values)
    assert mean == 0.75 and low < mean < high and (low, high) == bootstrap_ci(values)[1:]
    assert bootstrap_ci([1.0]) == (1.0, 1.0, 1.0)
    assert all(math.isnan(x) for x in bootstrap_ci([]))


# -- datasets -----------------------------------------------------------------------------------
def test_gold_file_and_shared_folders_load(shared):
    gold = load_dataset(GOLD)
    assert gold.docs_dir is None and len(gold.items) == 75
    assert set(gold.kinds) == {"fact", "how", "multi", "unanswerable"}
    assert gold.items[0].sources == ("000_bf203c546cd10514",) and gold.items[0].key_points
    crud = load_dataset(shared / "evalsets" / "crud_news_zh")
    assert len(crud.items) == 55 and crud.docs_dir is not None and all(i.answerable for i in crud.items)
    rgb = load_dataset(shared / "evalsets" / "rgb_zh")
    assert len(rgb.items) == 59 and sum(not i.answerable for i in rgb.items) == 15
    directors = next(i for i in rgb.items if i.id == "rgbzh-114")
    assert len(directors.spec) == 7 and directors.sources[0].startswith("rgbzh-")


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "不是合法的 JSON"),
    ('{"answer": "x"}', "缺少问题"),
    ('{"question": "问？", "answerable": "yes", "answer": "x"}', "answerable 应为 true 或 false"),
    ('{"question": "问？"}', "缺少参考答案"),
    ('{"question": "问？", "answer": "x", "answer_spec": "x"}', "answer_spec 应为列表"),
])
def test_malformed_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "set.jsonl"
    path.write_text('{"question": "好问题？", "answer": "好"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=f"set.jsonl 第 2 行：.*{message}"):
        load_dataset(path)


def test_folder_without_docs_and_missing_path_are_refused(tmp_path):
    (tmp_path / "qa.dev.jsonl").write_text('{"question": "问？", "answer": "答"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="docs/"):
        load_dataset(tmp_path)
    with pytest.raises(DatasetError, match="不存在"):
        load_dataset(tmp_path / "nope.jsonl")


# -- runs through the real chain: the CI gate, compare, the report ---------------------------
@pytest.fixture(scope="module")
def gold_run(sample_kb, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-gold-none")
    summary = run_eval(load_dataset(ROOT / GATE["dataset"]), sample_kb, out, llm=GATE["llm"])
    return out, summary


def test_gate_gold_set_meets_the_recorded_thresholds(gold_run):
    _, summary = gold_run
    overall = summary["overall"]
    low = {name: overall[name]["mean"] for name, floor in GATE["min"].items() if overall[name]["mean"] < floor}
    high = {name: overall[name]["mean"] for name, cap in GATE["max"].items() if overall[name]["mean"] > cap}
    assert not low and not high, f"below the gate: {low}; above the gate: {high} (eval/gate.json)"


def test_gate_the_local_model_is_not_below_the_evidence_on_the_gate_subset(sample_kb, tmp_path):
    """The real 0.5B through the whole chain on the gate's subset of the gold set (issue 15)."""
    gate = GATE["local_model"]
    subset = load_dataset(ROOT / GATE["dataset"]).every_answerable(gate["every_answerable"])
    assert len(subset.items) >= 20 and all(i.answerable for i in subset.items)
    scores = {llm: run_eval(subset, sample_kb, tmp_path / llm.replace(":", "_"), llm=llm)["overall"]
              for llm in (gate["not_below_llm"], gate["llm"])}
    model, evidence = (scores[llm][gate["metric"]]["mean"] for llm in (gate["llm"], gate["not_below_llm"]))
    print(f"gate subset ({len(subset.items)}): {gate['llm']} {model:.3f}, {gate['not_below_llm']} {evidence:.3f}")
    assert model >= evidence, f"{gate['llm']} {gate['metric']} {model:.3f} < evidence only {evidence:.3f}"


def test_run_writes_results_summary_and_report(gold_run):
    out, summary = gold_run
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 75 and {"question", "reference", "answer", "refused", "citations", "retrieved_sources",
                                "metrics", "timings_ms"} <= set(rows[0])
    assert set(summary["by_kind"]) == {"fact", "how", "multi", "unanswerable"}
    unanswerable = summary["by_kind"]["unanswerable"]
    assert "rejection_rate" in unanswerable and "accuracy" not in unanswerable
    low, high = summary["overall"]["key_facts"]["ci95"]
    assert low <= summary["overall"]["key_facts"]["mean"] <= high
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["overall"]["hit@1"]["n"] == 61
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('<tr data-kind="') == 75 and "<svg" in page and "http" not in page.split("<body>")[0]


def test_compare_reports_deltas_and_flips(gold_run, sample_kb, tmp_path):
    out_a, _ = gold_run
    out_b = tmp_path / "k1"
    run_eval(load_dataset(GOLD), sample_kb, out_b, llm="none", k=1)
    result = compare_runs(out_a, out_b)
    rows_a = {json.loads(x)["id"]: json.loads(x) for x in (out_a / "results.jsonl").read_text("utf-8").splitlines()}
    rows_b = {json.loads(x)["id"]: json.loads(x) for x in (out_b / "results.jsonl").read_text("utf-8").splitlines()}
    changed = [i for i in rows_a if rows_a[i]["metrics"].get("accuracy") != rows_b[i]["metrics"].get("accuracy")
               and rows_a[i]["answerable"]]
    flipped = {f["id"] for f in result["right_to_wrong"] + result["wrong_to_right"]}
    assert set(changed) <= flipped
    assert result["questions"] == 75 and "key_facts" in result["deltas"]
    d = result["deltas"]["key_facts"]
    assert d["delta"] == pytest.approx(d["b"] - d["a"]) and d["ci95"][0] <= d["delta"] <= d["ci95"][1]
    text = write_comparison(result, tmp_path)
    assert "由对变错" in text and (tmp_path / "compare.json").is_file()
    with pytest.raises(DatasetError, match="不是一次评测的输出目录"):
        compare_runs(out_a, tmp_path / "missing")


def test_rows_extend_the_answer_record_and_one_metric_table_drives_summary_and_compare(gold_run):
    from eval.record import METRICS, SCORES, ScoredRow

    out, summary = gold_run
    rows = [ScoredRow.from_json(json.loads(x)) for x in (out / "results.jsonl").read_text("utf-8").splitlines()]
    answer_keys = {"question", "answer", "refused", "llm", "citations", "retrieved", "timings_ms", "evidence",
                   "flagged", "standalone_question", "notice"}  # Answer.to_json()
    assert all(answer_keys <= set(r.to_json()) for r in rows)
    assert all(r.to_json() == json.loads(line) for r, line in
               zip(rows, (out / "results.jsonl").read_text("utf-8").splitlines(), strict=True))
    assert {m.name for m in METRICS} >= set(summary["overall"]) - {"questions"}
    assert {m.name for m in SCORES} >= set(compare_runs(out, out)["deltas"])


def test_a_feedback_file_is_a_dataset_of_its_thumbs_up_answers(sample_kb, tmp_path):
    from rag.chain import ask
    from ui.feedback import append_feedback

    path = tmp_path / "feedback.jsonl"
    good = ask(sample_kb, "乐山市选派了多少名党建指导员？", llm="none")
    bad = ask(sample_kb, "自贡选派了多少名党建指导员？", llm="none")
    refused = ask(sample_kb, "西藏拉萨的楼宇党建是怎么做的？", llm="none")
    assert refused.refused
    append_feedback(path, good, "up")
    append_feedback(path, bad, "down")
    append_feedback(path, refused, "up")
    dataset = load_dataset(path)
    assert [i.answerable for i in dataset.items] == [True, False]  # the 👎 line is not a reference
    item = dataset.items[0]
    assert item.question == good.standalone_question and "807" in item.references[0]
    assert "[1]" not in item.references[0] and item.sources and "807名" in item.key_points
    summary = run_eval(dataset, sample_kb, tmp_path / "run", llm="none")
    overall = summary["overall"]
    assert overall["accuracy"]["mean"] == 1.0 and overall["rejection_rate"]["mean"] == 1.0  # same answers again
    assert overall["hit@1"]["mean"] == 1.0


def test_report_renders_charts_and_filters_in_chromium(gold_run):
    from playwright.sync_api import sync_playwright

    from tests.browser import launch_chromium

    out, _ = gold_run
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 1000})
        outside: list[str] = []
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                   else (outside.append(r.request.url), r.abort()))
        page.goto((out / "report.html").as_uri())
        assert page.locator("svg rect").count() > 10
        assert page.locator("#items tbody tr:visible").count() == 75
        page.check("#f-wrong")
        wrong = page.locator("#items tbody tr:visible").count()
        assert 0 < wrong < 75
        page.select_option("#f-kind", "unanswerable")
        assert page.locator("#items tbody tr:visible").count() <= 14
        page.uncheck("#f-wrong")
        page.select_option("#f-kind", "")
        page.evaluate("window.scrollTo(0, 0)")
        (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "tests" / "artifacts" / "eval_report.png"))
        browser.close()
        assert outside == []


def test_cli_eval_on_a_folder_dataset_builds_its_own_knowledge_base(tmp_path):
    from tests.test_cli import rag

    folder = tmp_path / "mini"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "doc-a.txt").write_text("青松县红色驿站\n青松县共建成红色驿站316个。", encoding="utf-8")
    (folder / "docs" / "doc-b.txt").write_text("白桦镇书屋\n白桦镇组织党员学习活动45场。", encoding="utf-8")
    (folder / "qa.dev.jsonl").write_text(
        '{"id": "q1", "question": "青松县建成了多少个红色驿站？", "answer": "316个", "source_doc_ids": ["doc-a"]}\n'
        '{"id": "q2", "question": "白桦镇组织了多少场学习活动？", "answer": "45场", "answer_aliases": ["45"],'
        ' "source_doc_ids": ["doc-b"]}\n', encoding="utf-8")
    out = tmp_path / "out"
    result = rag(tmp_path / "data", "eval", str(folder), "--llm", "none", "--out", str(out),
                 "--kb-cache", str(tmp_path / "kb-cache"))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["accuracy"]["mean"] == 1.0 and summary["overall"]["hit@1"]["mean"] == 1.0
    assert "accuracy" in result.stdout and (out / "report.html").is_file()
    bad = rag(tmp_path / "data", "eval", "compare", str(out))
    assert bad.returncode != 0 and "rag eval compare" in bad.stderr


def test_cli_eval_of_a_question_file_over_a_docs_folder_scores_every_needed_source(tmp_path):
    """``--docs`` pairs a question file with documents; a multi-part item must cite each part's article."""
    from tests.test_cli import rag

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "doc-a.txt").write_text("青松县红色驿站\n青松县委组织部推行计划，全县共建成红色驿站316个。",
                                    encoding="utf-8")
    (docs / "doc-b.txt").write_text("白桦镇红色驿站\n白桦镇党委推行计划，全镇共建成红色驿站45个。", encoding="utf-8")
    questions = tmp_path / "multi.jsonl"
    questions.write_text(
        '{"id": "m1", "user_input": "青松县和白桦镇分别建成了多少个红色驿站？", "reference": "316个；45个",'
        ' "answer_spec": [["316个"], ["45个"]], "sources": ["doc-a", "doc-b"], "kind": "multi_part"}\n',
        encoding="utf-8")
    out = tmp_path / "out"
    result = rag(tmp_path / "data", "eval", str(questions), "--docs", str(docs), "--llm", "none", "--out", str(out),
                 "--kb-cache", str(tmp_path / "kb-cache"))
    assert result.returncode == 0, result.stderr
    row = json.loads((out / "results.jsonl").read_text(encoding="utf-8"))
    assert row["parts"] == ["青松县建成了多少个红色驿站？", "白桦镇建成了多少个红色驿站？"]
    assert row["metrics"]["accuracy"] == 1.0 and row["metrics"]["cites_every_source"] == 1.0
    assert row["metrics"]["answer_in_quotes"] == 1.0  # each part's quote holds its figure
    missing = rag(tmp_path / "data", "eval", str(questions), "--docs", str(tmp_path / "nope"), "--llm", "none")
    assert missing.returncode != 0 and "文档目录不存在" in missing.stderr


def test_every_needed_source_is_scored_only_for_multi_document_items():
    from eval.datasets import EvalItem
    from eval.runner import score
    from rag.types import Answer, Citation

    cite = Citation(n=1, source="doc-a.txt", title="t", regions=(), quote="316个", start=0, end=4)
    answer = Answer(question="q", text="316个[1]", citations=(cite,))
    multi = EvalItem(id="m", question="q", references=("316个",), sources=("doc-a", "doc-b"), kind="multi_part")
    single = EvalItem(id="s", question="q", references=("316个",), sources=("doc-a", "doc-b"), kind="fact")
    assert score(multi, answer, ["doc-a"], lambda s: "316个")["cites_every_source"] == 0.0
    assert "cites_every_source" not in score(single, answer, ["doc-a"], lambda s: "316个")


def test_a_part_held_by_several_documents_is_cited_when_any_one_of_them_is():
    from eval.datasets import DatasetError, parse_item
    from eval.runner import score
    from rag.types import Answer, Citation

    row = {"id": "m", "question": "甲和乙分别是多少？", "answer": "1个；2个", "kind": "cross_doc",
           "source_doc_ids": ["a1", "a2", "b1", "b2"], "part_sources": [["a1", "a2"], ["b1", "b2"]]}
    item = parse_item(row, "multi.jsonl:1")
    assert item.needed_sources == (("a1", "a2"), ("b1", "b2"))

    def cited(*sources: str) -> Answer:
        cites = tuple(Citation(n=i, source=f"{s}.txt", title="t", regions=(), quote="1个", start=0, end=2)
                      for i, s in enumerate(sources, 1))
        return Answer(question="q", text="1个[1]", citations=cites)

    assert score(item, cited("a2", "b1"), ["a2"], lambda s: "1个")["cites_every_source"] == 1.0
    assert score(item, cited("a1", "a2"), ["a1"], lambda s: "1个")["cites_every_source"] == 0.0  # part 乙 uncited
    assert "cites_every_source" not in score(parse_item({**row, "part_sources": None}, "w"), cited("a1"), [],
                                             lambda s: "1个")  # cross_doc without parts: not scored
    with pytest.raises(DatasetError, match="part_sources"):
        parse_item({**row, "part_sources": "a1"}, "multi.jsonl:2")


def test_a_model_answer_is_also_scored_on_its_own_words_without_the_added_clause():
    from eval.datasets import EvalItem
    from eval.runner import score
    from rag.types import Answer, Citation

    quote = "中泰信大厦楼宇党委目前管理着8个企业党支部和1个联合党支部，形成了组织架构。"
    cite = Citation(n=1, source="doc-a.txt", title="t", regions=(), quote=quote, start=0, end=len(quote))
    text = "8个企业党支部（原文：中泰信大厦楼宇党委目前管理着8个企业党支部和1个联合党支部）[1]"
    item = EvalItem(id="g", question="q", references=("8个企业党支部和1个联合党支部",), sources=("doc-a",))
    by_model = score(item, Answer(question="q", text=text, citations=(cite,), answered_by="model"), ["doc-a"],
                     lambda s: quote)
    assert by_model["accuracy"] == 1.0 and by_model["accuracy_own_words"] == 0.0
    by_evidence = score(item, Answer(question="q", text=f"{quote}[1]", citations=(cite,), answered_by="evidence"),
                        ["doc-a"], lambda s: quote)
    assert by_evidence["accuracy"] == 1.0 and "accuracy_own_words" not in by_evidence


def test_the_quotes_shown_are_scored_for_holding_the_answer_whatever_the_answer_says():
    """``answer_in_quotes`` tells a model's miss (the answer was in view) from a miss of retrieval and quote selection:
    read together, with the articles' own footnote marks ("45[46]个") taken out as from an answer; a refusal is scored
    on the related quotes it showed; an unanswerable question is not scored."""
    from eval.datasets import EvalItem
    from eval.runner import score
    from rag.types import Answer, Citation

    def cite(n: int, quote: str) -> Citation:
        return Citation(n=n, source=f"doc-{n}.txt", title="t", regions=(), quote=quote, start=0, end=len(quote))

    both = (cite(1, "青松县共建成红色驿站316个。"), cite(2, "白桦镇共建成红色驿站45[46]个。"))
    item = EvalItem(id="m", question="q", references=("316个；45个",), spec=(("316个",), ("45个",)))
    wrong = score(item, Answer(question="q", text="316个[1]", citations=both[:1], evidence=both,
                               answered_by="model"), [], lambda s: None)
    assert wrong["accuracy"] == 0.0 and wrong["answer_in_quotes"] == 1.0
    refused = score(item, Answer(question="q", text="资料中没有找到", citations=both[:1], refused=True,
                                 evidence=both[:1]), [],
                    lambda s: None)
    assert refused["false_refusal_rate"] == 1.0 and refused["answer_in_quotes"] == 0.0  # 45个 was not shown
    unanswerable = EvalItem(id="u", question="q", references=(), answerable=False)
    shown = Answer(question="q", text="x", citations=(), evidence=both)
    assert "answer_in_quotes" not in score(unanswerable, shown, [], lambda s: None)
