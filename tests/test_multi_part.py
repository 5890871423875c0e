"""Multi-part questions and the model's answer checked against the evidence (issue 15).

Splitting is pure logic (``rag.parts``); everything else runs through the real sample
knowledge base (Chroma, BM25, the embedding model). The chat model is a LangChain fake
where the test needs the model to say one exact thing (refuse, state a wrong figure,
answer only one part); ``tests/test_llm_real.py`` runs a multi-part question through the
real local model.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag.chain import ask
from rag.citations import parse_answer
from rag.evidence import Evidence, PartEvidence, own_quotes, states_answer
from rag.model_calls import model_calls
from rag.part_answer import PartSplit, complete_parts, join_part_answers, mark_part, own_first, speaking_of_part
from rag.part_clauses import attribute_questions
from rag.parts import part_words, question_parts
from rag.support import strip_support
from rag.types import Answer, Citation


@pytest.mark.parametrize(("question", "parts"), [
    ("乐山和自贡分别选派了多少名党建指导员？", ("乐山选派了多少名党建指导员？", "自贡选派了多少名党建指导员？")),
    ("2021年香港和澳门的GDP增长率", ("2021年香港的GDP增长率", "2021年澳门的GDP增长率")),
    ("乐山、自贡和南山区是怎么做楼宇党建的",
     ("乐山是怎么做楼宇党建的", "自贡是怎么做楼宇党建的", "南山区是怎么做楼宇党建的")),
    ("2021年和2022年全国棉花产量分别是多少", ("2021年全国棉花产量是多少", "2022年全国棉花产量是多少")),
    ("《流浪地球2》和《满江红》的票房分别是多少", ("《流浪地球2》的票房是多少", "《满江红》的票房是多少")),
    ("上饶经开区和自贡高新区分别受理了多少个企业问题？",
     ("上饶经开区受理了多少个企业问题？", "自贡高新区受理了多少个企业问题？")),
    ("上海2021年的GDP和2022年中国研发经费总投入分别是多少？",
     ("上海2021年的GDP是多少？", "2022年中国研发经费总投入是多少？")),
    ("北京冬奥会和冬残奥会的吉祥物分别是什么", ("北京冬奥会的吉祥物是什么", "冬残奥会的吉祥物是什么")),
    # a year in the shared tail, a Latin-lettered name, a company whose name starts with a place name
    ("苹果和华为的2022年营收分别是多少？", ("苹果的2022年营收是多少？", "华为的2022年营收是多少？")),
    ("梅西和C罗在2022年世界杯上进了几个球？", ("梅西在2022年世界杯上进了几个球？", "C罗在2022年世界杯上进了几个球？")),
    ("腾讯与阿里巴巴2023年第一季度的营收", ("腾讯2023年第一季度的营收", "阿里巴巴2023年第一季度的营收")),
    # a bare 各 distributes like 分别 (jieba would have read "罗各" as a name)
    ("梅西和C罗各进了几个球？", ("梅西进了几个球？", "C罗进了几个球？")),
    ("乐山和自贡各选派了多少名党建指导员？", ("乐山选派了多少名党建指导员？", "自贡选派了多少名党建指导员？")),
    # one predicate per item ("分别 V1或V2"), for like items and for whole phrases
    ("知网垄断和台积电美国新厂分别被罚或计划投资多少钱？", ("知网垄断被罚多少钱？", "台积电美国新厂计划投资多少钱？")),
    ("乐山和自贡分别选派或培训了多少名党建指导员？", ("乐山选派多少名党建指导员？", "自贡培训了多少名党建指导员？")),
    ("苹果和华为的营收分别增长或下降了多少？", ("苹果的营收增长多少？", "华为的营收下降了多少？")),  # 的营收 is shared
    # alternatives that do not match the items one to one stay shared
    ("乐山和自贡分别是何时或在哪里成立楼宇党委的？",
     ("乐山是何时或在哪里成立楼宇党委的？", "自贡是何时或在哪里成立楼宇党委的？")),
    # two-character names jieba does not read as nouns (微软: an adjective; 和蔚/来 for 和蔚来)
    ("苹果和微软的市值分别是多少？", ("苹果的市值是多少？", "微软的市值是多少？")),
    ("特斯拉和蔚来分别交付了多少辆车？", ("特斯拉交付了多少辆车？", "蔚来交付了多少辆车？")),
    # a message of two whole questions
    ("知网垄断被罚多少钱？台积电美国新厂计划投资多少钱？", ("知网垄断被罚多少钱？", "台积电美国新厂计划投资多少钱？")),
    # two like words whose shared words stand before the first and after the second (RGB's integration set)
    ("2022年澳网男单和女单冠军分别是谁？", ("2022年澳网男单冠军是谁？", "2022年澳网女单冠军是谁？")),
    ("2021年中国和美国经济分别增长了多少？", ("2021年中国经济增长了多少？", "2021年美国经济增长了多少？")),
    ("北京冬奥会女子和男子500米速度滑冰金牌分别是谁",
     ("北京冬奥会女子500米速度滑冰金牌是谁", "北京冬奥会男子500米速度滑冰金牌是谁")),
    ("2022年卡塔尔世界杯冠军和亚军分别是谁", ("2022年卡塔尔世界杯冠军是谁", "2022年卡塔尔世界杯亚军是谁")),
    ("兴达公司和中圣科技分别是如何依靠党员推动技术创新的？",  # unlike words: whole names, as before
     ("兴达公司是如何依靠党员推动技术创新的？", "中圣科技是如何依靠党员推动技术创新的？")),
    # a name jieba cut after its first character (和英/伟达, 吴/易/昺); a year written onto Latin letters
    ("英特尔和英伟达全年营收", ("英特尔全年营收", "英伟达全年营收")),
    ("张之臻和吴易昺的成绩？", ("张之臻的成绩？", "吴易昺的成绩？")),
    ("CBA和NBA2021-2022赛季总冠军", ("CBA2021-2022赛季总冠军", "NBA2021-2022赛季总冠军")),
    # a set phrase (国家和地区) is one thing; a 分别 before the items goes
    ("分别有多少个国家和地区参加了北京冬奥会和杭州亚运会？",
     ("有多少个国家和地区参加了北京冬奥会？", "有多少个国家和地区参加了杭州亚运会？")),
    # a bare year coordinated with another; a shared "的时间" the first phrase already ends in
    ("EMNLP2022和2023的举办地", ("EMNLP2022的举办地", "EMNLP2023的举办地")),
    ("中超2022赛季开赛时间和新冠实施乙类乙管的时间分别是什么时候？",
     ("中超2022赛季开赛时间是什么时候？", "新冠实施乙类乙管的时间是什么时候？")),
    # two phrases of one shape: the same words after a differing head, or (with 分别) the same first word
    ("2023年全国跳水冠军赛女子双人10米跳台和男子双人10米跳台冠军分别是谁？",
     ("2023年全国跳水冠军赛女子双人10米跳台冠军是谁？", "2023年全国跳水冠军赛男子双人10米跳台冠军是谁？")),
    ("2022年金鹰奖最佳电视剧和最佳电视动画分别是什么？",
     ("2022年金鹰奖最佳电视剧是什么？", "2022年金鹰奖最佳电视动画是什么？")),
    # like words without 分别 in a question that asks for a fact; "在哪个" is no comparison
    ("2022年全运会男单和女单冠军？", ("2022年全运会男单冠军？", "2022年全运会女单冠军？")),
    ("卡塔尔世界杯德国队和法国队在哪个组", ("卡塔尔世界杯德国队在哪个组", "卡塔尔世界杯法国队在哪个组")),
    # a conjunction jieba joined to the name after it (和耶伦/nr); an event's name before a person's
    ("布林肯和耶伦访华时间", ("布林肯访华时间", "耶伦访华时间")),
    ("2023年马德里大师赛张之臻和吴易昺的成绩？",
     ("2023年马德里大师赛张之臻的成绩？", "2023年马德里大师赛吴易昺的成绩？")),
    # a region jieba reads as a common noun, coordinated with a place
    ("《阿凡达：水之道》大陆和香港上映日期", ("《阿凡达：水之道》大陆上映日期", "《阿凡达：水之道》香港上映日期")),
    ("速度与激情10内地和北美的上映时间", ("速度与激情10内地的上映时间", "速度与激情10北美的上映时间")),
    # the men's and the women's event said short
    ("2023年德班世乒赛男女单打冠军是谁", ("2023年德班世乒赛男子单打冠军是谁", "2023年德班世乒赛女子单打冠军是谁")),
    ("2023年温网男女单冠军", ("2023年温网男单冠军", "2023年温网女单冠军")),
    # clauses that each ask a fact of one subject: the later ones get the first one's subject (rag.part_clauses)
    ("邓伦逃税多少钱，被罚了多少钱", ("邓伦逃税多少钱", "邓伦被罚了多少钱")),
    ("《心居》的主演有谁，导演是谁？", ("《心居》的主演有谁", "《心居》的导演是谁")),
    ("iPhone SE 3的芯片是什么，起售价多少", ("iPhone SE 3的芯片是什么", "iPhone SE 3的起售价多少")),
    ("《李茂扮太子》是什么类型的电影？它的导演是谁？", ("《李茂扮太子》是什么类型的电影", "《李茂扮太子》的导演是谁")),
])
def test_a_question_about_several_like_things_is_split_into_one_question_each(question, parts):
    assert question_parts(question) == parts


@pytest.mark.parametrize("question", [
    "党建和业务如何融合？",  # one question about two things
    "上饶经开区是如何推动党建和群团工作融合的？",
    "习近平和拜登会晤讨论了什么",  # one event of two parties
    "自贡市非公企业、社会组织党组织覆盖率分别是多少？",  # the 覆盖率 of both, asked as one (gold set)
    "非公企业和社会组织党组织覆盖率分别是多少？",  # unlike words of unlike length: not split word by word
    "如何加强党建和业务？",  # a how-question about two things
    "如何做好党建和团建工作？",  # like words, but asked how
    "党建和团建工作是否融合？",
    "中国和美国哪个经济增长更快？",  # a comparison
    "该公司员工的男女比例是多少？",  # 男女 of a ratio, not two events
    "《踏冰逐梦》的主演和导演是谁？",  # attributes of one thing: split only for the model (attribute_questions)
    "上饶经开区单独建立了多少个党支部和联合党支部？",
    "其他地方是怎么选派党建指导员的？",
    "各地是怎么做楼宇党建的？",  # 各 as a determiner
    "全国各省和各部门怎样开展党建？",
    "乐山选派了多少名党建指导员？为什么？",  # the second question leans on the first
    "乐山选派了多少名党建指导员？这些指导员做了什么？",
    "截至2021年上半年末，中国银行业金融机构的不良贷款余额是多少？",  # the first clause sets a time
    "受害者无法足额提交什么后，不法分子会要求受害者做什么？",  # ... or a condition
    "兴达公司有多少名员工，其中党员多少名？",  # the second clause narrows the first
    "乐山选派了多少名党建指导员，是怎么选派的？",  # a how-clause
])
def test_a_question_about_one_thing_is_not_split(question):
    assert question_parts(question) == ()


@pytest.mark.parametrize(("question", "parts"), [
    ("《天才基本法》的主演和导演是谁？", ("《天才基本法》的主演是谁？", "《天才基本法》的导演是谁？")),
    ("安倍晋三的国葬时间和地点？", ("安倍晋三的国葬时间？", "安倍晋三的国葬地点？")),  # 国葬 goes with both
    ("香港第六任行政长官选举时间及结果", ("香港第六任行政长官选举时间", "香港第六任行政长官选举结果")),
    ("2023年五一旅游人次和收入是多少？", ("2023年五一旅游人次是多少？", "2023年五一旅游收入是多少？")),
    # a verb right after 的 belongs to the first attribute only
    ("小米13系列手机的发布时间和处理器？", ("小米13系列手机的发布时间？", "小米13系列手机的处理器？")),
    ("市北区楼宇党委的成立时间和参与人数？", ("市北区楼宇党委的成立时间？", "市北区楼宇党委的参与人数？")),
])
def test_two_attributes_of_one_thing_are_two_questions_for_the_model(question, parts):
    assert attribute_questions(question) == parts


@pytest.mark.parametrize("question", [
    "上饶经开区单独建立了多少个党支部和联合党支部？",  # asks one count before the 和
    "《阿凡达：水之道》大陆和香港上映日期",  # two places, not two attributes
    "如何推动党建与发展互融互促？",  # how, not what
    "参加北京冬奥会的国家和地区有哪些？",  # a set phrase
    "中泰信大厦楼宇党委的成立时间和管理的党支部数量？",  # the second is a phrase of its own
    "成都大运会和杭州亚运会开幕时间",  # two things, one attribute
    "2022春运的开始和结束时间是什么时候？",  # two verbs sharing 时间: one period
])
def test_a_question_that_is_not_two_attributes_of_one_thing_is_left_whole(question):
    assert attribute_questions(question) == ()


def test_two_attributes_are_asked_of_the_model_one_at_a_time_and_the_quotes_answer_them_together(sample_kb):
    question = "市北区楼宇党委的成立时间和参与人数？"
    assert ask(sample_kb, question, llm="none").parts == ()  # the quotes of the whole question show both
    model = FakeListChatModel(responses=["市北区楼宇党委成立于2020年上半年。", "活动参与总人数超3.8万。"])
    answer = ask(sample_kb, question, chat_model=model, llm="local")
    assert answer.parts == ("市北区楼宇党委的成立时间？", "市北区楼宇党委的参与人数？")
    assert answer.answered_by == "model" and not answer.fallback
    first, second = answer.text.split("\n")  # each part's answer marked with its own quote
    assert first == "市北区楼宇党委成立于2020年上半年[1]。" and second == "活动参与总人数超3.8万[2]。"
    quotes = {c.n: c.quote for c in answer.citations}
    assert "2020年上半年" in quotes[1] and "3.8万" in quotes[2]


def test_each_part_gets_its_own_article_in_the_evidence_answer(sample_kb):
    answer = ask(sample_kb, "乐山和自贡分别选派了多少名党建指导员？", llm="none")
    assert answer.parts == ("乐山选派了多少名党建指导员？", "自贡选派了多少名党建指导员？")
    first, second = answer.text.split("二、")
    assert "807名" in first and "72名" not in first  # 自贡's quote is not shown as 乐山's answer
    assert "72名" in second
    assert {c.source for c in answer.citations} >= {"003_cb9038ba9ea812d0.txt", "002_c1bd32abbb7e348e.txt"}
    assert answer.to_json()["parts"] == list(answer.parts)


def test_a_part_told_apart_by_its_place_shows_only_quotes_that_name_that_place(sample_kb):
    # 乐山's "乐山高新区…选派807名党建指导员" was shown under both 上饶经开区 and 自贡高新区 (it holds 高新区)
    answer = ask(sample_kb, "上饶经开区和自贡高新区分别选派了多少名党建指导员？", llm="none")
    first, second = answer.text.split("二、")
    assert "77名" in first and "72名" in second
    assert "乐山" not in first and "乐山" not in second and "807名" not in answer.text
    assert {c.source for c in answer.citations} == {"004_80e31c2401ce812c.txt", "002_c1bd32abbb7e348e.txt"}


def test_a_parts_quotes_are_not_held_to_naming_a_word_that_is_not_a_place():
    # RGB "2023年IRONMAN男子和女子世界锦标赛分别在哪举行": the IRONMAN quote names neither 男子 nor 女子, and a
    # table-tennis quote names 女子; the IRONMAN quote stays the 女子 part's, a third place's GDP leaves 香港's
    def evidence(n: int, quote: str, regions: tuple[str, ...] = ()) -> Evidence:
        return Evidence(Citation(n, f"{n}.txt", quote[:10], regions, quote, 0, len(quote)), 0.5, 0.5, f"{n}")

    ironman = evidence(1, "IRONMAN女性和男性的世锦赛比赛日将在夏威夷科纳举行。")
    table_tennis = evidence(2, "2023年世界乒乓球锦标赛女子单打决赛中，孙颖莎夺得冠军。")
    words = part_words(("2023年IRONMAN男子世界锦标赛在哪举行", "2023年IRONMAN女子世界锦标赛在哪举行"))
    assert own_quotes([ironman, table_tennis], 1, words) == [ironman, table_tennis]
    hong_kong = evidence(1, "2021年又实现6.4%的增长。", ("香港特别行政区",))
    united_states = evidence(2, "美国2021年全年GDP增长率为5.7%。")
    words = part_words(("2021年香港的GDP增长率", "2021年澳门的GDP增长率"))
    assert own_quotes([united_states, hong_kong], 0, words) == [hong_kong]
    assert own_quotes([united_states], 0, words) == [united_states], "no quote names 香港: the others stay"


def test_a_parts_answer_keeps_only_marks_to_the_quotes_shown_with_that_part(sample_kb):
    # the 1.5B wrote "乐山市选派807名党建指导员[1][2]", [2] being 自贡's quote, never shown with the 乐山 part
    model = FakeListChatModel(responses=["乐山选派807名党建指导员[1][2]。", "自贡选派72名党建指导员[1][2]。"])
    answer = ask(sample_kb, "乐山和自贡分别选派了多少名党建指导员？", chat_model=model, llm="local")
    assert answer.fallback == "" and answer.answered_by == "model"
    assert strip_support(answer.text) == "乐山选派807名党建指导员[1]。\n自贡选派72名党建指导员[2]。"


def test_two_whole_questions_in_one_message_are_answered_each_from_its_article(sample_kb):
    answer = ask(sample_kb, "乐山市选派了多少名党建指导员？自贡高新区协调解决了多少个企业问题？", llm="none")
    assert answer.parts == ("乐山市选派了多少名党建指导员？", "自贡高新区协调解决了多少个企业问题？")
    first, second = answer.text.split("二、")
    assert "807名" in first and "192个" in second and "807名" not in second


def test_two_questions_of_one_subject_in_one_sentence_are_answered_each_from_its_quote(sample_kb):
    answer = ask(sample_kb, "乐山市选派了多少名党建指导员，建立了多少个红色驿站？", llm="none")
    assert answer.parts == ("乐山市选派了多少名党建指导员", "乐山市建立了多少个红色驿站")
    first, second = answer.text.split("二、")
    assert "807名" in first and "12个" in second and "807名" not in second


def test_a_part_about_a_place_the_articles_do_not_cover_says_so_and_the_rest_is_answered(sample_kb):
    answer = ask(sample_kb, "乐山市和深圳市南山区分别选派了多少名党建指导员？", llm="none")
    assert not answer.refused
    assert "807名" in answer.text
    assert "资料中没有找到能回答“深圳市南山区选派了多少名党建指导员”的内容" in answer.text


def test_a_part_the_model_refused_is_completed_from_its_quote(sample_kb):
    model = FakeListChatModel(responses=["乐山市选派807名党建指导员[1]。", "资料中没有找到相关内容。"])
    answer = ask(sample_kb, "乐山和自贡分别选派了多少名党建指导员？", chat_model=model, llm="local")
    assert answer.answered_by == "model" and answer.fallback == "missing_parts"
    assert answer.text.startswith("乐山市选派807名党建指导员[1]。")
    assert "关于“自贡选派了多少名党建指导员”，原文：" in answer.text and "72名" in answer.text
    assert "补上原文摘录" in answer.notice
    assert len({c.source for c in answer.citations}) == 2


def test_a_part_answered_with_its_own_question_is_completed_from_its_quote(sample_kb):
    # the 0.5B answered the part "2023年温网男单冠军" with "2023年温网男单冠军[1]"
    model = FakeListChatModel(responses=["乐山市选派807名党建指导员[1]。", "自贡选派了党建指导员[2]。"])
    answer = ask(sample_kb, "乐山和自贡分别选派了多少名党建指导员？", chat_model=model, llm="local")
    assert answer.fallback == "missing_parts"
    assert "自贡选派了党建指导员[2]" not in answer.text
    assert "关于“自贡选派了多少名党建指导员”，原文：" in answer.text and "72名" in answer.text


def test_a_part_answered_with_marks_alone_is_completed_from_its_quote(sample_kb):
    # the 1.5B answered the part "2022年超级碗冠军是谁" with "[5]" and the line stood as that part's answer
    model = FakeListChatModel(responses=["乐山市选派807名党建指导员[1]。", "[2]"])
    answer = ask(sample_kb, "乐山和自贡分别选派了多少名党建指导员？", chat_model=model, llm="local")
    assert answer.answered_by == "model" and answer.fallback == "missing_parts"
    assert "\n[2]" not in answer.text and not answer.text.endswith("[2]\n")
    assert "关于“自贡选派了多少名党建指导员”，原文：" in answer.text and "72名" in answer.text


def test_a_part_answered_without_the_kind_asked_is_completed_from_its_quote(sample_kb):
    from rag.intent import lacks_asked_kind

    # the 1.5B answered "流浪地球2在俄罗斯的上映时间是什么时候？" with "流浪地球二上映俄罗斯[5]"
    assert lacks_asked_kind("流浪地球二上映俄罗斯", "流浪地球2在俄罗斯的上映时间是什么时候？")
    assert lacks_asked_kind("耶伦访华时间比较长，有4天时间", "耶伦访华时间")  # a length, not when
    for said in ("4月12日", "选举8日举行", "今年年底"):
        assert not lacks_asked_kind(said, "上映时间是什么时候？"), said
    assert not lacks_asked_kind("印度：43%", "花费的时间占工作时长的百分比是多少？")  # asks the figure
    assert not lacks_asked_kind("日本武道馆", "安倍晋三的国葬地点？")  # asks neither
    said = "自贡选派党建指导员进驻企业，帮助企业发展[2]。"  # new words, but no figure for 多少名
    model = FakeListChatModel(responses=["乐山市选派807名党建指导员[1]。", said])
    answer = ask(sample_kb, "乐山和自贡分别选派了多少名党建指导员？", chat_model=model, llm="local")
    assert answer.fallback == "missing_parts" and "帮助企业发展" not in answer.text
    assert "关于“自贡选派了多少名党建指导员”，原文：" in answer.text and "72名" in answer.text


def test_a_part_answered_about_the_other_part_is_replaced_by_its_own_quote(sample_kb):
    # the 1.5B answered RGB's 女子 part with a 男子 sentence; here the 自贡 part with 乐山's figure
    model = FakeListChatModel(responses=["乐山市选派807名党建指导员[1]。", "乐山市选派807名党建指导员[2]。"])
    answer = ask(sample_kb, "乐山和自贡分别选派了多少名党建指导员？", chat_model=model, llm="local")
    assert answer.answered_by == "model" and answer.fallback == "missing_parts"
    first, rest = answer.text.split("\n", 1)
    assert strip_support(first) == "乐山市选派807名党建指导员[1]。" and "807名" not in rest
    assert rest.startswith("关于“自贡选派了多少名党建指导员”，原文：") and "72名" in rest
    kept = FakeListChatModel(responses=["乐山市选派807名党建指导员[1]。", "自贡比乐山少，选派72名党建指导员[2]。"])
    both = ask(sample_kb, "乐山和自贡分别选派了多少名党建指导员？", chat_model=kept, llm="local")
    assert both.fallback == "" and "自贡比乐山少" in both.text  # names its own part too: kept


def test_a_part_reads_and_gets_its_own_quote_before_one_it_shares_with_another_part():
    # RGB "布林肯和耶伦访华时间": the 布林肯 part was answered with 耶伦's dates from a quote naming both, and
    # dropped; that the 耶伦 answer cites the shared quote must not count as answering the 布林肯 part
    shared = Citation(1, "a.txt", "耶伦访华", (), "耶伦于7月6日至9日访华，时间是布林肯访华时间的两倍。", 0, 26)
    own = Citation(2, "b.txt", "国务卿访华", (), "美国国务卿布林肯于6月18日至19日访华。", 0, 20)
    parts = ("布林肯访华时间", "耶伦访华时间")
    split = PartSplit(parts, PartEvidence((), ((1, 2), (1,)), (1.0, 1.0)), (True, True))
    answer = Answer("布林肯和耶伦访华时间", "耶伦此次访华时间是7月6日至9日[1]。", (shared,),
                    evidence=(shared, own), parts=parts)
    assert complete_parts(answer, split) == answer  # not left out: the shared quote it cites stands for it
    completed = complete_parts(answer, replace(split, left_out=frozenset({0})))
    # every quote of the part that speaks of it, its own first (one alone lost the year's figure for 英伟达)
    assert completed.text.endswith("关于“布林肯访华时间”，原文：美国国务卿布林肯于6月18日至19日访华。[2]"
                                   "耶伦于7月6日至9日访华，时间是布林肯访华时间的两倍。[1]")
    assert completed.fallback == "missing_parts" and {c.n for c in completed.citations} == {1, 2}
    text, left_out = join_part_answers(["耶伦此次访华时间是7月6日至9日[1]。", "耶伦此次访华时间是7月6日至9日[1]。"],
                                       [(shared, own), (shared,)], parts)
    assert left_out == {0} and text == "耶伦此次访华时间是7月6日至9日[1]。"
    calls = model_calls(replace(answer, standalone_question="布林肯和耶伦访华时间"), split, 0)
    assert [[c.n for c in call.quotes] for call in calls] == [[2, 1], [1]]  # the 布林肯 part reads its own first


def test_the_same_sentence_given_for_a_second_part_leaves_that_part_out():
    # RGB "2022和2023年春节档票房冠军分别哪部电影": the 1.5B answered both parts with the 2022 sentence of the quote
    # they share; the repeat was shown once, and as the 2023 part's quotes held the cited one, nothing completed it
    shared = Citation(1, "a.txt", "春节档", (), "其中，《长津湖之水门桥》以8.31亿元(含预售)成绩领跑春节档。", 0, 30)
    own = Citation(2, "b.txt", "2023年春节档", (), "头部梯队内，《满江红》初三实现票房超越，暂列档期票房冠军。", 0, 30)
    parts = ("2022春节档票房冠军哪部电影", "2023年春节档票房冠军哪部电影")
    same = "《长津湖之水门桥》以8.31亿元(含预售)成绩领跑春节档。[1]"
    text, left_out = join_part_answers([same, same.replace("。[1]", "[1]。")], [(shared,), (own, shared)], parts)
    assert left_out == {1} and text.startswith("《长津湖之水门桥》") and "\n" not in text
    split = PartSplit(parts, PartEvidence((), ((1,), (2, 1)), (1.0, 1.0)), (True, True), left_out)
    answer = Answer(parts[0], text, (shared,), evidence=(shared, own), parts=parts)
    assert "《满江红》初三实现票房超越" in complete_parts(answer, split).text
    text, left_out = join_part_answers([same, "《满江红》初三实现票房超越[2]"], [(shared,), (own, shared)], parts)
    assert not left_out and "《满江红》" in text, "a different answer stands"


def test_a_second_part_answered_from_the_quote_another_parts_answer_cites_is_left_out():
    # RGB "2022和2023年春节档票房冠军分别哪部电影" again: the 1.5B answered the 2022 part
    # "《长津湖之水门桥》（原文：…）[1]" and the 2023 part with the sentence itself, from the same quote, which names
    # neither year
    shared = Citation(1, "a.txt", "春节档", (), "其中，《长津湖之水门桥》以8.31亿元(含预售)成绩领跑春节档。", 0, 30)
    own = Citation(2, "b.txt", "2023年春节档", (), "头部梯队内，《满江红》初三实现票房超越，暂列档期票房冠军。", 0, 30)
    parts = ("2022春节档票房冠军哪部电影", "2023年春节档票房冠军哪部电影")
    first = "《长津湖之水门桥》（原文：《长津湖之水门桥》以8.31亿元(含预售)成绩领跑春节档）[1]"
    text, left_out = join_part_answers([first, "《长津湖之水门桥》以8.31亿元(含预售)成绩领跑春节档[1]。"],
                                       [(shared,), (own, shared)], parts)
    assert left_out == {1} and text == first
    # a quote that says what tells the second part apart may answer it too
    both = Citation(1, "a.txt", "春节档", (), "2022年和2023年春节档，《长津湖之水门桥》与《满江红》先后夺冠。", 0, 30)
    text, left_out = join_part_answers(["《长津湖之水门桥》[1]", "《满江红》[1]"], [(both,), (both,)], parts)
    assert not left_out and "《满江红》" in text
    # and one quote two attributes, each answer stating something else (RGB "2022年G20峰会的时间和地点？")
    bali = Citation(1, "a.txt", "G20", (), "2022年G20峰会于2022年11月15日至16日在印度尼西亚巴厘省努沙杜瓦举行。", 0, 40)
    text, left_out = join_part_answers(["2022年G20峰会于2022年11月15日至16日在印度尼西亚巴厘省努沙杜瓦举行[1]。",
                                        "印度尼西亚巴厘省努沙杜瓦（原文：在印度尼西亚巴厘省努沙杜瓦举行）[1]"],
                                       [(bali,), (bali,)], ("2022年G20峰会的时间", "2022年G20峰会的地点"))
    assert not left_out and "努沙杜瓦" in text


def test_a_part_answered_with_a_person_its_quotes_do_not_name_is_left_out():
    # RGB "北京冬奥会男子1500米速度滑冰和短道速滑中谁获得了金牌？": a name the part's quotes never give is the
    # model's invention, not an answer; the part is completed with its own quote
    speed = Citation(1, "a.txt", "速度滑冰", (), "北京冬奥会速度滑冰男子1500米比赛中，荷兰选手凯尔·内斯获得金牌。",
                     0, 30)
    short = Citation(2, "b.txt", "短道速滑", (), "短道速滑男子1500米决赛，韩国选手黄大宪夺得金牌。", 0, 25)
    parts = ("北京冬奥会男子1500米速度滑冰中谁获得了金牌？", "北京冬奥会男子1500米短道速滑中谁获得了金牌？")
    text, left_out = join_part_answers(["凯尔·内斯获得金牌[1]。", "任子威获得金牌[2]。"], [(speed,), (short,)], parts)
    assert left_out == {1} and "任子威" not in text
    split = PartSplit(parts, PartEvidence((), ((1,), (2,)), (1.0, 1.0)), (True, True), left_out)
    answer = Answer("北京冬奥会男子1500米速度滑冰和短道速滑中谁获得了金牌？", text, (speed,),
                    evidence=(speed, short), parts=parts)
    assert "黄大宪夺得金牌" in complete_parts(answer, split).text
    text, left_out = join_part_answers(["凯尔·内斯获得金牌[1]。", "黄大宪获得金牌[2]。"], [(speed,), (short,)], parts)
    assert not left_out and "黄大宪" in text


def test_a_left_out_part_is_completed_with_every_quote_that_speaks_of_it():
    # RGB "2022年英特尔和英伟达全年营收": the 英伟达 part was completed with its first quote (a quarter's revenue)
    # while its third stated the year's; the quotes answer had shown all of them
    quarter = Citation(1, "a.txt", "英伟达财报", (), "英伟达第四季度营收60.51亿美元，同比下降21%。", 0, 20)
    intel = Citation(2, "b.txt", "英特尔财报", (), "英特尔2022年全年营收为631亿美元。", 0, 18)
    year = Citation(3, "c.txt", "英伟达2023财年", (), "英伟达2023财年全年营收为269.74亿美元，与上年持平。", 0, 25)
    neither = Citation(4, "d.txt", "芯片行业", (), "芯片行业2022年全年营收普遍下滑。", 0, 15)
    parts = ("2022年英特尔全年营收", "2022年英伟达全年营收")
    split = PartSplit(parts, PartEvidence((), ((2,), (1, 4, 3)), (1.0, 1.0)), (True, True))
    answer = Answer("2022年英特尔和英伟达全年营收", "631亿美元[2]", (intel,),
                    evidence=(quarter, intel, year, neither), parts=parts)
    completed = complete_parts(answer, split)
    assert completed.text == ("631亿美元[2]\n关于“2022年英伟达全年营收”，原文："
                              "英伟达第四季度营收60.51亿美元，同比下降21%。[1]英伟达2023财年全年营收为269.74亿美元，与上年持平。[3]")
    assert {c.n for c in completed.citations} == {1, 2, 3}  # not the quote that speaks of neither company
    # no quote of the part names it: its first quote, as before
    alone = complete_parts(replace(answer, evidence=(quarter, intel, year, neither)),
                           replace(split, found=PartEvidence((), ((2,), (4,)), (1.0, 1.0))))
    assert alone.text.endswith("原文：芯片行业2022年全年营收普遍下滑。[4]")


def test_a_quote_saying_woguo_speaks_of_the_china_part():
    # RGB "2021年中国和美国经济分别增长了多少？": "2021年，我国国内生产总值比上年增长8.1%" names neither 中国 nor 美国
    # as a word, so it was ranked last among the 中国 part's quotes and left out of the lines completing that part
    woguo = Citation(5, "a.txt", "2021年国民经济运行情况", (), "2021年，我国国内生产总值比上年增长8.1%。", 0, 20)
    other = Citation(4, "b.txt", "美国经济", (), "美国为扭转2020年下降势头并在2021年实现经济增长。", 0, 30)
    vague = Citation(1, "c.txt", "经济形势", (), "经济学家测算，潜在增长率仍在5.5%至6%之间。", 0, 20)
    words = part_words(("2021年中国经济增长了多少？", "2021年美国经济增长了多少？"))
    assert speaking_of_part([vague, other, woguo], words, 0) == [woguo]
    assert own_first([vague, other, woguo], words, 0)[0] == woguo


def test_a_part_citing_a_quote_without_its_figure_is_re_marked_or_left_out():
    # RGB "ChatGPT和GPT4的发布时间": the GPT4 part's date cited the ChatGPT quote it was also shown
    chatgpt = Citation(1, "a.txt", "ChatGPT", (), "ChatGPT由OpenAI公司在2022年11月30日发布。", 0, 30)
    gpt4 = Citation(4, "b.txt", "GPT-4", (), "GPT-4是由OpenAI公司开发并于2023年3月14日发布的自回归语言模型。", 0, 40)
    parts = ("ChatGPT的发布时间", "GPT4的发布时间")
    text, left_out = join_part_answers(["2022年11月30日[1]", "GPT4的发布时间是2023年3月14日[1]。"],
                                       [(chatgpt,), (gpt4, chatgpt)], parts)
    assert not left_out and text == "2022年11月30日[1]\nGPT4的发布时间是2023年3月14日[4]。"
    # a figure only another place's quote states: the claim is wrong, not its mark; it stays flagged
    guangdong = Citation(1, "g.txt", "广东高考", (), "广东省2022年高考报考总人数657000人。", 0, 20)
    shandong = Citation(3, "s.txt", "山东高考", (), "山东省2022年高考报名人数为98万人。", 0, 20)
    assert mark_part("山东省：657000人[3]", (guangdong, shandong)) == "山东省：657000人[3]"
    # a figure none of the part's quotes states: the part is left out (complete_parts shows its own quote)
    text, left_out = join_part_answers(["2022年11月30日[1]", "GPT4的发布时间是2023年3月15日[4]。"],
                                       [(chatgpt,), (gpt4, chatgpt)], parts)
    assert left_out == {1} and text == "2022年11月30日[1]"
    # every part left out, none refused: no line of the model stays (it had kept "流浪地球二上映俄罗斯[5]")
    text, left_out = join_part_answers(["2022年11月31日[1]。", "GPT4的发布时间是2023年3月15日[4]。"],
                                       [(chatgpt,), (gpt4, chatgpt)], parts)
    assert left_out == {0, 1} and text == ""
    text, left_out = join_part_answers(["资料中没有找到相关内容。", "GPT4的发布时间是2023年3月15日[4]。"],
                                       [(chatgpt,), (gpt4, chatgpt)], parts)
    assert left_out == {0, 1} and text == "资料中没有找到相关内容。"  # a refusal still stands for the whole


def test_a_model_refusal_the_strong_evidence_contradicts_gives_the_evidence(sample_kb):
    model = FakeListChatModel(responses=["资料中没有找到相关内容。"] * 2)
    question = "乐山市从机关事业单位选派了多少名党建指导员？"
    answer = ask(sample_kb, question, chat_model=model, llm="local")
    assert not answer.refused and answer.answered_by == "evidence"
    assert answer.fallback == "refused_against_evidence" and "807名" in answer.text
    from rag.knowledge import KnowledgeBase

    for update in ({"override_refusal_relevance": 1.0}, {"override_refusal_coverage": 1.01}):
        one_on = ask(KnowledgeBase(sample_kb.settings.model_copy(update=update)), question, chat_model=model,
                     llm="local")
        assert one_on.fallback == "refused_against_evidence", f"the other check alone overrides it ({update})"
    off = sample_kb.settings.model_copy(update={"override_refusal_relevance": 1.0, "override_refusal_coverage": 1.01})
    strict = ask(KnowledgeBase(off), question, chat_model=model, llm="local")
    assert strict.refused and strict.answered_by == "refusal"


def test_a_multi_part_refusal_is_overridden_when_one_parts_quote_states_that_parts_answer(sample_kb):
    """Every part refused: the term check asks each part's own quotes about that part (the whole question's
    terms, 乐山 and 上饶 both, stand in no one quote)."""
    from rag.knowledge import KnowledgeBase

    model = FakeListChatModel(responses=["资料中没有找到相关内容。"] * 2)
    question = "乐山市和上饶经开区分别选派了多少名党建指导员？"
    only_terms = KnowledgeBase(sample_kb.settings.model_copy(update={"override_refusal_relevance": 1.0}))
    answer = ask(only_terms, question, chat_model=model, llm="local")
    assert answer.answered_by == "evidence" and answer.fallback == "refused_against_evidence"
    assert "807名" in answer.text and "77名" in answer.text
    assert not states_answer(only_terms, question, answer.evidence, only_terms.settings.override_refusal_coverage)


def test_a_refusal_written_with_a_mark_is_read_as_a_refusal(sample_kb):
    """The 0.5B writes "[1] 四川省乐山市：据资料中没有找到相关内容。": a refusal, not an answer citing [1]."""
    model = FakeListChatModel(responses=["[1] 四川省乐山市：据资料中没有找到相关内容。"] * 2)
    question = "乐山市从机关事业单位选派了多少名党建指导员？"
    answer = ask(sample_kb, question, chat_model=model, llm="local")
    assert answer.fallback == "refused_against_evidence" and "807名" in answer.text
    from rag.knowledge import KnowledgeBase

    off = sample_kb.settings.model_copy(update={"override_refusal_relevance": 1.0, "override_refusal_coverage": 1.01})
    assert ask(KnowledgeBase(off), question, chat_model=model, llm="local").refused


def test_a_dropped_approximation_that_is_the_whole_answer_gives_the_quotes(sample_kb):
    model = FakeListChatModel(responses=["90名职工向社区报到[1]。"])
    answer = ask(sample_kb, "核酸检测时中泰信大厦入驻企业有多少名职工到社区报到？", chat_model=model, llm="local")
    assert answer.answered_by == "evidence" and answer.fallback == "unsupported_numbers"
    assert "90余名" in answer.text


def _quote(kb, source: str, phrase: str) -> Citation:
    text = kb.document(source).text
    start = text.index(phrase)
    return Citation(n=1, source=source, title="t", regions=(), quote=phrase, start=start, end=start + len(phrase))


def test_a_quote_states_the_answer_only_with_the_asked_terms_kind_and_year(sample_kb):
    """The check outside the model that lets a refusal be overridden (``states_answer``)."""
    leshan = "003_cb9038ba9ea812d0.txt"
    figure = _quote(sample_kb, leshan, "从全市机关事业单位选派807名党建指导员担任“红色向导”")
    no_figure = _quote(sample_kb, leshan, "每月下沉到企业指导工作")
    asked = "乐山市从机关事业单位选派了多少名党建指导员？"
    assert states_answer(sample_kb, asked, [no_figure, figure], 0.8)
    assert not states_answer(sample_kb, asked, [no_figure], 0.8), "the terms alone, without the asked figure"
    assert "1999" not in sample_kb.document(leshan).text
    assert not states_answer(sample_kb, "乐山市1999年从机关事业单位选派了多少名党建指导员？", [figure], 0.8), \
        "a year the article never names"
    assert not states_answer(sample_kb, "乐山市从机关事业单位选派了多少名外卖骑手？", [figure], 0.8)


def test_the_words_a_question_asks_with_are_not_terms_a_quote_must_hold(sample_kb):
    """"形成了什么样的组织架构" is stated by a quote holding the rest: 什么样 is not a content word."""
    qingdao = "000_bf203c546cd10514.txt"
    structure = _quote(sample_kb, qingdao, "形成了“街道党工委—楼宇党委—企业党支部”的组织架构")
    for asked in ("楼宇党委形成了什么样的组织架构？", "楼宇党委形成了哪种组织架构？"):
        assert states_answer(sample_kb, asked, [structure], 0.8), asked
    assert not states_answer(sample_kb, "楼宇党委建立了什么样的党建联盟？", [structure], 0.8)


def test_the_word_a_question_asks_for_a_date_with_is_stated_by_the_date(sample_kb):
    """"…上映日期" is stated by a quote with the date: no quote says 日期 (RGB integration: the 1.5B's refusal of
    "《阿凡达：水之道》大陆和香港上映日期" stood although a quote it was shown gave a part's date)."""
    xingda = "001_e7f577296fd42bd4.txt"
    dated = _quote(sample_kb, xingda,
                   "今年11月11日，高士伟带领党支部的十名个体户党员和专门吸收进来的方锴一起，举行优惠让利活动。")
    for asked in ("高士伟举行优惠让利活动的日期", "优惠让利活动的时间是什么时候？"):
        assert states_answer(sample_kb, asked, [dated], 0.8), asked
    undated = _quote(sample_kb, xingda, "高士伟带领党支部的十名个体户党员和专门吸收进来的方锴一起，举行优惠让利活动。")
    assert not states_answer(sample_kb, "高士伟举行优惠让利活动的日期", [undated], 0.8), "no date, no answer"


def test_a_quote_holds_the_place_its_article_is_about_and_no_other(sample_kb):
    """"安商办受理…204个" never names 上饶, but its article is about 上饶 (its only region)."""
    shangrao = "004_80e31c2401ce812c.txt"
    figure = _quote(sample_kb, shangrao, "安商办受理企业(项目)问题诉求共204个")
    assert "上饶" not in figure.quote and "上饶" not in figure.title
    assert states_answer(sample_kb, "上饶经开区受理了多少个企业问题诉求？", [figure], 0.8)
    assert not states_answer(sample_kb, "自贡高新区受理了多少个企业问题诉求？", [figure], 0.8)


@pytest.mark.parametrize(("question", "reply", "fallback", "wrong", "right"), [
    ("乐山市从机关事业单位选派了多少名党建指导员？", "乐山市选派了870名党建指导员[1]。", "unsupported_numbers",
     "870", "807名"),
    # a person no quote names, for a question asking who
    ("凤凰城五金机电党支部书记是谁？", "凤凰城五金机电党支部书记是王建国[1]。", "unsupported_names",
     "王建国", "高士伟"),
])
def test_a_wrong_figure_or_person_that_is_the_whole_answer_is_replaced_by_the_quotes(sample_kb, question, reply,
                                                                                      fallback, wrong, right):
    answer = ask(sample_kb, question, chat_model=FakeListChatModel(responses=[reply]), llm="local")
    assert answer.answered_by == "evidence" and answer.fallback == fallback
    assert wrong not in answer.text and right in answer.text
    assert ("数字" if fallback == "unsupported_numbers" else "名称") + "与所引原文不符" in answer.notice


def test_a_wrong_figure_beside_a_supported_claim_is_only_flagged():
    parsed = parse_answer("乐山选派807名党建指导员[1]。另有870名[1]。", {1: "选派807名党建指导员"})

    assert not parsed.only_unsupported_numbers
    assert parse_answer("另有870名党建指导员[1]。", {1: "选派807名"}).only_unsupported_numbers
    # an unmarked claim after the flagged one is not a wrong figure (the flag once read as part of it)
    assert not parse_answer("另有870名[1]。自贡选派72名党建指导员", {1: "选派807名"}).only_unsupported_numbers


def test_each_part_is_asked_on_its_own_with_only_that_parts_quotes(sample_kb):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    seen: list[str] = []

    class Recording(GenericFakeChatModel):
        def _stream(self, messages, *args, **kwargs):  # LangChain's streaming hook; records the prompt
            seen.append(messages[-1].content)
            yield from super()._stream(messages, *args, **kwargs)

    replies = [AIMessage("乐山选派807名党建指导员[1]。"), AIMessage("自贡选派72名党建指导员[2]。")]
    model = Recording(messages=iter(replies))
    answer = ask(sample_kb, "乐山和自贡分别选派了多少名党建指导员？", chat_model=model, llm="local")
    assert len(seen) == 2
    assert "问题：乐山选派了多少名党建指导员？" in seen[0] and "807名" in seen[0] and "72名" not in seen[0]
    assert "问题：自贡选派了多少名党建指导员？" in seen[1] and "72名" in seen[1] and "807名" not in seen[1]
    assert answer.text == "乐山选派807名党建指导员[1]。\n自贡选派72名党建指导员[2]。"
    assert answer.fallback == "" and len({c.source for c in answer.citations}) == 2


def test_unmarked_part_answers_get_their_parts_mark_only_when_the_quote_holds_their_figures(sample_kb):
    model = FakeListChatModel(responses=["乐山：807名党建指导员", "自贡：72名党建指导员",
                                         "乐山：807名党建指导员", "自贡：70名党建指导员"])
    question = "乐山和自贡分别选派了多少名党建指导员？"
    marked = ask(sample_kb, question, chat_model=model, llm="local")
    assert strip_support(marked.text) == "乐山：807名党建指导员[1]\n自贡：72名党建指导员[2]" and marked.fallback == ""
    assert [c.source for c in marked.citations] == ["003_cb9038ba9ea812d0.txt", "002_c1bd32abbb7e348e.txt"]
    wrong = ask(sample_kb, question, chat_model=model, llm="local")
    assert "自贡：70名党建指导员（未注明出处）" in wrong.text  # no quote of 自贡 says 70: not marked
    assert wrong.fallback == "missing_parts" and "72名" in wrong.text.split("关于“自贡")[1]


def test_a_short_answer_is_an_answer_and_a_repeated_mark_is_shown_once(sample_kb):
    from rag.citations import content_chars

    assert parse_answer("B站[3]\nB站[2]", {2: "B站出品", 3: "在B站播出"}).text == "B站[3]\nB站[2]"
    assert content_chars("陈冬[1]") == 2 and content_chars("[1][2]、[3]") == 0
    assert parse_answer("乐山选派807名[1][1][2]。", {1: "807名", 2: "807名"}).text == "乐山选派807名[1][2]。"
    model = FakeListChatModel(responses=["807名[1][1]。"])
    answer = ask(sample_kb, "乐山市从机关事业单位选派了多少名党建指导员？", chat_model=model, llm="local")
    assert (answer.answered_by, strip_support(answer.text)) == ("model", "807名[1]。")


def test_a_name_or_a_figure_with_its_unit_is_an_answer_a_bare_figure_is_not(sample_kb):
    from rag.citations import states_something

    # the 1.5B's right answers that the chain used to replace with the quotes (fewer than four characters)
    for said in ("杨紫琼[1]", "B站[1]", "奈良县[1]", "77名[1]", "58.1%[1]", "50%[1]", "7.52‰[1]", "807名党员[1]"):
        assert states_something(said, "问题？"), said
    for said in ("[1][2]、[3]", "113[1]", "人[1]", "", "乐山[1]"):
        assert not states_something(said, "乐山选派了多少人？"), said  # "乐山" only restates the question
    question = "上饶经开区选派了多少名党员干部担任党建工作指导员？"
    answer = ask(sample_kb, question, chat_model=FakeListChatModel(responses=["77名[1]"]), llm="local")
    assert (answer.answered_by, answer.fallback) == ("model", "")
    assert strip_support(answer.text) == "77名[1]"
    clause = answer.text.split("（原文：")[1].split("）")[0]  # the article's words the figure was taken from
    assert "选派77名" in clause and clause in answer.citations[0].quote
    wrong = ask(sample_kb, question, chat_model=FakeListChatModel(responses=["78名[1]"]), llm="local")
    assert (wrong.answered_by, wrong.fallback) == ("evidence", "unsupported_numbers")  # no quote says 78名
    # a short name its quote does not say (the 1.5B answered "北京市[1]", its article's place label)
    label = ask(sample_kb, question, chat_model=FakeListChatModel(responses=["上饶市[1]"]), llm="local")
    assert (label.answered_by, label.fallback) == ("evidence", "unquoted_short")
    assert "77名" in label.text


def test_an_answer_that_only_says_who_spoke_gives_the_quotes(sample_kb):
    from rag.citations import only_attribution

    # the 0.5B copied the tail of its quote "“…组建了‘钒钛技术党员攻坚队’…”…罗清明说。"
    said = "四川省乐山市沙湾区四川德胜钒钛集团有限公司技术中心主任罗清明说[1]。"
    question = "四川德胜钒钛集团组建了什么党员攻坚队？"
    assert only_attribution(said, question)
    assert not only_attribution(said, "是谁介绍了钒钛技术党员攻坚队？")  # asked who
    assert not only_attribution("罗清明说：“组建了钒钛技术党员攻坚队”[1]。", question)  # says what too
    assert not only_attribution("组建了钒钛技术党员攻坚队[1]。\n罗清明说[1]。", question)
    answer = ask(sample_kb, question, chat_model=FakeListChatModel(responses=[said]), llm="local")
    assert (answer.answered_by, answer.fallback) == ("evidence", "empty")
    assert "钒钛技术党员攻坚队" in answer.text


def test_an_unmarked_sentence_stating_two_quotes_figures_gets_both_marks():
    from rag.types import Citation

    def quote(n: int, text: str) -> Citation:
        return Citation(n=n, source=f"{n}.txt", title="", regions=(), quote=text, start=0, end=len(text))

    quotes = [quote(1, "乐山建成12个红色驿站"), quote(2, "自贡建立23个小个专党建指导站")]
    assert mark_part("乐山12个红色驿站，自贡23个指导站。", quotes) == "乐山12个红色驿站，自贡23个指导站[1][2]。"
    assert mark_part("乐山12个红色驿站，自贡24个。", quotes) == "乐山12个红色驿站，自贡24个。"  # 24: in no quote


def test_each_item_is_asked_its_own_predicate_and_answered_from_its_article(tmp_path, embeddings, shared):
    """"知网垄断和台积电美国新厂分别被罚或计划投资多少钱" through a real knowledge base of RGB articles:
    the fine is asked of 知网, the investment of 台积电, and the answer holds both figures."""
    import shutil

    from ingest.pipeline import ingest_paths
    from rag.knowledge import KnowledgeBase
    from tests.conftest import make_settings

    docs = shared / "evalsets" / "rgb_zh" / "docs"
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("rgbzh-a05266f143d8", "rgbzh-761d0c2f65f1", "rgbzh-7649f3c6acf8", "rgbzh-c843c0f9afcf",
                 "rgbzh-051c432664b3", "rgbzh-7f6c8c6eb55e"):
        shutil.copy(docs / f"{name}.txt", folder / f"{name}.txt")
    kb = KnowledgeBase(make_settings(tmp_path / "kb"), embeddings=embeddings)
    ingest_paths(kb, [folder])
    answer = ask(kb, "知网垄断和台积电美国新厂分别被罚或计划投资多少钱？", llm="none")
    assert answer.parts == ("知网垄断被罚多少钱？", "台积电美国新厂计划投资多少钱？")
    assert "8760万" in answer.text and "400亿" in answer.text
    assert all(kb.document(c.source).text[c.start:c.end] == c.quote for c in answer.citations)
