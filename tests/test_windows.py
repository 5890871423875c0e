"""The quoted window of a chosen passage: the best by words, re-picked among close runners-up by meaning.

The logic tests give ``closest_windows`` a stand-in for the knowledge base's similarities; the last test
goes through the real knowledge base (Chroma, BM25, the embedding model) with a real article.
"""

from __future__ import annotations

import numpy as np

from rag.intent import question_intent
from rag.types import Chunk
from rag.windows import closest_windows, ranked_windows, untitled_best
from tests.conftest import knowledge_base_of

TELECOM = ("中新社香港8月8日电 中国电信股份有限公司(中国电信)8日在港公布2023年中期业绩。"
           "期内，中国电信经营收入2587亿元(人民币，下同)，同比增长7.7%，实现归母净利润202亿元，同比增长10.2%。"
           "根据财报，在2023年上半年，中国电信移动通信服务收入达1016亿元，同比增长2.7%；"
           "产业数字化业务收入为688亿元，同比增长16.7%，占服务收入比达到29.2%。")


class _Similarities:
    """Stands in for ``KnowledgeBase.similarities``: a fixed similarity per text fragment, and what was asked."""

    def __init__(self, by_fragment: dict[str, float]) -> None:
        self.by_fragment = by_fragment
        self.asked: list[str] = []

    def similarities(self, query: str, texts: list[str]) -> np.ndarray:
        self.asked += texts
        return np.array([next((v for f, v in self.by_fragment.items() if f in t), 0.0) for t in texts], np.float32)


def _chunk(text: str, title: str = "标题") -> Chunk:
    return Chunk(chunk_id="c", source="a.txt", ordinal=0, start=0, end=len(text), text=text, title=title)


def _ranked(text: str, question: str, terms: dict[str, float], place: frozenset[str] = frozenset()):
    return ranked_windows(text, terms, sum(terms.values()), question_intent(question), place)


def test_a_close_runner_up_nearer_in_meaning_is_quoted_instead_of_the_best_by_words():
    text = "甲公司上半年营业收入中海外收入占30%。\n\n公司经营收入同比增长8%。"  # two paragraphs: never one window
    question = "甲公司上半年营业收入同比增长多少？"
    terms = {"上半年": 1.0, "营业": 1.0, "收入": 1.0, "同比": 1.0, "增长": 0.6}
    ranked = _ranked(text, question, terms)
    assert "30%" in text[ranked[0][1][0]:ranked[0][1][1]]  # by words: 3 of 4.6 against 2.6
    assert "8%" not in text[ranked[0][1][0]:ranked[0][1][1]]
    kb = _Similarities({"30%": 0.30, "8%": 0.80})
    (s, e, _), = closest_windows(kb, question, [_chunk(text)], [ranked])
    assert "8%" in text[s:e]
    # nearer in meaning, but not enough: the best by words stays
    kb = _Similarities({"30%": 0.30, "8%": 0.40})
    (s, e, _), = closest_windows(kb, question, [_chunk(text)], [ranked])
    assert "30%" in text[s:e]


def test_no_runner_up_far_behind_lacking_the_asked_kind_or_shown_by_the_title_is_embedded():
    question = "北京高考出分时间是哪天？"
    terms = {"北京": 1.0, "高考": 1.0, "出分": 1.0, "时间": 1.0}
    far = "北京高考出分时间：6月25日。\n\n今天是6月1日，天气晴朗。"  # a date too, but none of the question's words
    kb = _Similarities({"天气": 0.99})
    (s, e, _), = closest_windows(kb, question, [_chunk(far)], [_ranked(far, question, terms)])
    assert "6月25日" in far[s:e] and kb.asked == []
    no_date = "北京高考出分时间：6月25日。\n\n北京高考出分时间将在官网公布。"  # as well covered, but no date
    kb = _Similarities({"官网": 0.99})
    (s, e, _), = closest_windows(kb, question, [_chunk(no_date)], [_ranked(no_date, question, terms)])
    assert "6月25日" in no_date[s:e] and kb.asked == []
    # the title line is close behind the dated one (its 2026年 counts as a date), but is shown above the quote
    titled = "2026年北京高考成绩查询入口\n\n高考成绩公布：6月25日"
    question, terms = "北京高考成绩公布时间", {"北京": 1.0, "高考": 1.0, "成绩": 1.0, "公布": 0.4}
    ranked = _ranked(titled, question, terms, frozenset({"北京"}))
    assert ranked[0][0][0] - ranked[1][0][0] < 0.15 and ranked[1][2] >= ranked[0][2]
    kb = _Similarities({"入口": 0.99})
    (s, e, _), = closest_windows(kb, question, [_chunk(titled, title="2026年北京高考成绩查询入口")], [ranked])
    assert "6月25日" in titled[s:e] and kb.asked == []


