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
# crawled news: a line of page furniture before "正文：", e.g. "2023-07-25 06:14:22，正文：…",
# "2023-08-09 14:34 来源： 红星新闻网 ，正文：…", "202308/1407:48:11，正文：",
# "华夏经纬网 > 新闻 > … 2023-07-31 …，正文："
_WIRE_PREFIX = re.compile(r"^\s*([^\n]{0,80}?)[，,]?\s*正文[：:]\s*")
_PREFIX_DATES = (
    re.compile(r"(20\d{2})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})"),  # 2023-08-09, 2023年08月14日
    re.compile(r"(20\d{2})(\d{2})/(\d{2})"),  # 202308/14
    re.compile(r"(?<!\d)(\d{2})-(\d{2})-(\d{2})(?!\d)"),  # 23-07-25
)
_PREFIX_OUTLET = (re.compile(r"来源[：:]\s*([^，,\s]{2,20})"),
                  re.compile(r"^\s*([\u4e00-\u9fff]{2,12}?(?:网|报|社|台))\s*>"))
# a dateline opening the body: "荆楚网（湖北日报网）讯（通讯员…）" / "本报宁波7月24日电 （记者窦皓）"
_DATELINE = re.compile(r"^([^，。：:\n]{2,24}?)(?:讯|电)\s*(?:[（(][^）)\n]{0,40}[）)])?\s*")
_DATELINE_OUTLET = re.compile(r"^([\u4e00-\u9fff]{2,12}?(?:日报|晚报|报|网|电视台|台|通讯社|社|新闻))")
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
    wire = _WIRE_PREFIX.match(text)
    prefix = wire.group(1) if wire else ""
    return ArticleMetadata(
        title=_title(text) or fallback_title,
        outlet=_prefix_outlet(prefix) or _outlet(head),
        byline=_byline(head),
        date=_prefix_date(prefix) or _date(head),
        regions=_regions(text),
    )


def _prefix_date(prefix: str) -> str:
    for pattern in _PREFIX_DATES:
        match = pattern.search(prefix)
        if match:
            year, month, day = (int(g) for g in match.groups())
            year += 2000 if year < 100 else 0
            if 1 <= month <= 12 and 1 <= day <= 31:
                return f"{year:04d}-{month:02d}-{day:02d}"
    return ""


def _prefix_outlet(prefix: str) -> str:
    for pattern in _PREFIX_OUTLET:
        match = pattern.search(prefix)
        if match:
            return match.group(1)
    return ""


def _title(text: str) -> str:
    wire = _ORIGINAL_TITLE.search(text[:_HEAD])
    crawled = _WIRE_PREFIX.match(text)
    body = text[crawled.end():] if crawled else text
    if crawled and not wire:
        body = _DATELINE.sub("", body, count=1)  # a crawled article: its first sentence, without the dateline
    line = wire.group(1) if wire else body.split("\n", 1)[0]
    line = line.strip().lstrip("#").strip()
    if (wire or crawled) and (end := _SENTENCE_END.search(line)):
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
    if match and match.group(1) != "本报":
        return match.group(1)
    dateline = _DATELINE.match(_WIRE_PREFIX.sub("", head, count=1))
    named = _DATELINE_OUTLET.match(dateline.group(1)) if dateline else None
    return named.group(1) if named and not named.group(1).startswith("本报") else ""


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
