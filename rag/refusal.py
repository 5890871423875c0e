"""When to say "资料中没有找到": unknown places, weak evidence, or a model that says so.

Three independent checks, each cheap:

* ``missing_regions``: the question names a place (province, city, county)
  that no article in scope is about or mentions; "深圳市南山区" is missing
  even when 深圳 articles exist, because the county is what was asked.
* ``is_weak``: the best evidence's relevance is under the calibrated threshold
  (0..1 where higher is more relevant — the LangChain convention; a threshold on
  a distance would have to be compared the other way round).
* ``says_not_found``: the language model's own answer states that the
  evidence does not cover the question; ``is_refusal``: that is all the answer says.

Deliberately not here: composing the refusal text beyond one sentence, and
choosing the threshold (``bench/calibrate_refusal.py`` does that on the gold set).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.citations import content_chars, has_mark
from rag.knowledge import KnowledgeBase
from rag.regions import deepest, load_gazetteer
from rag.text import sentence_spans

_NOT_FOUND = re.compile(
    r"(资料|材料|文中|原文|提供的内容|以上内容)(中|里)?(并)?(没有|未|无)(找到|提及|提到|涉及|说明|包含|相关)"
    r"|没有找到相关|无法(根据|从)?.{0,8}(回答|得出|确定)|未提及|没有提及|不足以回答|信息不足"
)


_PROVINCE = re.compile(r"^.{2,8}?(省|自治区)(?=.)")


def missing_regions(
    kb: KnowledgeBase, question: str, sources: Iterable[str] | None = None
) -> list[str]:
    """Places named in the question that no article in scope covers (full name, province dropped).

    An article covers a place when its region tags include it or a place inside
    it (四川省乐山市 covers 四川省), or when its text names the place (北京
    mentioned in passing still counts). Article texts are read only when a place
    is not among the tags, and then once.
    """
    gazetteer = load_gazetteer()
    asked = gazetteer.places(question)
    if not asked:
        return []
    scope = set(sources) if sources else None
    docs = [s for s in kb.sources() if scope is None or s.source in scope]
    tags = {t for info in docs for t in gazetteer.tags(info.regions)}
    texts: list[str] | None = None
    missing: list[str] = []
    for alias, full in asked:
        if any(t.startswith(full) for t in tags):
            continue
        if texts is None:
            texts = [doc.text for info in docs if (doc := kb.document(info.source)) is not None]
        if not any(alias in text for text in texts):
            missing.append(full)
    return [_PROVINCE.sub("", n) for n in deepest(missing)]


def is_weak(best_relevance: float | None, threshold: float) -> bool:
    return best_relevance is None or best_relevance < threshold


def says_not_found(answer: str) -> bool:
    """True when a model's answer states that the materials do not answer the question."""
    return bool(_NOT_FOUND.search(answer[:120]))


def is_refusal(answer: str) -> bool:
    """The model's answer is a refusal: it says the materials do not answer, and states nothing else.

    Unmarked, it is a refusal whatever else it says (as before); with marks ("[1] 山东省青岛市：
    据资料中没有找到相关内容。", as the 0.5B writes), only when every sentence that states something
    is itself a not-found sentence. "A…[1]。B方面资料中没有找到。" is a partial answer, not a refusal.
    """
    if not says_not_found(answer):
        return False
    if not has_mark(answer):
        return True
    sentences = (answer[s:e] for s, e in sentence_spans(answer))
    return all(_NOT_FOUND.search(s) for s in sentences if content_chars(s) > 0)
