"""The article's own words behind a short answer: the clause a claim was taken from.

A small model answers "乐山市从机关事业单位选派了多少名党建指导员？" with "807名党建指导员[1]" and
"上饶经开区和自贡高新区分别…" with "77名[2]": right, but shorn of what the figure is and
of the rest of the fact ("…担任“红色向导”", "…和1个联合党支部"). ``add_support`` keeps the
model's sentence and adds, before its marks, the clause of its cited quote that the claim
was taken from: "807名党建指导员（原文：从全市机关事业单位选派807名党建指导员担任“红色向导”）[1]".

The clause is found, not generated: a run of one or two clauses of a cited quote (cut at
，；。！？：and brackets) that holds most of the claim's character pairs and every figure
it states, holds words of the question the claim leaves out, and adds words of its own
(a sentence that already restates its clause gets nothing). The rest of the clause's sentence
comes with it when that rest is short, for it often says what came of the fact ("效率提升了50%，射线
探测合格率达到99%，比手工焊还高了3个百分点"); a longer rest is left off, not cut. It is an exact slice of the
quote, so it is as verbatim as the quote is. ``strip_support`` gives back the model's own
words (the evaluation scores those too); ``support_spans`` finds the clauses (the chat sets
them apart).

Deliberately not here: cross-case lines (already written in the articles' words, one per
place), flagged sentences (no support is claimed for them), and choosing between quotes
that disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rag.citations import FLAGS, bigrams, figures
from rag.part_words import ASKING
from rag.text import sentence_spans

CLAIM_COVERAGE = 0.6  # share of the claim's character pairs the clause must hold
CLAIM_SHARE_MAX = 0.6  # a clause this much made of the claim's own pairs adds nothing
MAX_CLAUSES = 2
MAX_TAIL_CLAUSES, MAX_TAIL_CHARS = 2, 40  # the short rest of the claim's sentence is shown with it
_NOT_CLAUSE = "，,；;。！？!?：:\n【】（）() \u3000"
_CLAUSE = re.compile(rf"(?:[^{_NOT_CLAUSE}]|\([^{_NOT_CLAUSE}]{{1,12}}\))+")  # "受理企业(项目)问题诉求" is one clause
_SENTENCE_END = re.compile(r"[。！？!?\n【】（）()]")  # a run of clauses does not cross these
_MARKS_AT_END = re.compile(r"((?:\[\d+\])+)([。！？；;，,]?\s*)$")
_MARK_NUMBER = re.compile(r"\[(\d+)\]")
_SUPPORT = re.compile(r"（原文：[^（）\n]*）(?=\[\d+\])")
_OPENING, _CLOSING = "“‘《", "”’》"
PART_QUOTE = "关于“{topic}”，原文："  # the line ``rag.part_answer`` adds for a part the model left out
MORE_QUOTE = "另据资料："  # the line ``rag.list_answer`` adds for a quote naming more people
_TOPIC_BEFORE, _TOPIC_AFTER = (re.escape(piece) for piece in PART_QUOTE.split("{topic}"))
_APPENDED = re.compile(rf"^(?:{_TOPIC_BEFORE}[^”\n]*{_TOPIC_AFTER}|{re.escape(MORE_QUOTE)}).*(?:\n|$)", re.M)


def _clauses(quote: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of ``quote``, spaces and dangling quote marks trimmed off."""
    spans = []
    for m in _CLAUSE.finditer(quote):
        start, end = m.start(), m.end()
        while start < end and (quote[start].isspace() or quote[start] in _CLOSING):
            start += 1
        while end > start and (quote[end - 1].isspace() or quote[end - 1] in _OPENING):
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def supporting_span(claim: str, quote: str, question: str) -> tuple[int, int] | None:
    """(start, end) in ``quote`` of the one or two clauses of a sentence ``claim`` was taken from, or None."""
    found = _best_clause(claim, quote, question)
    return found[1] if found else None


def _best_clause(claim: str, quote: str, question: str) -> tuple[float, tuple[int, int]] | None:
    """(share of the claim's pairs it holds, (start, end)) of ``supporting_span``'s clause, or None."""
    said = set(bigrams(claim))  # what the reader already sees: a run made of these adds nothing
    core = _past_question(claim, question)
    predicate = _predicate(question) if not figures(core) and core != claim and len(set(bigrams(core))) >= 2 else ""
    claim_pairs = set(bigrams(core if figures(core) or predicate else claim))  # what the clause must hold
    wanted = figures(claim)
    if len(claim_pairs) < 2 and not wanted:  # a figure alone ("50%", "5%") is found by its figure
        return None
    asked = set(bigrams(question)) - claim_pairs
    clauses = _clauses(quote)
    best: tuple[tuple[float, int, int, int], tuple[int, int]] | None = None
    for width in range(1, MAX_CLAUSES + 1):
        for i in range(len(clauses) - width + 1):
            start, end = clauses[i][0], clauses[i + width - 1][1]
            if width > 1 and _SENTENCE_END.search(quote, clauses[i][1], clauses[i + 1][0]):
                continue  # within one sentence, outside brackets
            pairs = set(bigrams(quote[start:end]))
            coverage = len(pairs & claim_pairs) / len(claim_pairs) if claim_pairs else 1.0
            if coverage < CLAIM_COVERAGE or wanted - figures(quote[start:end]) or predicate not in quote[start:end]:
                continue
            shown_end = _tail_end(quote, clauses, i + width - 1)  # only for a run that holds the claim
            shown = set(bigrams(quote[start:shown_end]))
            if len(shown & said) >= CLAIM_SHARE_MAX * len(shown):
                continue  # the claim restates this run: nothing to add
            if not pairs & asked or (width > 1 and any(not set(bigrams(quote[s:e])) & (claim_pairs | asked)
                                                       for s, e in clauses[i:i + width])):
                continue  # it must hold what was asked, and every clause of the run must hold something
            key = (coverage, -width, len(pairs & asked), -(end - start))
            if best is None or key > best[0]:
                best = (key, (start, shown_end))
    return (best[0][0], best[1]) if best else None


