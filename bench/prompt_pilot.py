"""Prompt pilots on the model alone: re-ask the questions of a `rag eval` run with another prompt.

    python bench/prompt_pilot.py VARIANT OUT.jsonl SET=RUN_DIR[:IDS_FILE]... [--model 1.5b]
    python bench/prompt_pilot.py fewshot /tmp/fs.jsonl gold=bench/out/eval-round3/final-1.5b/gold

Each question of the run (or only the ids listed, comma-separated, in IDS_FILE) is sent to the
local llama.cpp server with the passages the run's model was shown (its first
``RAG_MODEL_EVIDENCE_K`` evidence quotes) and the variant's prompt; the raw text is scored like
`rag eval` scores an answer (a reference contained, marks removed; a refusal for an
unanswerable question). Variants:

* ``plain``: the answer prompt of ``rag.prompts`` (the baseline);
* ``fewshot``: two made-up worked examples as earlier turns (answers in the article's words);
* ``fewshot_neg``: the same with two made-up refusals between them;
* ``retry_top1`` / ``extract_top1``: only the best passage, with the answer prompt or an
  extraction prompt — what a retry after a refusal would see (run it on refused questions).

``judge`` asks, for each shown passage on its own, whether it gives the answer ("是"/"否",
first token only), and records ``p_yes`` per passage: a second judge of the model's refusals,
outside the answer call (run it on the questions the model refused: ``--refused-only``).

With ``--as-chain`` the text is scored as the chain would show it: marks read back and each cited claim given
its supporting clause (``rag.citations.parse_answer``, ``rag.support.add_support``; not the list and part
completions after them). Either way a reference written "A；B" (RGB integration) needs every piece. That is
stricter than ``rag eval``, whose ``answer_spec`` may also list other spellings of a piece: a run's rows carry the
reference, not the spec, so a pilot can score an answer wrong that ``rag eval`` scores right, never the reverse.

With ``--refusal-probability`` only the first token is asked for, with its top 10
log-probabilities, and the record holds ``p_refuse``: the probability that the answer starts
with 资料 (资料中没有找到…), which a threshold could turn into a refusal decision.

A pilot, not an evaluation: no retrieval, no citation checks, no fallbacks; its figures say
whether a prompt is worth building into the chain and measuring with `rag eval compare`.
The examples are written for this script; none comes from an article of any evaluation set.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.compare import load_run  # noqa: E402
from eval.datasets import DatasetError  # noqa: E402
from eval.metrics import contains_any, spec_correct  # noqa: E402
from eval.record import ScoredRow  # noqa: E402
from rag.citations import parse_answer  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.llm import settings_server  # noqa: E402
from rag.models import CHAT_MODEL_ALIASES, resolve_chat_model  # noqa: E402
from rag.prompts import HUMAN_PROMPT, SYSTEM_PROMPT, evidence_block, model_question  # noqa: E402
from rag.refusal import is_refusal  # noqa: E402
from rag.support import add_support  # noqa: E402
from rag.types import Citation  # noqa: E402

ANSWERS = [
    ("[1] 浙江省湖州市：截至今年6月，该区已在商务楼宇中建立党组织36个，"
     "其中单独组建党支部21个、联合党支部15个，覆盖入驻企业400余家。\n"
     "[2] 浙江省湖州市：该区还组织楼宇党员开展志愿服务，参与人数超过1200人次。",
     "该区在商务楼宇中建立了多少个党组织？",
     "截至今年6月，该区在商务楼宇中建立党组织36个，其中单独组建党支部21个、联合党支部15个，覆盖入驻企业400余家[1]。"),
    ("[1] 湖南省岳阳市：该县从县直机关选派45名党员干部担任“党建联络员”，"
     "每周到企业走访一次，帮助企业解决用工、融资等难题80余个。\n"
     "[2] 湖南省岳阳市：2022年，全县规模以上工业增加值增长8.1%。",
     "该县是怎样帮助企业解决难题的？",
     "该县从县直机关选派45名党员干部担任“党建联络员”，每周到企业走访一次，帮助企业解决用工、融资等难题80余个[1]。"),
]
REFUSALS = [
    ("[1] 福建省三明市：该市今年新建“红色驿站”58个，为快递员、外卖骑手提供休息、饮水、充电等服务。",
     "该市为快递员新建了多少个党支部？", "资料中没有找到相关内容"),
    ("[1] 江苏省南通市：2021年，该区从区直机关选派30名党建指导员进驻园区企业，帮助12家企业建立党组织。",
     "该区2021年在园区举办了多少场招聘会？", "资料中没有找到相关内容"),
]
JUDGE_SYSTEM = ("你是严格的审核员。判断资料能否回答问题。资料说的对象、时间、地点必须和问题完全一致；"
                "只是话题相关、或说的是别的对象和年份，都算不能回答。只回答“是”或“否”。")
JUDGE_HUMAN = "资料：\n{context}\n\n问题：{question}\n资料是否直接给出了这个问题的答案？只回答“是”或“否”。"
_MARKS = re.compile(r"\[\d{1,2}\]")  # removed before scoring, as rag eval does (eval.runner)
EXTRACT_SYSTEM = "你是信息抽取助手。只根据给出的原文回答，不使用原文以外的知识。"
EXTRACT_HUMAN = ("原文：\n{context}\n\n问题：{question}\n"
                 "请从原文中原样摘出能回答问题的词句，句末标注编号，如[1]。原文没有问题所问的内容时，只回答“资料中没有找到相关内容”。")


def messages(variant: str, quotes: list[Citation], question: str) -> list[dict[str, str]]:
    if variant == "extract_top1":
        return [{"role": "system", "content": EXTRACT_SYSTEM},
                {"role": "user", "content": EXTRACT_HUMAN.format(context=evidence_block(quotes), question=question)}]
    examples = {"fewshot": ANSWERS, "fewshot_neg": [ANSWERS[0], REFUSALS[0], ANSWERS[1], REFUSALS[1]]}.get(variant, [])
    out = [{"role": "system", "content": SYSTEM_PROMPT}]
    for context, asked, answer in examples:
        out += [{"role": "user", "content": HUMAN_PROMPT.format(context=context, question=asked)},
                {"role": "assistant", "content": answer}]
    out.append({"role": "user", "content": HUMAN_PROMPT.format(context=evidence_block(quotes), question=question)})
    return out


def model_refused(answer: dict) -> bool:
    """The run's model said 资料中没有找到 (a refusal it gave, or one the chain overrode)."""
    return answer.get("fallback") == "refused_against_evidence" or (
        answer.get("answered_by") == "refusal" and "first_token" in answer.get("timings_ms", {}))


