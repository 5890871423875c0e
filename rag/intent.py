"""What kind of sentence a question wants: a figure, a date, or a measure taken.

"兴达公司有多少名党员？" wants a sentence with a figure, best one counted in 名 (a sum in 元 for
收入/罚款…, a percentage for 增长率/占比…); "何时成立" wants
a date; "怎么做 / 采取了哪些措施" wants a sentence saying what was done (建立、推行、选派…); "…的导演是谁",
"谁当选…市长" a sentence naming a person (jieba's person names).
Term coverage alone cannot tell "其中党员530名" from "党员们来到延安" when both name the
company and its members; the intent can. ``Intent.bonus(sentence)`` is a small score added
to a candidate window's term coverage when the window is of the wanted kind, and only to
choose among windows: the relevance used to refuse is left as it was.

Deliberately not here: scoring by terms (``rag.evidence``) or answering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.part_words import person_names

_UNITS = "个名家人位次项所条种批天年月户场座支件元亩公里平方米万亿倍"
_QUANTITY = re.compile(rf"多少|几[{_UNITS}]|几十|数量|人数|规模|比例|占比|增长率|增幅|百分之|排名|第几|"
                       r"多大|多长|多高|多远")
_ASKED_UNIT = re.compile(rf"(?:多少|几)(?:个?(百分点)|([{_UNITS}]))")  # "多少个百分点" asks percentage points, not 个
# A question about money wants a sum ("收入2872.1亿元"), one about a rate a percentage ("增长率5.3%").
_RATE = re.compile(r"率|比例|比重|占比|增速|增幅|百分")
_MONEY = re.compile(r"多少钱|收入|收益|营收|营业额|利润|投资|投入|经费|罚款|罚金|奖金|票房|市值|产值|销售额|成交额|"
                    r"税收|GDP|工资|资金|金额|预算|补贴|补助|赔偿")
_UNIT_PATTERNS = {"元": r"(?:[美欧日港韩澳台]?元|英镑|卢布|兹罗提)", "%": "%", "百分点": r"个?百分点"}
_TIME = re.compile(r"何时|什么时候|哪一年|哪年|哪一天|哪天|几月|几号|时间|日期")
_HOW = re.compile(r"怎么|怎样|如何|哪些(?:做法|措施|举措|办法|经验)|什么(?:做法|措施|举措|办法)|采取了|做法")
_CN_NUMERAL = "一二三四五六七八九十百千万两"
_NUMBER = re.compile(rf"[0-9０-９]+(?:\.[0-9]+)?|[{_CN_NUMERAL}]+(?=[个名家人位次项所条种批户场座支件倍])")
_DATE = re.compile(r"(?:19|20)\d{2}\s*年|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}\s*月(?:份|初|底|中旬|下旬|上旬)?")
# A time said without a month or year: "8日举行", "今天", "周五", "年底"
_WHEN = re.compile(rf"[0-9０-９{_CN_NUMERAL}]\s*[日号时点]|[今昨明前后]天|[今去明]年|星期|周[一二三四五六日末]|"
                   r"春节|元旦|年初|年底|月初|月底|上旬|中旬|下旬")
_MEASURE = re.compile(r"建立|推行|实施|打造|开展|选派|设立|探索|创新|推动|组建|成立|构建|搭建|健全|完善|落实|"
                      r"组织|举办|制定|出台|建成|引导|实行|采取|通过")
_ORGANISATION = re.compile(r"(?:[党团]|经济|社会|基层|群团|上级)组织|组织(?:部|关系|生活|委员)")
# A question for a person: a role only people fill ("…的导演和编剧", "谁当选台北市市长"). Not 谁 or 冠军 alone: they
# ask for a team or an organisation as often ("同组对手有谁", "谁认为LK-99不是超导体", "超级碗冠军").
_PERSON = re.compile(r"主演|演员|导演|编剧|作者|主持人|旗手|火炬手|得主|市长|省长|总统|首相|总理|行政长官")
# A question whose answer is who, people or a team ("…是谁", "《心居》的主演有哪些", "哪些…选手", "男女单打冠军"):
# wider than _PERSON, for the check that the names an answer gives are in its quotes (``rag.citations``)
_ASKS_WHO = re.compile(rf"谁|{_PERSON.pattern}|冠军|选手|球员|运动员|嘉宾|成员|人员")
# A clause stating a per-head figure ("全市人均地区生产总值为18.4万元") does not answer a question about the whole
_PER_HEAD = re.compile(r"[^，。；！？,;!?]*人均[^，。；！？,;!?]*")
# a part of a year: a quarter, a half, months ("1-3月", "前7个月", "7月份", "7月CPI"), not a day's date ("7月17日")
_PART_OF_YEAR = re.compile(r"季度|[上下]半年|前[一二三四五六七八九十两\d]{1,2}个?月|\d{1,2}\s*[-—~至到]\s*\d{1,2}\s*月"
                           r"|(?<!\d)\d{1,2}\s*月(?!\s*\d{1,2}\s*[日号])|[一二三四五六七八九十]{1,2}月份")
_PART_OF_YEAR_SENTENCE = re.compile(rf"[^。；！？;!?]*(?:{_PART_OF_YEAR.pattern})[^。；！？;!?]*")
_NAMED_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*年")
PERSON_BONUS = 0.12  # a window naming a person, for a question asking for one
FIGURE_BONUS = 0.12  # a window with a figure, for a quantity question
UNIT_BONUS = 0.08  # more when the figure is counted in the asked unit (多少名 → 530名)
DATE_BONUS = 0.12
MEASURE_BONUS = 0.06


@dataclass(frozen=True)
class Intent:
    quantity: bool = False
    unit: str = ""
    time: bool = False
    how: bool = False
    person: bool = False
    per_head: bool = False  # the question asks a per-head figure (人均)
    whole_year: bool = False  # the question names a year and no part of one (季度, 上半年, 7月)

    def bonus(self, text: str) -> float:
        """How much better ``text`` fits the question's kind (0 when it fits no better than any other).

        For a quantity, a figure in a 人均 clause counts only when the question asks 人均: "北京2021年的GDP" is
        "全年实现地区生产总值40269.6亿元", not "全市人均地区生产总值为18.4万元". Likewise a figure in a sentence
        about part of a year counts only when the question names such a part: "2021年美国经济增长了多少" is
        "2021年全年GDP增长率为5.7%", not "2021年第四季度…达到6.9%的年增长率"."""
        score = 0.0
        counted = self._counted(text) if self.quantity else ""
        if _NUMBER.search(counted):
            score += FIGURE_BONUS
            if self.unit and _counted_in(self.unit).search(counted):
                score += UNIT_BONUS
        if self.time and _DATE.search(text):
            score += DATE_BONUS
        if self.how and _MEASURE.search(text):
            score += MEASURE_BONUS
        if self.person and names_a_person(text):
            score += PERSON_BONUS
        return score

    def _counted(self, text: str) -> str:
        """``text`` without what cannot state the asked figure: 人均 clauses, and sentences about part of a year."""
        counted = text if self.per_head or "人均" not in text else _PER_HEAD.sub("", text)
        return _PART_OF_YEAR_SENTENCE.sub("", counted) if self.whole_year else counted


@lru_cache(maxsize=64)
def _counted_in(unit: str) -> re.Pattern[str]:
    """A figure counted in ``unit``, after any scale and 余/多: "530名", "1.2万余名", "2872.1亿元" for 元."""
    return re.compile(rf"[0-9０-９{_CN_NUMERAL}]\s*(?:余|多)?[万亿千百]*(?:余|多)?\s*{_UNIT_PATTERNS.get(unit, unit)}")


@lru_cache(maxsize=4096)
def names_a_person(text: str) -> bool:
    """True when jieba reads a person's name (two characters or more) in ``text`` (``person_names``)."""
    return bool(person_names(text))


