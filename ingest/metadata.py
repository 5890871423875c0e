"""Article metadata from cleaned text: title, outlet, byline, date, regions.

Heuristics for Chinese news layouts: a title line (or ``原标题：`` in wire
copy), bylines such as "■中国城市报记者 …" / "本报记者 …" / "夏海军 自贡网记者
缪静", an ISO or 年月日 date near the top. Regions come from the gazetteer in
``rag.regions``, weighted toward the title and lead.

Deliberately not here: inferring a year for dates written without one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.regions import load_gazetteer

_TITLE_MAX = 60
_HEAD = 400  # characters of the article searched for byline and date
_ORIGINAL_TITLE = re.compile(r"原标题[：:]\s*([^\n]+)")
_WIRE_PREFIX = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:\s+\d{1,2}:\d{2})?[，,]\s*正文[：:]\s*")
_DATE = re.compile(r"(20\d{2}|19\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?")
_BYLINE = re.compile(r"(记者|通讯员|特约撰稿|文/图|供稿|作者[：:])")
_OUTLET = re.compile(r"■?\s*([\u4e00-\u9fff]{2,12}?(?:日报|晚报|报|网|电视台|台|通讯社|社|新闻))记者")
_SENTENCE_END = re.compile(r"[。！？!?]")


@dataclass(frozen=True)
class ArticleMetadata:
    title: str
    outlet: str
    byline: str
    date: str
    regions: tuple[str, ...]


def extract_metadata(text: str, fallback_title: str) -> ArticleMetadata:
    """Metadata of one cleaned article; ``fallback_title`` (the file stem) when none is found."""
    head = text[:_HEAD]
    return ArticleMetadata(
        title=_title(text) or fallback_title,
        outlet=_outlet(head),
        byline=_byline(head),
        date=_date(head),
        regions=_regions(text),
    )


def _title(text: str) -> str:
    wire = _ORIGINAL_TITLE.search(text[:_HEAD])
    line = wire.group(1) if wire else _WIRE_PREFIX.sub("", text, count=1).split("\n", 1)[0]
    line = line.strip().lstrip("#").strip()
    if wire and (end := _SENTENCE_END.search(line)):
        line = line[: end.start()]  # wire copy runs the body on after the title
    if len(line) > _TITLE_MAX:
        end = _SENTENCE_END.search(line)
        line = line[: end.start()] if end and end.start() <= _TITLE_MAX else line[:_TITLE_MAX] + "…"
    return line


def _byline(head: str) -> str:
    for line in head.split("\n")[:6]:
        if len(line) <= 60 and _BYLINE.search(line):
            return line.strip("■ ")
    return ""


def _outlet(head: str) -> str:
    match = _OUTLET.search(_byline(head))
    return match.group(1) if match and match.group(1) != "本报" else ""


def _date(head: str) -> str:
    for match in _DATE.finditer(head):
        year, month, day = (int(g) for g in match.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return ""


def _regions(text: str) -> tuple[str, ...]:
    gazetteer = load_gazetteer()
    title_line = text.split("\n", 1)[0]
    # The title and lead count extra: they say what the article is about.
    return gazetteer.find(f"{title_line}\n{title_line}\n{text[:_HEAD]}\n{text}")
