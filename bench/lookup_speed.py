"""Prompt-lookup speculative decoding of the local model: the same questions with it off and on.

    python bench/lookup_speed.py [--model 1.5b] [--questions eval/gold/sample_gold.jsonl] [--limit N]

Runs every question of the set (refused ones too) through the real chain (`rag.chain.ask`, the sample knowledge base
at RAG_DATA_DIR) twice in a row, once on a llama.cpp server without prompt lookup and once on one with
RAG_LLM_LOOKUP_NGRAM / RAG_LLM_LOOKUP_DRAFT (the defaults unless set), so that both meet the machine in
the same state. Prints per question the two finished times and whether the answer text is the same, then
per kind (a by-place answer of cross-case questions, one-thing questions) the median times and their ratio.
Both servers stay loaded (two copies of the weights); only one generates at a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.chain import ask  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.knowledge import KnowledgeBase  # noqa: E402
from rag.llm import make_chat_model, parse_llm  # noqa: E402
from rag.retrieval import is_cross_case  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="1.5b", help="local model alias or file name (default 1.5b)")
    parser.add_argument("--questions", default=str(ROOT / "eval/gold/sample_gold.jsonl"))
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    args = parser.parse_args()
    settings = Settings()
    if settings.llm_lookup_ngram == 0:
        raise SystemExit("RAG_LLM_LOOKUP_NGRAM is 0: nothing to compare")
    off = settings.model_copy(update={"llm_lookup_ngram": 0})
    spec = f"local:{args.model}"
    models = {name: make_chat_model(parse_llm(spec, s), s) for name, s in (("off", off), ("on", settings))}
    kb = KnowledgeBase(settings)
    kb.open()
    rows = [json.loads(line) for line in Path(args.questions).read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [r["user_input"] for r in rows]
    questions = questions[:args.limit] if args.limit else questions
    for model in models.values():  # load both servers before timing anything
        ask(kb, questions[0], llm=spec, chat_model=model)
    times: dict[tuple[str, str], list[float]] = {}
    same = 0
    print(f"prompt lookup n-gram {settings.llm_lookup_ngram}, draft {settings.llm_lookup_draft}; model {spec}")
    for q in questions:
        texts, secs = {}, {}
        for name, model in models.items():
            start = time.perf_counter()
            answer = ask(kb, q, llm=spec, chat_model=model)
            secs[name], texts[name] = time.perf_counter() - start, answer.text
        kind = "cross-case" if is_cross_case(answer.standalone_question or q) else "one-thing"
        for name in models:
            times.setdefault((kind, name), []).append(secs[name])
        alike = texts["off"] == texts["on"]
        same += alike
        flag = "same" if alike else "DIFFERENT"
        print(f"{secs['off']:6.1f} s {secs['on']:6.1f} s  {flag:9}  {kind:10}  {q}")
    print(f"\nsame answer text: {same}/{len(questions)}")
    for kind in ("cross-case", "one-thing"):
        if (kind, "off") in times:
            a, b = statistics.median(times[kind, "off"]), statistics.median(times[kind, "on"])
            total_a, total_b = sum(times[kind, "off"]), sum(times[kind, "on"])
            print(f"{kind:10} ({len(times[kind, 'off'])} q): median {a:.1f} s → {b:.1f} s (×{b / a:.2f}); "
                  f"total {total_a:.0f} s → {total_b:.0f} s (×{total_b / total_a:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