def test_the_quote_says_the_asked_figure_in_other_words_through_a_real_knowledge_base(tmp_path, embeddings):
    """crud: "营业收入" asked, "经营收入…同比增长7.7%" written; by words alone the quote was the sentence repeating
    "2023年上半年…收入…同比增长" about mobile services (2.7%)."""
    from rag.chain import ask

    kb = knowledge_base_of(tmp_path, embeddings, {"telecom.txt": TELECOM})
    answer = ask(kb, "中国电信在2023年上半年的营业收入同比增长了多少？", llm="none")
    assert answer.citations and "7.7%" in answer.citations[0].quote, answer.text
    quote = answer.citations[0]
    assert quote.quote == kb.document("telecom.txt").text[quote.start:quote.end]


US_2021 = ("尽管受到新冠疫情的困扰，但美国经济持续增长，2021年第四季度国内生产总值（GDP）达到6.9%的年增长率，"
           "超过经济学家增长5.5%的预期，这一增长速度是37年来最强劲的。与此同时，股市、房市大幅度增长，通货膨胀率也快速上涨，失业率则处于历史低位。"
           " 美国商务部所属经济统计局（BEA）数据显示，2021年全年GDP增长率为5.7%，GDP总额达到22.99万亿美元。")
# RGB integration (CC BY-NC-SA 4.0)
CHIP_JOBS = ("SIA先前与牛津经济研究院合作进行了一项研究，结果显示，到2030年，美国半导体行业的工作岗位将从目前的"
             "约34.5万个增加到约46万个，增幅近11.5万个；如果不采取行动，其中的6.7万个工作岗位可能面临无人可用的风险。"
             "到2030年，美国预计将新增385万个需要精通技术领域的工作岗位。")  # CRUD-RAG news


def test_a_question_naming_a_year_alone_is_answered_by_the_whole_years_figure_not_a_quarters():
    """"2021年美国经济增长了多少？" (RGB integration) was quoted the fourth quarter's 6.9%, a sentence that says 2021年…
    增长 as well as the whole year's 5.7%. A figure in a sentence about a part of the year (a quarter, a half, months)
    is not the asked figure when the question names the year and no part of it; it is when the question names one."""
    terms = {"2021": 1.8, "年": 0.6, "美国": 2.0, "经济": 1.2, "增长": 1.0}
    year = question_intent("2021年美国经济增长了多少？")
    s, e, _ = ranked_windows(US_2021, terms, sum(terms.values()), year)[0][1]
    assert "5.7%" in US_2021[s:e] and "6.9%" not in US_2021[s:e]
    quarter = question_intent("2021年第四季度美国经济增长了多少？")
    s, e, _ = ranked_windows(US_2021, terms | {"第四季度": 2.0}, sum(terms.values()) + 2.0, quarter)[0][1]
    assert "6.9%" in US_2021[s:e]
    assert year.bonus("2022年1月17日，国家统计局发布，2021年GDP增长8.1%。") > 0  # a day's date is no part of a year
    assert year.bonus("2021年1-3月，香港本地生产总值按年实质上升2.7%。") == 0
    assert year.bonus("7月份，CPI同比上涨0.3%。") == 0


