"""Marks in a multi-part answer that point to another place's quote (stored `rag eval` runs; nothing is asked again).

For each answer of a question split into parts told apart by places ("乐山和自贡分别…"), each line of the answer
is given to the part whose place it names (or the part of its position when it names none); each mark of the
line is counted, and counted as pointing elsewhere when its quote (with its title and places) names another
part's place and not the line's. Evidence-only answers (their lines are headings and quotes) and refusals are
left out.

    python bench/part_marks.py RUN_DIR...

Deliberately not here: scoring answers (``rag eval``), or parts told apart by anything but a place.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rag.abbreviations import held_words
from rag.citations import mark_numbers, without_marks
from rag.parts import distinct_words, part_words, places_among


def place_words(parts: list[str]) -> list[set[str]]:
    """Per part, the words that tell it apart from the others and name a place (as ``rag.evidence.own_quotes``)."""
    words = part_words(parts)
    return [places_among(distinct_words(words, i)) for i in range(len(parts))]


def line_part(line: str, places: list[set[str]], position: int) -> int:
    """The part a line answers: the one whose place it names, else its position."""
    said = held_words(without_marks(line))
    named = [i for i, p in enumerate(places) if said & p]
    return named[0] if len(named) == 1 else position


def count(run: Path) -> tuple[int, int, list[str]]:
    """Marks counted, marks pointing to another part's place, and the lines holding those."""
    total, elsewhere, lines_out = 0, 0, []
    for row in map(json.loads, (run / "results.jsonl").open(encoding="utf-8")):
        parts = row.get("parts") or []
        if len(parts) < 2 or row.get("refused") or row.get("answered_by") != "model":
            continue
        places = place_words(parts)
        if not all(places):
            continue
        quotes = {c["n"]: c for c in row["citations"]}
        for position, line in enumerate(x for x in row["answer"].split("\n") if x.strip()):
            i = line_part(line, places, min(position, len(parts) - 1))
            others = set().union(*(p for j, p in enumerate(places) if j != i))
            for n in sorted(mark_numbers(line)):
                if (c := quotes.get(n)) is None:
                    continue
                seen = held_words(f"{c['title']} {' '.join(c['regions'])} {c['quote']}")
                total += 1
                if seen & others and not seen & places[i]:
                    elsewhere += 1
                    lines_out.append(f"{line[:60]} → [{n}] 《{c['title'][:24]}》")
    return total, elsewhere, lines_out


def main(argv: list[str]) -> None:
    print("| run | marks in place-part answers | to another part's place |\n|---|---|---|")
    details = []
    for arg in argv:
        total, elsewhere, lines = count(Path(arg))
        print(f"| {Path(arg).name} | {total} | {elsewhere} |")
        details += [f"- {Path(arg).name}: {x}" for x in lines]
    print("\n".join(details))


if __name__ == "__main__":
    main(sys.argv[1:])
