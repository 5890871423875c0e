"""The header of an official document (公文): 发文机关, 发文字号, title, 成文日期, 密级, 紧急程度.

A text is a 公文 when a 发文字号 line ("中组发〔2023〕5号", also with [ ] 【 】 or
（ ）) stands among its first lines. Above it are the 份号, 密级 and 紧急程度 lines
and the 发文机关标志 ("中共某某市委组织部文件"); below it the title (one or more
short lines, up to the 主送机关 line ending in ：). At the end, the signature
(发文机关署名) and the 成文日期 line (in figures or 二〇二三年五月十日), then
抄送 / 印发 lines.

``read_official`` returns the header fields and the ``body`` span: from the title
to the end of the text before the signature, so the header lines stay in the
stored text (the source viewer shows them) but out of the chunks.

Deliberately not here: anything about ordinary news articles (``ingest.metadata``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.types import OfficialHeader

_NUMBER = re.compile(r"^(?:签发人[：:]\S+\s*)?"
                     r"([\u4e00-\u9fff]{1,12}[〔\[【（(]\s*(?:19|20)\d{2}\s*[〕\]】）)]\s*\d{1,4}\s*号)")
_SECRECY = re.compile(r"^(绝密|机密|秘密)(★.{0,8})?$")
_URGENCY = re.compile(r"^(特急|加急|特提|平急)$")
_SERIAL = re.compile(r"^[0-9０-９]{3,8}$")
_ORGAN_MARK = re.compile(r"^(.{2,60}?)\s*文件$")
_DATE = re.compile(r"^((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
_CN_DIGIT = "〇○零一二三四五六七八九"
_CN_DATE = re.compile(rf"^([{_CN_DIGIT}]{{4}})年([{_CN_DIGIT}十]{{1,3}})月([{_CN_DIGIT}十]{{1,3}})日$")
_TAIL = re.compile(r"^(（此件.{0,20}）|\(此件.{0,20}\)|抄送[：:]|.{2,30}\s*(?:19|20)\d{2}年\d{1,2}月\d{1,2}日印发$)")
_HEAD_LINES = 8  # the 发文字号 must stand within the first lines
_TITLE_MAX = 40
_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"○": 0, "零": 0}


@dataclass(frozen=True)
class OfficialText:
    header: OfficialHeader
    body: tuple[int, int]  # [start, end) of the text to chunk


def _lines(text: str) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            start = pos + raw.index(stripped[0])
            out.append((start, start + len(stripped), stripped))
        pos += len(raw) + 1
    return out


def _iso(line: str) -> str:
    compact = re.sub(r"\s+", "", line)
    match = _DATE.match(compact)
    if match:
        y, m, d = (int(g) for g in match.groups())
    elif match := _CN_DATE.match(compact):
        y = int("".join(str(_CN_DIGITS[c]) for c in match.group(1)))
        m, d = _cn_number(match.group(2)), _cn_number(match.group(3))
    else:
        return ""
    return f"{y:04d}-{m:02d}-{d:02d}" if 1 <= m <= 12 and 1 <= d <= 31 else ""


def _cn_number(text: str) -> int:
    """一 … 三十一 as a number."""
    if "十" not in text:
        return _CN_DIGITS.get(text, 0)
    tens, _, ones = text.partition("十")
    return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)


def read_official(text: str) -> OfficialText | None:
    """The 公文 header and body span of ``text``, or ``None`` when it is not an official document."""
    lines = _lines(text)
    head = lines[:_HEAD_LINES]
    at = next((i for i, (_, _, ln) in enumerate(head) if _NUMBER.match(ln)), None)
    if at is None:
        return None
    number = re.sub(r"\s+", "", _NUMBER.match(head[at][2]).group(1))  # type: ignore[union-attr]
    organ = secrecy = urgency = ""
    for _, _, ln in head[:at]:
        if _SECRECY.match(ln):
            secrecy = ln
        elif _URGENCY.match(ln):
            urgency = ln
        elif (mark := _ORGAN_MARK.match(ln)) and not organ:
            organ = mark.group(1).strip()
        elif not _SERIAL.match(ln) and not organ:
            organ = ln
    title_lines, i = [], at + 1
    while i < len(lines) and len(title_lines) < 3:
        ln = lines[i][2]
        if len(ln) > _TITLE_MAX or ln.endswith(("：", ":")) or re.search(r"[。；！？]", ln):
            break
        title_lines.append(ln)
        i += 1
    title = "".join(title_lines)
    body_start = lines[at + 1][0] if at + 1 < len(lines) else len(text)
    issued, body_end, signer = _tail(lines, at + 1 + len(title_lines), len(text))
    return OfficialText(OfficialHeader(organ or signer, number, title, issued, secrecy, urgency),
                        (body_start, max(body_start, body_end)))


def _tail(lines: list[tuple[int, int, str]], first_body: int, text_end: int) -> tuple[str, int, str]:
    """(成文日期, where the body ends, signature organ) from the end of the document."""
    end = len(lines)
    while end > first_body and _TAIL.match(lines[end - 1][2]):
        end -= 1  # 抄送 / 印发 / 此件公开发布 lines
    for j in range(end - 1, max(first_body, end - 4) - 1, -1):
        issued = _iso(lines[j][2])
        if issued:
            body_end, signer = lines[j][0], ""
            if j - 1 >= first_body and len(lines[j - 1][2]) <= 30 and not re.search(r"[。；，！？]", lines[j - 1][2]):
                body_end, signer = lines[j - 1][0], lines[j - 1][2]
            return issued, _trim(lines, body_end), signer
    return "", lines[end - 1][1] if end > first_body else text_end, ""


def _trim(lines: list[tuple[int, int, str]], offset: int) -> int:
    """The end of the last line before ``offset``."""
    ends = [e for _, e, _ in lines if e <= offset]
    return ends[-1] if ends else offset