def judge(client: object, quote: Citation, question: str) -> float:
    """P("是") / (P("是") + P("否")) for the first token of the judge's reply about one passage."""
    messages = [{"role": "system", "content": JUDGE_SYSTEM},
                {"role": "user", "content": JUDGE_HUMAN.format(context=evidence_block([quote]), question=question)}]
    reply = client.chat.completions.create(model="pilot", messages=messages, temperature=0,  # type: ignore[attr-defined]
                                           max_tokens=1, logprobs=True, top_logprobs=10)
    top = reply.choices[0].logprobs.content[0].top_logprobs
    yes = sum(math.exp(t.logprob) for t in top if t.token.startswith("是"))
    no = sum(math.exp(t.logprob) for t in top if t.token.startswith("否"))
    return round(yes / (yes + no), 3) if yes + no else 0.0


def answers(text: str, reference: tuple[str, ...]) -> bool:
    """``text`` holds the reference: an alias, or every piece of one written "A；B" (RGB integration's answer_spec
    without its alternative spellings, which the run's rows do not carry)."""
    pieces = [ref for ref in reference if "；" in ref]
    if pieces:
        return any(spec_correct(text, [[piece] for piece in ref.split("；")]) for ref in pieces)
    return contains_any(text, reference)


def as_chain(text: str, quotes: list[Citation], question: str) -> str:
    """The model's text with its marks read back and each cited claim's supporting clause, as the chain shows it."""
    shown = {c.n: c.quote for c in quotes}
    return add_support(parse_answer(text, shown, question).text, shown, question)


