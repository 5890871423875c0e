"""Build a second RGB question set, disjoint from the shared ``rgb_zh`` folder, to check a change on.

The shared ``rgb_zh`` dev split was drawn from RGB's ``data/zh_refine.json`` (300 questions),
and its ``docs/`` pool also holds the passages of the questions kept back for the held-out
split. This script keeps only the questions none of whose passages is in that pool (so neither
a dev question nor, as far as the pool shows, a held-out one) and writes them the way the shared
folder is written:

- ``docs/``: per answerable question, the first ``POSITIVE`` passages that hold its answer (all of
  it, or else some of it) and ``NOISE`` same-topic passages that do not; per rejection question,
  ``REJECTION_NOISE`` of the latter only (``rgbzh-<sha1[:12]>.txt``, the shared folder's naming);
- ``qa.check.jsonl`` (RGB's ``answer_spec`` rule) and ``negative_rejection.check.jsonl``
  (every ``REJECT_EVERY``-th question by RGB id: the answer is in no passage).

Tune on the shared dev split only; this set says whether a change holds on questions it was not
tuned on. The data is CC BY-NC-SA 4.0 (RGB's licence) and is not shipped: the output goes where
``--out`` says (default ``bench/out/rgb_refine``).

    python bench/rgb_refine.py path/to/zh_refine.json [--shared ../shared/evalsets/rgb_zh] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from rag.text import normalize

SOURCE = {"repo": "chen700564/RGB", "commit": "65ec39e40e7dc9abb50e9bf1b4f32be3f6f16615", "path": "data/zh_refine.json"}
POSITIVE, NOISE, REJECTION_NOISE = 2, 1, 2
REJECT_EVERY = 4
SHARED_PREFIX = 60


def _alternatives(element: str | list[str]) -> list[str]:
    return [element] if isinstance(element, str) else list(element)


def _holds(passage: str, spec: list[list[str]]) -> bool:
    """Every element of the answer is in the passage (any one alternative of it)."""
    text = normalize(passage)
    return all(any(normalize(a) in text for a in element) for element in spec)


def _holds_any(passage: str, spec: list[list[str]]) -> bool:
    text = normalize(passage)
    return any(normalize(a) in text for element in spec for a in element)


def doc_id(text: str) -> str:
    return "rgbzh-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _in_shared(row: dict, shared: str) -> bool:
    """Some passage of ``row`` is in the shared pool (``shared``: its texts normalized and joined): by the
    start of its text, for the pool's copies are not always byte for byte the source's."""
    starts = (normalize(p)[:SHARED_PREFIX] for p in row["positive"] + row["negative"])
    return any(start and start in shared for start in starts)


def build(rows: list[dict], shared: str, out: Path) -> dict[str, int]:
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    qa, rejection = [], []
    for row in rows:
        if _in_shared(row, shared):
            continue
        spec = [_alternatives(e) for e in row["answer"]]
        noise = [p for p in row["negative"] if not _holds_any(p, spec)]
        common = {"question": row["query"], "provenance": {**SOURCE, "orig_id": row["id"]}}
        if row["id"] % REJECT_EVERY == 0:
            used = noise[:REJECTION_NOISE]
            rejection.append({"id": f"rgbref-neg-{row['id']}", **common, "answer": "", "answerable": False,
                              "withheld_answer_spec": [a[0] for a in spec],
                              "related_negative_doc_ids": [doc_id(p) for p in used]})
        else:
            positive = ([p for p in row["positive"] if _holds(p, spec)]
                        or [p for p in row["positive"] if _holds_any(p, spec)])[:POSITIVE]
            if not positive:
                continue
            used = positive + noise[:NOISE]
            qa.append({"id": f"rgbref-{row['id']}", **common, "answer": "；".join(a[0] for a in spec),
                       "source_doc_ids": [doc_id(p) for p in positive], "answer_spec": spec, "split": "check"})
        for passage in used:
            (docs / f"{doc_id(passage)}.txt").write_text(passage, encoding="utf-8")
    for name, items in (("qa.check.jsonl", qa), ("negative_rejection.check.jsonl", rejection)):
        with (out / name).open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    return {"answerable": len(qa), "rejection": len(rejection), "docs": len(list(docs.glob("*.txt")))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="RGB's data/zh_refine.json")
    parser.add_argument("--shared", type=Path, default=Path("../shared/evalsets/rgb_zh"))
    parser.add_argument("--out", type=Path, default=Path("bench/out/rgb_refine"))
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.source.read_text(encoding="utf-8").splitlines() if line.strip()]
    shared = "\n".join(normalize(p.read_text(encoding="utf-8")) for p in sorted((args.shared / "docs").glob("*.txt")))
    print(build(rows, shared, args.out))


if __name__ == "__main__":
    main()