def _predicate(question: str) -> str:
    """The two characters before the word ``question`` asks with ("成功" in "…研制成功了什么？", "冠军" in
    "…男单冠军是谁"): a clause matched by the claim's words past the question must say them too, not only name
    the answer."""
    m = ASKING.search(question)
    head = question[:m.start()].rstrip("了的是在") if m else ""
    return head[-2:] if len(head) >= 2 else ""


def _tail_end(quote: str, clauses: list[tuple[int, int]], last: int) -> int:
    """End of ``clauses[last]``'s sentence when what is left of it is short (at most ``MAX_TAIL_CLAUSES``
    clauses, ``MAX_TAIL_CHARS`` characters), else of ``clauses[last]``: "效率提升了50%" goes on to
    "，射线探测合格率达到99%，比手工焊还高了3个百分点", a fact is not cut off mid-sentence."""
    end = clauses[last][1]
    for j in range(last + 1, min(last + 2 + MAX_TAIL_CLAUSES, len(clauses) + 1)):
        if j == len(clauses) or _SENTENCE_END.search(quote, clauses[j - 1][1], clauses[j][0]):
            return clauses[j - 1][1] if clauses[j - 1][1] - end <= MAX_TAIL_CHARS else end
    return end


def _past_question(claim: str, question: str) -> str:
    """``claim`` after the words it repeats from the question's start ("郑州凤凰城建材市场成立了8个党支部" for
    "郑州凤凰城建材市场成立了多少个党支部？" gives "8个党支部"; so does "河南省郑州市：郑州凤凰城…").

    A clause that holds the figure it answers with need not restate the asked subject, which the article
    often names a sentence earlier. A claim without a figure is matched whole: a name alone ("阿尔卡拉斯",
    "乐山市沙湾区") stands in clauses that say other things about it. Or past the question when the clause also
    says what the question asks of it (``_predicate``: "成功研制的压缩机防喘阀" for "…研制成功了压缩机防喘阀", but not
    "…德约科维奇对决20岁的阿尔卡拉斯" for "2023年温网男单冠军是阿尔卡拉斯").
    """
    for length in range(min(len(claim), len(question)), 1, -1):
        at = claim.find(question[:length])  # after a place label ("河南省郑州市：") too
        if at >= 0:
            return claim[at + length:]
    return claim


def add_support(text: str, quotes: Mapping[int, str], question: str) -> str:
    """``text`` (a parsed answer, marks as ``[n]``) with each cited claim's clause before its marks."""
    pieces: list[str] = []
    last = 0
    for s, e in sentence_spans(text):
        sentence = text[s:e]
        pieces.append(text[last:s])
        last = e
        pieces.append(_supported(sentence, quotes, question))
    pieces.append(text[last:])
    return "".join(pieces)


def _supported(sentence: str, quotes: Mapping[int, str], question: str) -> str:
    marks = _MARKS_AT_END.search(sentence)
    if marks is None or any(flag in sentence for flag in FLAGS) or "（原文：" in sentence:
        return sentence
    claim = _MARK_NUMBER.sub("", sentence[:marks.start()]).rstrip("。！？；;，, ")
    best: tuple[float, str] | None = None  # (share of the claim's pairs the clause holds, clause)
    for n in (int(x) for x in _MARK_NUMBER.findall(marks.group(1))):
        if n not in quotes or (found := _best_clause(claim, quotes[n], question)) is None:
            continue
        coverage, (start, end) = found
        if best is None or coverage > best[0]:
            best = (coverage, quotes[n][start:end])
    if best is None:
        return sentence
    return f"{sentence[:marks.start()]}（原文：{best[1]}）{sentence[marks.start():]}"


def support_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each "（原文：…）" ``add_support`` put in ``text`` (for showing it apart)."""
    return [m.span() for m in _SUPPORT.finditer(text)]


def strip_support(text: str) -> str:
    """The answer without ``add_support``'s clauses."""
    return _SUPPORT.sub("", text)


def own_words(text: str) -> str:
    """The answer in the model's own words: ``add_support``'s clauses and the quote lines the chain
    appended after the model's text (a part's quote, ``PART_QUOTE``; more names, ``MORE_QUOTE``) taken out."""
    return strip_support(_APPENDED.sub("", text)).rstrip()
