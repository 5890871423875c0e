"""Questions derived by a script from random sentences, to check the sentence picker on questions nobody wrote.

    python bench/derive_questions.py OUT.jsonl [--docs DIR] [--per-article 12] [--seed 0] [--rephrase local:1.5b]
    rag eval OUT.jsonl --docs DIR --llm none --out bench/out/derived/...

From each article a seeded random sample of clauses that state one figure counted in a unit
("共选派党建指导员807名", "覆盖率达95.8%") becomes a 多少 question: the figure is replaced by 多少,
the sentence's first clause is kept before it when the figure sits in a later clause (it often
names who), and the article's most-named place is put in front when the question names none.
The key fact is the figure with its unit, so `rag eval`'s key-fact rule asks whether the
evidence-only answer quotes the right sentence of the right article. The questions keep the
article's words, so they are easier than a user's: ``--rephrase`` has a model reword each one
(kept only when it still asks 多少/几 and does not give the figure away), so that the picker
cannot win by matching the sentence word for word. Output rows follow `eval/gold/sample_gold.jsonl`.

``--kind how`` derives 怎么做 questions instead: a seeded random sample of sentences that state
a measure (``rag.intent.says_what_was_done``), each with the sentence before it, is given to a
model (``--rephrase``, required) that asks how the unit or place did it without naming the
measure. The key fact is the sentence's clause that holds its first measure word, so the
evidence-only answer must quote the measure, not the situation around it. A question that
gives the clause away, or does not ask 怎样/如何/怎么, is dropped.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.regions import load_gazetteer  # noqa: E402
from rag.text import sentence_spans  # noqa: E402

FIGURE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(余|多)?(个|名|家|人|项|次|场|户|所|条|支|座|%|％|万元|亿元|万人)")
ANY_NUMBER = re.compile(r"\d")
CLAUSE = re.compile(r"[^，,；;：:]+")


def _balanced(clause: str) -> str:
    """The clause without its quotation marks when they open or close outside it."""
    return clause if clause.count("“") == clause.count("”") else clause.replace("“", "").replace("”", "")


def main_place(text: str) -> str:
    counts = Counter(alias for alias, _ in load_gazetteer().places(text))
    return counts.most_common(1)[0][0] if counts else ""


def questions_from(name: str, text: str, rng: random.Random, per_article: int) -> list[dict]:
    place = main_place(text)
    candidates = []
    for start, end in sentence_spans(text):
        sentence = text[start:end].strip()
        clauses = [_balanced(m.group(0).strip()) for m in CLAUSE.finditer(sentence.rstrip("。！？!?"))]
        for i, clause in enumerate(clauses):
            figures = list(FIGURE.finditer(clause))
            if len(figures) != 1 or len(ANY_NUMBER.findall(clause.replace(figures[0].group(1), ""))) or \
                    not 6 <= len(clause) <= 40:
                continue
            fig = figures[0]
            unit = fig.group(3)
            asked = "多少" if unit in "%％" else f"多少{unit}"
            cloze = clause[: fig.start()] + asked + clause[fig.end():]
            lead = clauses[0] if i > 0 and len(clauses[0]) <= 24 and not ANY_NUMBER.search(clauses[0]) else ""
            question = f"{lead}，{cloze}" if lead else cloze
            if place and not load_gazetteer().places(question):
                question = f"{place}{question}"
            candidates.append({"user_input": question.rstrip("。！？!? ") + "？", "key": fig.group(0),
                               "context": sentence})
    rng.shuffle(candidates)
    return [{"kind": "fact", "user_input": c["user_input"], "reference": c["key"], "reference_contexts": [c["context"]],
             "sources": [name], "key_points": [c["key"]], "answerable": True} for c in candidates[:per_article]]


ASK_HOW = ("下面是一篇文章中的两句话。请针对第二句所说的做法，提一个用“怎样”“如何”或“怎么”问做法的问题："
           "问题里写明是谁（单位、地方或人），但不要写出第二句中的具体做法和原话。只输出这一个问题。\n"
           "前一句：{before}\n第二句：{sentence}")


def how_candidates(name: str, text: str, rng: random.Random, per_article: int) -> list[dict]:
    """Sentences stating a measure, with the sentence before them and the clause holding the measure."""
    from rag.intent import says_what_was_done

    spans = sentence_spans(text)
    found = []
    for i, (start, end) in enumerate(spans[1:], 1):
        sentence = text[start:end].strip()
        if not 20 <= len(sentence) <= 150 or not says_what_was_done(sentence):
            continue
        clause = next((c.group(0).strip() for c in CLAUSE.finditer(sentence.rstrip("。！？!?"))
                       if says_what_was_done(c.group(0)) and 6 <= len(c.group(0).strip()) <= 40), "")
        if clause:
            before = text[spans[i - 1][0]:spans[i - 1][1]].strip()
            found.append({"sentence": sentence, "before": before, "key": _balanced(clause), "source": name})
    rng.shuffle(found)
    return found[:per_article]


def how_questions(candidates: list[dict], llm: str) -> list[dict]:
    from rag.config import Settings
    from rag.llm import make_chat_model, parse_llm

    settings = Settings()
    model = make_chat_model(parse_llm(llm, settings), settings)
    out = []
    for c in candidates:
        prompt = ASK_HOW.format(before=c["before"], sentence=c["sentence"])
        reply = str(model.bind(max_tokens=60).invoke(prompt).content)
        text = reply.strip().splitlines()[0] if reply.strip() else ""
        if re.search(r"怎样|如何|怎么", text) and c["key"] not in text and 6 <= len(text) <= 60:
            out.append({"kind": "how", "user_input": text if text.endswith("？") else text.rstrip("?？。") + "？",
                        "reference": c["key"], "reference_contexts": [c["sentence"]], "sources": [c["source"]],
                        "key_points": [c["key"]], "answerable": True})
    return out


REPHRASE = ("把下面的问题换一种问法：意思和要问的数字不变，用词和语序尽量与原句不同，像读者自己提的问题。"
            "只输出改写后的一个问题。\n原句：{sentence}\n问题：{question}")


def rephrased(rows: list[dict], llm: str) -> list[dict]:
    from rag.config import Settings
    from rag.llm import make_chat_model, parse_llm

    settings = Settings()
    model = make_chat_model(parse_llm(llm, settings), settings)
    out = []
    for row in rows:
        text = str(model.bind(max_tokens=60).invoke(REPHRASE.format(
            sentence=row["reference_contexts"][0], question=row["user_input"])).content).strip().splitlines()[0]
        figure = re.match(r"[\d.]+", row["reference"]).group(0)  # type: ignore[union-attr]
        if re.search(r"多少|几", text) and figure not in text and 6 <= len(text) <= 60:
            out.append({**row, "user_input": text if text.endswith("？") else text.rstrip("?？。") + "？"})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--docs", type=Path, default=ROOT.parent / "shared" / "corpus" / "seed")
    parser.add_argument("--per-article", type=int, default=12)
    parser.add_argument("--articles", type=int, default=0, help="a seeded sample of this many articles (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rephrase", default="", help="a model (e.g. local:1.5b) that rewords each question")
    parser.add_argument("--kind", choices=["quantity", "how"], default="quantity")
    args = parser.parse_args()
    if args.kind == "how" and not args.rephrase:
        parser.error("--kind how needs --rephrase MODEL to ask the questions")
    rng = random.Random(args.seed)
    files = sorted(p for p in args.docs.iterdir() if p.suffix in {".txt", ".md"})
    if args.articles:
        files = sorted(rng.sample(files, min(args.articles, len(files))))
    if args.kind == "how":
        found = [c for f in files for c in how_candidates(f.name, f.read_text(encoding="utf-8"), rng, args.per_article)]
        rows = how_questions(found, args.rephrase)
    else:
        rows = [q for f in files for q in questions_from(f.name, f.read_text(encoding="utf-8"), rng, args.per_article)]
    if args.rephrase and args.kind == "quantity":
        rows = rephrased(rows, args.rephrase)
    with args.out.open("w", encoding="utf-8") as out:
        for i, row in enumerate(rows, 1):
            out.write(json.dumps({"id": f"derived-{i:03d}", **row}, ensure_ascii=False) + "\n")
    print(f"{len(rows)} questions from {len(files)} articles -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