def rows(spec: str) -> list[tuple[str, ScoredRow]]:
    """``NAME=RUN_DIR[:IDS_FILE]``: the run's rows (only the listed ids), each with the set's name."""
    name, _, where = spec.partition("=")
    run, _, ids_file = where.partition(":")
    ids = set(Path(ids_file).read_text().strip().split(",")) if ids_file else None
    _, found = load_run(Path(run))
    return [(name, r) for r in found.values() if ids is None or r.id in ids]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variant", choices=["plain", "fewshot", "fewshot_neg", "retry_top1", "extract_top1", "judge"])
    ap.add_argument("out", type=Path)
    ap.add_argument("sets", nargs="+", help="NAME=RUN_DIR[:IDS_FILE]")
    ap.add_argument("--model", default="1.5b")
    ap.add_argument("--refusal-probability", action="store_true", help="first token only, with p_refuse")
    ap.add_argument("--refused-only", action="store_true", help="only the questions the run's model refused")
    ap.add_argument("--as-chain", action="store_true", help="score the text with marks and supporting clauses")
    args = ap.parse_args()
    try:
        asked = [row for spec in args.sets for row in rows(spec)]  # before the model loads: a wrong folder fails fast
        if args.refused_only:
            asked = [(name, r) for name, r in asked if model_refused(r.answer)]
    except DatasetError as exc:
        print(exc, file=sys.stderr)
        return 2
    settings = Settings()
    from openai import OpenAI

    server = settings_server(resolve_chat_model(CHAT_MODEL_ALIASES.get(args.model, args.model), settings.models_dir),
                             settings)
    client = OpenAI(base_url=server.base_url, api_key=server.api_key)
    shown = 1 if args.variant.endswith("top1") else settings.model_evidence_k
    call = ({"max_tokens": 1, "logprobs": True, "top_logprobs": 10} if args.refusal_probability
            else {"max_tokens": 300})
    done = []
    with args.out.open("w", encoding="utf-8") as f:
        for name, r in asked:
            quotes = [Citation(**{**c, "regions": tuple(c["regions"])}) for c in r.evidence[:shown]]
            question = model_question(r.answer.get("standalone_question") or r.question)
            start = time.monotonic()
            if args.variant == "judge":
                f.write(json.dumps({"set": name, "id": r.id, "answerable": r.answerable, "question": question,
                                    "p_yes": [judge(client, c, question) for c in quotes]}, ensure_ascii=False) + "\n")
                continue
            reply = client.chat.completions.create(model="pilot", messages=messages(args.variant, quotes, question),
                                                   temperature=0, **call)
            text = reply.choices[0].message.content or ""
            if args.refusal_probability:
                first = reply.choices[0].logprobs.content[0].top_logprobs
                p_refuse = sum(math.exp(t.logprob) for t in first if t.token == "资" or t.token.startswith("资料"))
                f.write(json.dumps({"set": name, "id": r.id, "answerable": r.answerable,
                                    "p_refuse": round(p_refuse, 4)}, ensure_ascii=False) + "\n")
                continue
            refused = is_refusal(text)  # as rag.chain reads a model's refusal
            asked = r.answer.get("standalone_question") or r.question  # what the chain's checks read
            scored = as_chain(text, quotes, asked) if args.as_chain and not refused else text
            right = (not refused and answers(_MARKS.sub("", scored), r.reference)) if r.answerable else refused
            record = {"set": name, "id": r.id, "answerable": r.answerable, "refused": refused, "ok": right,
                      "text": text, "seconds": round(time.monotonic() - start, 2)}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            done.append(record)
    for name in dict.fromkeys(d["set"] for d in done):  # (empty with --refusal-probability)
        answerable = [d for d in done if d["set"] == name and d["answerable"]]
        negative = [d for d in done if d["set"] == name and not d["answerable"]]
        print(f"{args.variant} {name}: right {sum(d['ok'] for d in answerable)}/{len(answerable)}, "
              f"refused {sum(d['refused'] for d in answerable)}/{len(answerable)}; "
              f"unanswerable refused {sum(d['refused'] for d in negative)}/{len(negative)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
