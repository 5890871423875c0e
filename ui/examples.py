"""Example questions for first-time users, drawn from what the loaded articles talk about.

A fixed list of Party-building work topics is matched against the stored
article texts; the topics that the most articles mention become questions
("各地是怎么选派党建指导员的？"), plus one question about the region most
articles are tagged with. Nothing is shown for topics no article mentions.

Deliberately not here: generating questions with a model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# (topic looked for in the articles, question asked about it)
TOPIC_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("党建指导员", "各地是怎么选派党建指导员的？"),
    ("楼宇党建", "楼宇党建是怎么做的？"),
    ("党员先锋岗", "党员先锋岗是怎么设立的？"),
    ("非公企业", "非公企业党建工作有哪些做法？"),
    ("红色物业", "红色物业是怎么推进的？"),
    ("新就业群体", "怎样把快递员、外卖骑手等新就业群体组织起来？"),
    ("商圈", "商圈党建是怎么开展的？"),
    ("党建联盟", "党建联盟是怎么运作的？"),
    ("党群服务中心", "党群服务中心发挥了哪些作用？"),
    ("主题党日", "主题党日活动是怎么开展的？"),
    ("两新组织", "两新组织党建有哪些经验？"),
    ("乡村振兴", "党建如何引领乡村振兴？"),
)
MAX_TEXTS = 400  # enough to rank topics; keeps start-up short on big knowledge bases


def example_questions(texts: Iterable[str], regions: Iterable[str], limit: int = 4) -> list[str]:
    """Up to ``limit`` questions about the topics most articles mention, then one about the top region."""
    counts: Counter[str] = Counter()
    for i, text in enumerate(texts):
        if i >= MAX_TEXTS:
            break
        counts.update(topic for topic, _ in TOPIC_QUESTIONS if topic in text)
    ranked = sorted((t for t in TOPIC_QUESTIONS if counts[t[0]]), key=lambda t: -counts[t[0]])
    questions = [q for _, q in ranked[:limit]]
    top_region = next(iter(regions), None)
    if top_region and ranked:
        questions.append(f"{top_region}在{ranked[0][0]}方面是怎么做的？")
    return questions
