"""Build a multi-document question set from RGB's Chinese information-integration data.

RGB (chen700564/RGB, ``data/zh_int.json``) asks questions whose answer needs facts from two
or more passages ("2021年香港和澳门的GDP增长率"), with each part's supporting passages and
same-topic noise. This script writes them in ``rag eval``'s format:

- ``docs/``: per question, up to two passages of each part that hold one of its answers, and
  two noise passages (``rgbint-<hash>.txt``); a part stands in every chosen passage that holds
  its answer (RGB groups the passages by part, but one passage often names all the answers, and
  a passage chosen for one question may answer another);
- ``dev.jsonl`` (even RGB ids) and ``check.jsonl`` (odd ids), with RGB's ``answer_spec`` rule
  and ``part_sources`` (per part, the passages any one of which holds it), so ``rag eval``
  reports every needed passage cited.

Tune on ``dev.jsonl`` only; ``check.jsonl`` tells whether a change holds on questions it was
not tuned on. The data is CC BY-NC-SA 4.0 (RGB's licence) and is not shipped: the output goes
where ``--out`` says (default ``bench/out/rgb_int``).

    python bench/rgb_integration.py path/to/zh_int.json [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import unicodedata
from pathlib import Path

SOURCE = {"repo": "chen700564/RGB", "commit": "65ec39e40e7dc9abb50e9bf1b4f32be3f6f16615", "path": "data/zh_int.json"}
PER_PART = 2
NOISE = 2


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "").lower()


def _alternatives(element: str | list[str]) -> list[str]:
    return [element] if isinstance(element, str) else list(element)


def _holds(passage: str, elements: list) -> bool:
    text = _norm(passage)
    return any(_norm(a) in text for element in elements for a in _alternatives(element))


def _doc_id(text: str) -> str:
    return "rgbint-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _part_answers(row: dict, k: int) -> list:
    named = row.get("asnwer1" if k == 0 else f"answer{k + 1}")
    return named if named else row["answer"]


def _chosen(row: dict) -> tuple[list[str], list[list]]:
    """The question's passages (up to ``PER_PART`` per part holding its answer) and each part's answers."""
    used, answers = [], []
    for k, passages in enumerate(row["positive"]):
        chosen = [p for p in passages if _holds(p, _part_answers(row, k))][:PER_PART]
        if chosen:
            used += [p for p in chosen if p not in used]
            answers.append(_part_answers(row, k))
    return used, answers


def build(rows: list[dict], out: Path) -> dict[str, int]:
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    chosen = {row["id"]: _chosen(row) for row in rows}
    # a part stands in every chosen passage that holds its answer: whichever part RGB put it under,
    # and also one chosen for another question ("2022年全国高考报名人数1193万" serves two questions)
    pool = list(dict.fromkeys(p for used, answers in chosen.values() if len(answers) >= 2 for p in used))
    files = {"dev": [], "check": []}
    for row in rows:
        used, answers = chosen[row["id"]]
        if len(answers) < 2:  # not a multi-document question once its passages are chosen
            continue
        parts = [[_doc_id(p) for p in pool if _holds(p, part)] for part in answers]
        used = used + [p for p in row.get("negative", []) if not _holds(p, row["answer"])][:NOISE]
        for passage in used:
            (docs / f"{_doc_id(passage)}.txt").write_text(passage.strip() + "\n", encoding="utf-8")
        spec = [_alternatives(e) for e in row["answer"]]
        files["dev" if row["id"] % 2 == 0 else "check"].append({
            "id": f"rgbint-{row['id']}", "question": row["query"],
            "answer": "；".join(a[0] for a in spec), "answer_spec": spec, "kind": "cross_doc",
            "source_doc_ids": list(dict.fromkeys(d for group in parts for d in group)), "part_sources": parts,
            "provenance": {**SOURCE, "orig_id": row["id"]},
        })
    for name, items in files.items():
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    return {name: len(items) for name, items in files.items()} | {"docs": len(list(docs.glob("*.txt")))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="RGB's data/zh_int.json")
    parser.add_argument("--out", type=Path, default=Path("bench/out/rgb_int"))
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.source.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(build(rows, args.out))


if __name__ == "__main__":
    main()
