"""Answer quality and latency on the gold set, per provider (the issue-3 figures).

For each ``--llm`` given, runs every gold question through ``rag.chain.ask``
and prints: share of answerable questions whose answer contains the reference
facts (all key points; at least half for multi-region questions), refusal
rate on unanswerable questions, false-refusal rate on answerable ones, share of
citation quotes equal to the cited article's text at the stated offsets (and
found verbatim in the raw file), median / p95 time to evidence and to the first
and last generated token, and the prompt size in the model's own tokens (the
chat template applied by the local llama.cpp server, counted by its /tokenize).
Per-question rows go to ``--out`` as JSONL.

    python bench/answer_gold.py --llm none --llm local:0.5b --llm local:1.5b [--limit 24]

Uses the knowledge base of the current settings (``rag ingest`` the sample first).
The full evaluation harness with intervals and reports is ``rag eval``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import urllib.request
from pathlib import Path

from eval.metrics import contains_key_facts
from rag.chain import ask
from rag.config import Settings
from rag.knowledge import KnowledgeBase
from rag.llm import parse_llm, settings_server
from rag.models import resolve_chat_model
from rag.prompts import generation_inputs, generation_prompt
from rag.types import Answer


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)] if values else float("nan")


def _post(url: str, key: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as resp:  # 127.0.0.1 only
        return json.loads(resp.read())


def prompt_tokens(kb: KnowledgeBase, llm: str, answer: Answer) -> int | None:
    """Tokens of the prompt the local model read for ``answer`` (None when no model ran)."""
    choice = parse_llm(llm, kb.settings)
    if choice.kind != "local" or "first_token" not in answer.timings_ms:
        return None
    s = kb.settings
    server = settings_server(resolve_chat_model(choice.model, s.models_dir), s)  # the chain's own server
    root = server.base_url[: -len("/v1")]
    prompt = generation_prompt().format_messages(**generation_inputs(answer.evidence, answer.standalone_question))
    roles = {"system": "system", "human": "user"}
    messages = [{"role": roles[m.type], "content": m.content} for m in prompt]
    templated = _post(root + "/apply-template", server.api_key, {"messages": messages})["prompt"]
    return len(_post(root + "/tokenize", server.api_key, {"content": templated})["tokens"])


def run(kb: KnowledgeBase, items: list[dict], llm: str, raw_dir: Path | None) -> list[dict]:
    rows = []
    for item in items:
        a = ask(kb, item["user_input"], llm=llm)
        exact = [kb.document(c.source).text[c.start:c.end] == c.quote for c in a.citations]
        in_raw = [raw_dir is not None and (raw_dir / c.source).is_file()
                  and c.quote in (raw_dir / c.source).read_text("utf-8") for c in a.citations]
        rows.append({
            "id": item["id"], "kind": item["kind"], "answerable": item["answerable"],
            "question": item["user_input"], "answer": a.text, "refused": a.refused,
            "correct": (not a.refused) and contains_key_facts(item, a.text) if item["answerable"] else a.refused,
            "citations": len(a.citations), "exact": sum(exact), "in_raw": sum(in_raw),
            "flagged": len(a.flagged), "notice": a.notice, "timings_ms": a.timings_ms,
            "prompt_tokens": prompt_tokens(kb, llm, a),
        })
    return rows


def summarize(llm: str, rows: list[dict]) -> None:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    cites = sum(r["citations"] for r in rows)
    ev = [r["timings_ms"]["evidence"] for r in rows if "evidence" in r["timings_ms"]]
    ft = [r["timings_ms"]["first_token"] for r in rows if "first_token" in r["timings_ms"]]
    print(f"\n== {llm} ({len(rows)} 题)")
    print(f"可回答题答案含参考事实: {sum(r['correct'] for r in ans)}/{len(ans)} = "
          f"{sum(r['correct'] for r in ans) / len(ans):.1%}")
    print(f"不可回答题拒答率: {sum(r['refused'] for r in una)}/{len(una)}；"
          f"可回答题误拒率: {sum(r['refused'] for r in ans)}/{len(ans)}")
    print(f"引用原文与文章文本逐字一致: {sum(r['exact'] for r in rows)}/{cites}；"
          f"在原始文件中逐字出现: {sum(r['in_raw'] for r in rows)}/{cites}；"
          f"未注明出处的句子: {sum(r['flagged'] for r in rows)}")
    print(f"出现原文摘录用时 中位数 {statistics.median(ev):.0f} ms，p95 {_p95(ev):.0f} ms")
    if ft:
        last = [r["timings_ms"]["generate"] for r in rows if "first_token" in r["timings_ms"]]
        pt = [r["prompt_tokens"] for r in rows if r["prompt_tokens"]]
        print(f"首个生成词用时 中位数 {statistics.median(ft):.0f} ms，p95 {_p95(ft):.0f} ms（{len(ft)} 题调用了模型）")
        print(f"最后一个生成词用时 中位数 {statistics.median(last):.0f} ms，p95 {_p95(last):.0f} ms")
        if pt:
            print(f"提示词长度（模型词元）中位数 {statistics.median(pt):.0f}，p95 {_p95(pt):.0f}，最大 {max(pt)}")
    print(f"降级/提示: {sum(1 for r in rows if r['notice'])} 题")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default="eval/gold/sample_gold.jsonl")
    parser.add_argument("--llm", action="append", default=None)
    parser.add_argument("--raw-dir", default="rag/data/sample", help="folder of the original files")
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--limit", type=int, default=0, help="the first N questions (0 = all)")
    args = parser.parse_args()
    items = [json.loads(line) for line in Path(args.gold).read_text("utf-8").splitlines() if line.strip()]
    items = items[: args.limit or None]
    kb = KnowledgeBase(Settings())
    ask(kb, items[0]["user_input"], llm="none")  # warm-up: embedding model, indexes
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for llm in args.llm or ["none"]:
        if llm != "none":
            ask(kb, items[0]["user_input"], llm=llm)  # warm-up: model load, system-prompt cache
        rows = run(kb, items, llm, Path(args.raw_dir))
        (out / f"answers_{llm.replace(':', '_')}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
        summarize(llm, rows)


if __name__ == "__main__":
    main()