def asks_who(question: str) -> bool:
    """The answer to ``question`` is who: one or more people, or a team ("…的导演是谁", "《心居》的主演有哪些",
    "男女单打冠军")."""
    return _ASKS_WHO.search(question) is not None


def names_a_measure(text: str) -> bool:
    """True when ``text`` has a word for something done (建立、推行、选派…)."""
    return _MEASURE.search(text) is not None


def says_what_was_done(sentence: str) -> bool:
    """True when ``sentence`` states a measure: a word for something done that is not part of an
    organisation's name ("党组织", "非公经济组织" name who, not what was done)."""
    return names_a_measure(_ORGANISATION.sub("", sentence))


def lacks_asked_kind(answer: str, question: str) -> bool:
    """``answer`` is not of the kind ``question`` asks: no figure for a 多少 question, no date for a 何时 one
    ("流浪地球2在俄罗斯的上映时间" answered "流浪地球二上映俄罗斯[5]"; "耶伦访华时间" answered "…有4天时间…").
    A question asking both ("花费的时间占工作时长的百分比是多少") wants the figure."""
    intent = question_intent(question)
    if intent.quantity:
        return _NUMBER.search(answer) is None
    return intent.time and _DATE.search(answer) is None and _WHEN.search(answer) is None


def question_intent(question: str) -> Intent:
    asked = _ASKED_UNIT.search(question)
    unit = (asked.group(1) or asked.group(2)) if asked \
        else "%" if _RATE.search(question) else "元" if _MONEY.search(question) else ""
    return Intent(quantity=bool(_QUANTITY.search(question)), unit=unit,
                  time=bool(_TIME.search(question)), how=bool(_HOW.search(question)),
                  person=bool(_PERSON.search(question)), per_head="人均" in question,
                  whole_year=bool(_NAMED_YEAR.search(question)) and not _PART_OF_YEAR.search(question))
