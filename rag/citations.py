"""Citation marks in generated answers: parse, drop invented numbers, flag unmarked claims.

The model is shown evidence numbered [1]..[n] and asked to end every claim
with marks. ``parse_answer`` reads the marks back (``[1]``, ``[1][3]``,
``[1,3]``, ``[1、3]``, full-width ``［1］``/``【1】``; marks placed after the
full stop are moved before it, marks opening a sentence to its end), removes any number that
was not given, and lists each sentence that states something but carries no
valid mark; that sentence is kept but visibly flagged in the text. A cited
sentence stating a number that none of its cited quotes contains ("80%" where
the article says "140余名") is flagged the same way, as a likely invention; so is one naming,
for a question asking who, a person that neither its cited quotes (with their titles) nor the
question name ("《七人乐队》的导演是…张艺谋、陈凯歌、李安[1]", none of whom the quote names).
An unmarked claim that restates one quote (``restated_by``: nearly all its character pairs
are in it, as when the model copies a quote and leaves the mark off) gets that quote's mark
instead of the flag. ``verify_quotes`` checks that every citation's quote is the exact slice of its
source's cleaned text.

Deliberately not here: the prompt and the model call (``rag.chain``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rag.intent import asks_who
from rag.part_words import person_names
from rag.text import normalize, sentence_spans
from rag.types import Citation

_NUMBERS = r"\d{1,3}(?:\s*[,，、]\s*\d{1,3})*"  # "1", "1,3", "1、3"
_MARK = re.compile(rf"[\[［【]\s*({_NUMBERS})\s*[\]］】]")
_ONE_MARK = rf"[\[［【]\s*{_NUMBERS}\s*[\]］】]"
_MARKS_AFTER_END = re.compile(rf"([。！？!?；;]+)((?:\s*{_ONE_MARK})+)")
# Marks written before the sentence they cite ("[1] 2018", as the 0.5B copies the evidence's layout).
_MARKS_BEFORE = re.compile(rf"(^|(?<=[\n。！？!?；;]))([ \t]*)((?:{_ONE_MARK}\s*)+)([^\n。！？!?；;]*)")
_CLAIM_CHARS = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")
_MARK_RUN = re.compile(r"(?:\[\d+\])+")
FLAG = "（未注明出处）"
NUMBER_FLAG = "（数字与所引原文不符）"
NAME_FLAG = "（名称与所引原文不符）"  # a person, by jieba's tag (which takes some places and words for people)
FLAGS = (FLAG, NUMBER_FLAG, NAME_FLAG)  # every mark ``parse_answer`` puts after a claim it cannot tie to its quotes
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# A figure as stated: number, scale, and whether it is approximate ("90余名" is not "90名").
_FIGURE = re.compile(r"(\d+(?:\.\d+)?)([万亿千百]?)(余|多)?([万亿]?)")
_MIN_CLAIM_CHARS = 8  # shorter sentences ("综上所述：") are connectives, not claims
_MIN_ANSWER_CLAIM = 4  # "807名党员[1]" states something at any length
_SHORT_ANSWER = re.compile(r"[\u4e00-\u9fffA-Za-z%‰]")  # a name or a unit: "杨紫琼", "B站", "77名", "58.1%"
RESTATED_SHARE = 0.85  # an unmarked claim with this share of its character pairs in one quote restates it


@dataclass(frozen=True)
class ParsedAnswer:
    text: str  # with invalid marks removed and unmarked claims flagged
    cited: tuple[int, ...]  # valid numbers in order of first use
    dropped: tuple[int, ...]  # numbers the model invented
    flagged: tuple[str, ...]  # claims without a valid mark, or with a figure or a person their quotes lack
    claim_flags: tuple[str, ...] = ()  # per sentence that states something ("807名[1]"): its flag, or ""

    @property
    def only_unsupported_numbers(self) -> bool:
        """Every claim is flagged for a figure its cited quote lacks."""
        return bool(self.claim_flags) and all(f == NUMBER_FLAG for f in self.claim_flags)

    @property
    def only_unsupported(self) -> bool:
        """Every claim is flagged for a figure or a person its cited quote lacks."""
        return bool(self.claim_flags) and all(f in (NUMBER_FLAG, NAME_FLAG) for f in self.claim_flags)


def _replace_marks(text: str, valid: set[int], cited: list[int], dropped: list[int]) -> str:
    """Rewrite every mark as ``[n][m]`` keeping only valid numbers; record used and invented ones."""
    def repl(match: re.Match[str]) -> str:
        keep = []
        for n in _numbers_of(match):
            if n in valid:
                keep.append(n)
                if n not in cited:
                    cited.append(n)
            elif n not in dropped:
                dropped.append(n)
        return "".join(f"[{n}]" for n in keep)

    def once(run: re.Match[str]) -> str:  # "[1][1][2]" (the 1.5B repeats marks) → "[1][2]"
        return "".join(f"[{n}]" for n in dict.fromkeys(re.findall(r"\d+", run.group())))

    return _MARK_RUN.sub(once, _MARK.sub(repl, text))


def _bare(text: str) -> str:
    """``text`` without its marks and flags: what the answer itself says."""
    text = _MARK.sub("", text)
    for flag in FLAGS:
        text = text.replace(flag, "")
    return text


def _claim_chars(text: str) -> str:
    """The Chinese characters, digits and Latin letters of ``text``, in order (punctuation and spaces left out)."""
    return "".join(_CLAIM_CHARS.findall(text))


def content_chars(text: str) -> int:
    """Chinese characters, digits and Latin letters of ``text`` ("B站", "COMAC919"), not counting marks and flags."""
    return len(_claim_chars(_bare(text)))


def states_something(text: str, question: str = "") -> bool:
    """``text`` says something: four or more characters ("807名党员[1]"), or a shorter name or figure with
    its unit or sign ("杨紫琼[1]", "B站[1]", "77名[1]", "58.1%[1]") that is not only words of ``question``.
    Marks alone ("[1][2]、[3]"), a bare figure ("113[1]") or one character say nothing."""
    count = content_chars(text)
    if count >= _MIN_ANSWER_CLAIM:
        return True
    return count >= 2 and _SHORT_ANSWER.search(_bare(text)) is not None and not only_restates(text, question)


def unquoted_short(text: str, sources: Sequence[str]) -> bool:
    """A short answer (a name, a figure with its unit) that stands in none of ``sources`` (its cited quotes
    and their titles): "北京市[1]" citing "…此前三届举办地分别在北京、广州、北京" (the place label the
    evidence block showed for its article), "奈良县[1]" citing "奈良警方称…". So short a claim is a copy or wrong."""
    said = _claim_chars(normalize(_bare(text)))
    if not said or len(said) >= _MIN_ANSWER_CLAIM:
        return False
    return not any(said in _claim_chars(normalize(s)) for s in sources)


def only_restates(text: str, question: str) -> bool:
    """True when ``text`` says nothing but words of ``question``: the 0.5B answered the part "2023年温网男单冠军"
    with "2023年温网男单冠军[1]"."""
    said = _claim_chars(_bare(text))
    return bool(said) and set(said) <= set(question)


_ATTRIBUTION = re.compile(r"(?:说|表示|介绍|指出|透露)$")
_QUOTED = re.compile(r"[“「\"].+[”」\"]")


def only_attribution(text: str, question: str) -> bool:
    """``text`` says only who spoke, not what: the 0.5B answered "…技术中心主任罗清明说[1]" (the tail of
    its quote "“…组建了‘钒钛技术党员攻坚队’…”罗清明说。") to "组建了什么党员攻坚队？". Not when the
    question asks who, or the answer quotes what was said."""
    lines = [line for line in _bare(text).splitlines() if line.strip()]
    if len(lines) != 1 or "谁" in question or _QUOTED.search(lines[0]):
        return False
    return _ATTRIBUTION.search(lines[0].strip().rstrip("。！!")) is not None


def number_strings(text: str) -> set[str]:
    """The figures written in ``text`` ("807", "3.5"), marks left out."""
    return set(_NUMBER.findall(_MARK.sub("", text)))


def without_marks(text: str) -> str:
    """``text`` with every mark taken out, however the model wrote it."""
    return _MARK.sub("", text)


def shown_marks_only(text: str, shown: set[int]) -> str:
    """``text`` with the numbers of quotes not in ``shown`` taken out of its marks: a part's call shows the model
    only its part's quotes, and the 1.5B wrote "乐山市选派807名党建指导员[1][2]" where [2], 自贡's quote, was
    never shown with that part."""
    return _replace_marks(text, shown, [], [])


def has_mark(text: str) -> bool:
    return _MARK.search(text) is not None


def mark_numbers(text: str) -> set[int]:
    """The numbers of every mark in ``text``, as the model writes them ("[1]", "[1,3]", "【2】")."""
    return {n for match in _MARK.finditer(text) for n in _numbers_of(match)}


def _numbers_of(mark: re.Match[str]) -> list[int]:
    return [int(part.strip()) for part in re.split(r"[,，、]", mark.group(1))]


def figures(text: str) -> set[str]:
    """The figures ``text`` states, each with its scale and an approximation mark: "90余名" → "90余",
    "10多万" → "10万余", "3.8万" → "3.8万"; marks left out."""
    return {n + scale + scale2 + ("余" if approx else "")
            for n, scale, approx, scale2 in _FIGURE.findall(_MARK.sub("", text))}


def _numbers_unsupported(sentence: str, quotes: Sequence[str]) -> bool:
    """A figure of ``sentence`` that no quote states as such: missing, or its 余/多 dropped or added."""
    found = {f for q in quotes for f in figures(q)}
    return bool(figures(sentence) - found)


def _names_unsupported(claim: str, quotes: Sequence[str], question: str) -> bool:
    """A person ``claim`` names (jieba's tag) that neither ``quotes`` nor ``question`` name, for a question
    asking who: jieba also tags words such as 楼宇, 高新区 or 建立健全 as names, which a paraphrase of a 怎么做
    answer may well use ("自贡高新区选派72名…" for "自贡高新技术产业开发区…")."""
    if not asks_who(question):
        return False
    return any(name not in question and not any(name in q for q in quotes) for name in person_names(claim))


def bigrams(text: str) -> list[str]:
    """The claim characters' (CJK, digits, Latin) consecutive pairs, marks left out."""
    chars = _claim_chars(_MARK.sub("", text))
    return [chars[i:i + 2] for i in range(len(chars) - 1)]


def restated_by(claim: str, quotes: Mapping[int, str]) -> list[int]:
    """The numbers of the quotes that ``claim`` restates: nearly all its character pairs are in the quote.

    The 1.5B often copies a quote, or rewords it lightly, and leaves the mark off; such a claim
    is tied to the quote (or the identical quotes) it was taken from. A claim drawn from two
    quotes, or from none, restates no single one and stays flagged.
    """
    pairs = bigrams(claim)
    if not pairs:
        return []
    found = []
    for n, quote in quotes.items():
        present = set(bigrams(quote))
        if sum(p in present for p in pairs) >= RESTATED_SHARE * len(pairs):
            found.append(n)
    return found[:2]


def _marks_to_end(m: re.Match[str]) -> str:
    """"[1] 2018" → "2018[1]"; a sentence that carries its own marks, or has nothing to cite, is left."""
    lead, marks, rest = m.group(2), m.group(3), m.group(4)
    if not _CLAIM_CHARS.search(rest) or _MARK.search(rest):
        return m.group(0)
    body = rest.rstrip()
    return lead + body.lstrip("，,、：: ") + marks.replace(" ", "").strip() + rest[len(body):]


def _with_marks(sentence: str, numbers: Sequence[int]) -> str:
    """``sentence`` with ``[n]`` marks before its closing punctuation."""
    body = sentence.rstrip("。！？!?；;，, ")
    return body + "".join(f"[{n}]" for n in numbers) + sentence[len(body):]


def _without_repeats(text: str) -> str:
    """``text`` with each sentence said again, citing nothing it did not cite before, taken out (the 0.5B
    can loop: "iPhone SE 3的芯片是A15处理器[1]。" twenty times). The same words citing another quote stay:
    they are said of another article."""
    seen: dict[str, set[int]] = {}
    pieces, last = [], 0
    for s, e in sentence_spans(text):
        sentence = text[s:e]
        said, marks = _MARK.sub("", sentence).strip().rstrip("。！？!?；;，, "), mark_numbers(sentence)
        if said and said in seen and marks <= seen[said]:
            pieces.append(text[last:s].rstrip(" "))
        else:
            pieces.append(text[last:e])
            seen.setdefault(said, set()).update(marks)
        last = e
    pieces.append(text[last:])
    return "".join(pieces)


def parse_answer(text: str, evidence: Mapping[int, str] | Sequence[int], question: str = "",
                 titles: Mapping[int, str] | None = None) -> ParsedAnswer:
    """Normalize marks to ``[n]``, keep only ``evidence_numbers``, flag unmarked claims.

    A sentence is a claim when it has enough content (not a short connective
    such as "综上所述：") or when the model meant to cite it; a claim left with
    no valid mark (none given, or only invented numbers) is flagged. When
    ``evidence`` maps numbers to quotes, cited sentences are also checked for
    numbers their quotes do not contain, and for people that neither their quotes, their ``titles``
    nor ``question`` name.
    """
    quotes = dict(evidence) if isinstance(evidence, Mapping) else {}
    valid = set(evidence)
    cited: list[int] = []
    dropped: list[int] = []
    flagged: list[str] = []
    claim_flags: list[str] = []
    moved = _MARKS_AFTER_END.sub(lambda m: m.group(2).strip() + m.group(1), text.strip())
    moved = _without_repeats(_MARKS_BEFORE.sub(_marks_to_end, moved))
    pieces: list[str] = []
    last = 0
    for s, e in sentence_spans(moved):
        gap, sentence = moved[last:s], moved[s:e]
        last = e
        new = _replace_marks(sentence, valid, cited, dropped)
        body = _MARK.sub("", new).strip()
        substantial = content_chars(body) >= _MIN_CLAIM_CHARS
        is_claim = (substantial or _MARK.search(sentence) is not None) and not body.endswith(("：", ":"))
        marks = [int(n) for m in _MARK.finditer(new) for n in re.findall(r"\d+", m.group(1))]
        if is_claim and not marks and substantial and (marks := restated_by(body, quotes)):
            new = _with_marks(new, marks)  # a claim copied from a quote without its mark: the quote it restates
            cited.extend(n for n in marks if n not in cited)
        if is_claim and not marks:
            flag = FLAG
        elif quotes and _numbers_unsupported(new, [quotes[n] for n in marks]):
            flag = NUMBER_FLAG
        elif quotes and _names_unsupported(body, [quotes[n] + (titles or {}).get(n, "") for n in marks], question):
            flag = NAME_FLAG
        else:
            flag = ""
        if flag:
            flagged.append(body)
            new += flag
        if states_something(body):
            claim_flags.append(flag)
        pieces.append(gap + new)
    pieces.append(moved[last:])
    return ParsedAnswer("".join(pieces), tuple(cited), tuple(dropped), tuple(flagged), tuple(claim_flags))


def verify_quotes(citations: Sequence[Citation], text_of: Callable[[str], str | None]) -> list[Citation]:
    """The citations whose quote is exactly ``text_of(source)[start:end]``."""
    good = []
    for c in citations:
        text = text_of(c.source)
        if text is not None and c.quote and text[c.start:c.end] == c.quote:
            good.append(c)
    return good
