"""Answers without a language model: evidence grouped by place, and refusal texts.

``compose_answer`` (the ``none`` provider, and the fallback when a model
fails) groups the numbered quotes by article, headed by the article's place
and title, most relevant article first; every line is a verbatim quote ending
with its mark, so nothing is claimed that the articles do not say.

``refusal_text`` says plainly that the materials do not cover the question and,
when there is nearby material, lists it under a label that says it is only
related, not an answer.

``compose_parts`` does the same part by part for a multi-part question.

Deliberately not here: deciding *whether* to refuse (``rag.refusal``).
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.types import Citation

_NUMERALS = "一二三四五六七八九十"


NO_REGION = "未注明地区"


def place_of(c: Citation) -> str:
    """The place a passage is labelled with: its first region."""
    return c.regions[0] if c.regions else NO_REGION


def regions_text(c: Citation) -> str:
    """Every region of a passage's article, for listings: "四川省乐山市、四川省自贡市"."""
    return "、".join(c.regions) or NO_REGION


def article_groups(evidence: Sequence[Citation]) -> list[list[Citation]]:
    """The quotes grouped by article, articles in the order of their first (most relevant) quote."""
    by_source: dict[str, list[Citation]] = {}
    for c in evidence:  # evidence arrives most relevant first; keep that order of articles
        by_source.setdefault(c.source, []).append(c)
    return list(by_source.values())


def compose_answer(question: str, evidence: Sequence[Citation]) -> str:
    """An answer made only of cited quotes, grouped by article and place."""
    if not evidence:
        return "资料中没有找到相关内容。"
    groups = article_groups(evidence)
    if len(groups) == 1:
        group = groups[0]
        head = f"据《{group[0].title}》（{place_of(group[0])}）："
        return head + "".join(f"{c.quote}[{c.n}]" for c in group)
    lines = [f"资料中共有 {len(groups)} 篇文章涉及这一问题："]
    for i, group in enumerate(groups):
        numeral = _NUMERALS[i] if i < len(_NUMERALS) else str(i + 1)
        lines.append(f"{numeral}、{place_of(group[0])}（《{group[0].title}》）")
        lines.extend(f"- {c.quote}[{c.n}]" for c in group)
    return "\n".join(lines)


def compose_parts(parts: Sequence[str], evidence: Sequence[Citation], numbers: Sequence[Sequence[int]],
                  found: Sequence[bool]) -> str:
    """A multi-part question answered part by part from quotes; a part without evidence says so."""
    by_n = {c.n: c for c in evidence}
    lines = [f"这个问题包含 {len(parts)} 个部分，分别据资料回答如下："]
    for i, part in enumerate(parts):
        numeral = _NUMERALS[i] if i < len(_NUMERALS) else str(i + 1)
        lines.append(f"{numeral}、{part}")
        cited = [by_n[n] for n in numbers[i] if n in by_n] if found[i] else []
        if not cited:
            lines.append(f"- {missing_part_text(part)}")
        lines.extend(f"- 《{c.title}》（{place_of(c)}）：{c.quote}[{c.n}]" for c in cited)
    return "\n".join(lines)


def part_topic(part: str) -> str:
    """A part's question without its end mark, for quoting it in a sentence: “乐山选派了多少名党建指导员”."""
    return part.rstrip("？?。")


def missing_part_text(part: str) -> str:
    return f"资料中没有找到能回答“{part_topic(part)}”的内容。"


def refusal_text(missing_places: Sequence[str], related: Sequence[Citation]) -> str:
    """"资料中没有找到…", plus clearly labelled nearby material when there is any."""
    if missing_places:
        subject = "、".join(missing_places)
        head = f"资料中没有找到关于{subject}的相关内容。"
    else:
        head = "资料中没有找到能回答这个问题的内容。"
    if not related:
        return head
    lines = [head, "以下是最接近的资料，仅供参考，并非对该问题的回答："]
    lines.extend(f"- {place_of(c)}（《{c.title}》）：{c.quote}[{c.n}]" for c in related)
    return "\n".join(lines)
