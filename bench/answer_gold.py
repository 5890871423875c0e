"""Answer quality and latency on the gold set, per provider (the issue-3 figures).

For each ``--llm`` given, runs every gold question through ``rag.chain.ask``
and prints: share of answerable questions whose answer contains the reference
facts (all key points; at least half for multi-region questions), refusal
rate on unanswerable questions, false-refusal rate on answerable ones, share of
citation quotes equal to the cited article's text at the stated offsets (and
found verbatim in the raw file), and median / p95 time to evidence and to first
generated token. Per-question rows go to ``--out`` as JSONL.

    python bench/answer_gold.py --llm none --llm local:0.5b --llm local:1.5b

Uses the knowledge base of the current settings (``rag ingest`` the sample first).
The full evaluation harness with intervals and reports is ``rag eval``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from eval.metrics import contains_key_facts
from rag.chain import ask
from rag.config import Settings
from rag.knowledge import KnowledgeBase


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)] if values else float("nan")


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
        print(f"首个生成词用时 中位数 {statistics.median(ft):.0f} ms，p95 {_p95(ft):.0f} ms（{len(ft)} 题调用了模型）")
    print(f"降级/提示: {sum(1 for r in rows if r['notice'])} 题")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default="eval/gold/sample_gold.jsonl")
    parser.add_argument("--llm", action="append", default=None)
    parser.add_argument("--raw-dir", default="rag/data/sample", help="folder of the original files")
    parser.add_argument("--out", default="bench/out")
    args = parser.parse_args()
    items = [json.loads(line) for line in Path(args.gold).read_text("utf-8").splitlines() if line.strip()]
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