def test_a_clause_ended_by_a_semicolon_is_read_with_the_clause_that_leans_on_it():
    """"到2030年，美国半导体行业预计将有多少个岗位空缺？" (crud): the answer is in the clause after "；", which says
    其中的6.7万个 without the question's words; it is read with the half sentence it leans on. A clause after "；"
    that does not lean on it (二是…, 净亏损为…) is not."""
    terms = {"2030": 1.5, "年": 0.5, "美国": 1.5, "半导体": 2.0, "行业": 1.0, "岗位": 1.5, "空缺": 2.5}
    question = "到2030年，美国半导体行业预计将有多少个岗位空缺？"
    s, e, _ = _ranked(CHIP_JOBS, question, terms)[0][1]
    assert "6.7万个" in CHIP_JOBS[s:e] and CHIP_JOBS[s:e].startswith("SIA")
    apart = CHIP_JOBS.replace("如果不采取行动，其中的", "另有报告称，")
    s, e, _ = _ranked(apart, question, terms)[0][1]
    assert apart[s:e].endswith("增幅近11.5万个；")


def test_the_whole_years_figure_and_the_clause_after_a_semicolon_through_a_real_knowledge_base(tmp_path, embeddings):
    """Both through Chroma, BM25 and the embedding model: each quote verbatim at its offsets, with the asked figure."""
    from rag.chain import ask

    kb = knowledge_base_of(tmp_path, embeddings, {"us.txt": US_2021, "chips.txt": CHIP_JOBS})
    for question, figure, other in (("2021年美国经济增长了多少？", "5.7%", "6.9%"),
                                    ("到2030年，美国半导体行业预计将有多少个岗位空缺？", "6.7万个", "")):
        answer = ask(kb, question, llm="none")
        first = answer.citations[0]
        assert figure in first.quote and (not other or other not in first.quote), (question, first.quote)
        assert kb.document(first.source).text[first.start:first.end] == first.quote


REPORT = ("新华社石家庄9月23日电（记者杨帆、齐雷杰）23日，“唐山烧烤店打人案”在河北省廊坊市广阳区人民法院一审公开宣判，"
          "主犯陈继志被判有期徒刑24年，并处罚金人民币32万元。")
OUTLET_A = "法治日报转载新华社消息。\n" + REPORT + "\n本报将持续关注案件进展。"
# the same report, a space apart
OUTLET_B = "本网综合消息：\n" + REPORT.replace("电（", "电 （") + "\n（责任编辑：王敏）"
OTHERS = ("法院动态\n二审宣判。河北省廊坊市中级人民法院驳回上诉，"
          "维持“唐山烧烤店打人案”主犯陈继志有期徒刑24年的一审判决，其余27名被告人分别被判处十一年至六个月不等的有期徒刑。")


def test_a_report_carried_by_two_outlets_is_quoted_once_and_the_next_passage_takes_its_place(tmp_path, embeddings):
    """Through Chroma, BM25 and the embedding model: two outlets carry one report word for word (spaces aside).
    With room for two quotes, the report is quoted once and the second place goes to the other article."""
    from rag.chain import ask
    from rag.evidence import select_evidence
    from rag.retrieval import search
    from rag.text import normalize

    kb = knowledge_base_of(tmp_path, embeddings, {"a.txt": OUTLET_A, "b.txt": OUTLET_B, "others.txt": OTHERS})
    question = "唐山烧烤店打人案件主犯被判多少年？"
    picked = select_evidence(kb, question, search(kb, question), 2)
    quotes = [e.citation for e in picked]
    assert len({normalize(c.quote) for c in quotes}) == len(quotes) == 2, [c.quote for c in quotes]
    assert sorted(c.source for c in quotes)[1:] == ["others.txt"], [(c.source, c.quote) for c in quotes]
    answer = ask(kb, question, llm="none")
    shown = [normalize(c.quote) for c in answer.citations]
    assert len(shown) == len(set(shown)) and sum("陈继志被判有期徒刑24年" in q for q in shown) == 1, answer.text
    assert all(kb.document(c.source).text[c.start:c.end] == c.quote for c in answer.citations)


# the same report inside a longer quote: another outlet puts a line before it
OUTLET_C = "本网综合消息：\n唐山烧烤店打人案件一审宣判。" + REPORT + "\n（责任编辑：王敏）"


def test_a_quote_inside_another_quote_is_a_copy_and_the_report_is_quoted_once(tmp_path, embeddings):
    """Through Chroma, BM25 and the embedding model: one outlet's quote holds all of another's and a line more.
    The report is quoted once, in no quote inside another, whichever outlet is quoted; the answer cites it once."""
    from rag.chain import ask
    from rag.evidence import select_evidence
    from rag.retrieval import search
    from rag.text import normalize

    kb = knowledge_base_of(tmp_path, embeddings, {"a.txt": OUTLET_A, "c.txt": OUTLET_C, "others.txt": OTHERS})
    question = "唐山烧烤店打人案件主犯被判多少年？"
    quotes = [e.citation for e in select_evidence(kb, question, search(kb, question), 3)]
    said = [normalize(c.quote) for c in quotes]
    assert not any(i != j and a in b for i, a in enumerate(said) for j, b in enumerate(said)), said
    assert sum("陈继志被判有期徒刑24年" in q for q in said) == 1, said
    assert all(kb.document(c.source).text[c.start:c.end] == c.quote for c in quotes)
    answer = ask(kb, question, llm="none")
    assert sum("陈继志被判有期徒刑24年" in c.quote for c in answer.citations) == 1, answer.text


# RGB integration (CC BY-NC-SA 4.0): the film is named in the first sentence only
XINJU = ("《心居》定档时，很多人都说《人世间》播完后又有好剧可以追了。"
         "的确，主演海清、童谣、张颂文、冯绍峰，演员阵容不错。导演滕华涛拍这种生活剧得心应手。")
XINJU_TITLE = "《心居》定档时，很多人都说《人世间》播完后又有好剧可以追了"
# other films' directors: 导演 is a common word of the knowledge base, 心居 a rare one
_FILMS = [("《长津湖》", "陈凯歌", "9月30日"), ("《狂飙》", "徐纪周", "1月14日"), ("《人世间》", "李路", "1月28日"),
          ("《少年时代》", "陈凯歌", "8月17日")]
FILMS = {f"film{i}.txt": f"{name}\n电影{name}由导演{who}执导，主演阵容强大，{day}正式上映。"
         for i, (name, who, day) in enumerate(_FILMS)}


def test_a_sentence_under_a_title_naming_the_subject_is_read_as_about_it():
    """"《心居》的导演是谁": the sentence naming the director says 导演 but not 《心居》, which only the first sentence
    (the article's title) names. By its own words the first sentence won, with no director in it. Every sentence now
    holds the title's words when windows are ranked; the window's own coverage, which decides how relevant the
    passage is, is what it was."""
    from rag.abbreviations import held_words

    question = "《心居》的导演是谁"
    terms = {"心居": 3.0, "导演": 1.5}
    plain = _ranked(XINJU, question, terms)
    assert "滕华涛" not in XINJU[plain[0][1][0]:plain[0][1][1]]
    titled = ranked_windows(XINJU, terms, 4.5, question_intent(question), titled=held_words(XINJU_TITLE))
    s, e, _ = titled[0][1]
    assert "滕华涛" in XINJU[s:e] and "心居" not in XINJU[s:e]
    assert untitled_best(titled) == plain[0][1]  # how relevant the passage is: the same window as before


def test_each_part_is_quoted_its_own_sentence_under_the_title_through_a_real_knowledge_base(tmp_path, embeddings):
    """Through Chroma, BM25 and the embedding model: "《心居》的主演有谁，导演是谁？" is asked in two parts. The 导演
    part's best window was the first sentence (the title's, with the 主演 sentence): a quote about the other part, so
    the part was answered 资料中没有找到. Now it is quoted the director's sentence."""
    from rag.chain import ask

    kb = knowledge_base_of(tmp_path, embeddings, {"xinju.txt": XINJU_TITLE + "\n" + XINJU, **FILMS})
    answer = ask(kb, "《心居》的主演有谁，导演是谁？", llm="none")
    assert answer.parts == ("《心居》的主演有谁", "《心居》的导演是谁"), answer.parts
    director = answer.text.split("二、", 1)[1]
    assert "滕华涛" in director and "海清" in answer.text.split("二、", 1)[0], answer.text
    assert all(kb.document(c.source).text[c.start:c.end] == c.quote for c in answer.citations)
