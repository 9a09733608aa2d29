"""Chinese number and metric parser (`extractor.numbers.metrics`)."""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse

import pytest

from extractor.core.normalise import matching_key
from extractor.numbers import metrics, vocabulary
from extractor.numbers.metrics import MetricMatch, dedupe_repeats, find_metrics


def _triples(text: str) -> list[tuple[str, int | float, str]]:
    return [(m.name, m.value, m.unit) for m in find_metrics(text)]


# --- parse_chinese_number -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("受理行政复议案件37件。", [("受理行政复议案件", 37, "件")]),
        ("发放宣传资料4万余份，", [("发放宣传资料", 40000, "份")]),
        ("涉案金额约8万元。", [("涉案金额", 80000, "元")]),
        ("落实项目资金3.5亿元。", [("落实项目资金", 350_000_000, "元")]),
        ("涉及金额603.85万元。", [("涉及金额", 6_038_500, "元")]),
        ("避免经济损失340余万元。", [("避免经济损失", 3_400_000, "元")]),
        ("成功率为86％。", [("成功率", 86, "%")]),
        ("调解成功率99%，", [("调解成功率", 99, "%")]),
        ("群众满意率达到百分之九十。", [("群众满意率", 90, "%")]),
        ("共培训基层干部一千二百人。", [("培训基层干部", 1200, "人")]),
        ("受教育群众一万二千余人。", [("受教育群众", 12000, "人")]),
        ("新建调解室两个。", [("新建调解室", 2, "个")]),
        ("目前共有行政执法人员1,002人。", [("行政执法人员", 1002, "人")]),
        ("覆盖师生65000余人次。", [("覆盖师生", 65000, "人次")]),
        ("开展法治讲座230次，", [("开展法治讲座", 230, "次")]),
        ("开展各类普法宣传活动累计900余场次。", [("开展各类普法宣传活动", 900, "场次")]),
        ("在册安置帮教人员636名，", [("在册安置帮教人员", 636, "名")]),
        ("为全县312所中小学配备法治副校长。", [("中小学", 312, "所")]),
        ("截至目前我县共有44名律师，", [("律师", 44, "名")]),
        ("组织10家县直单位开展宣传。", [("县直单位", 10, "家")]),
        ("执法人员均完成不少于60学时的学习。", [("执法人员均完成", 60, "学时")]),
        ("重新犯罪率始终控制在3%以内。", [("重新犯罪率", 3, "%")]),
        ("群众满意度达95%以上。", [("群众满意度", 95, "%")]),
        ("群众满意度达到95%以上，", [("群众满意度", 95, "%")]),
        ("年均增幅将近40%左右，", [("年均增幅", 40, "%")]),
        ("提供法律咨询17250余人次，", [("提供法律咨询", 17250, "人次")]),
        ("提供法律服务4558件次，", [("提供法律服务", 4558, "件次")]),
        ("解答企业法律咨询316余次。", [("解答企业法律咨询", 316, "次")]),
        ("受理矛盾纠纷723件，化解719起，", [("受理矛盾纠纷", 723, "件"), ("化解", 719, "起")]),
        ("编发简报5期，", [("编发简报", 5, "期")]),
        ("展出法治宣传版面450余块。", [("展出法治宣传版面", 450, "块")]),
        ("推送文章66篇，", [("推送文章", 66, "篇")]),
        ("梳理突出问题12条，", [("梳理突出问题", 12, "条")]),
        ("评审案件10卷，", [("评审案件", 10, "卷")]),
        ("发放读本1万余本，", [("发放读本", 10000, "本")]),
        ("总浏览量80万人次，", [("总浏览量", 800_000, "人次")]),
        ("受教育师生达到10万余人。", [("受教育师生", 100_000, "人")]),
        ("接待群众1500多人。", [("接待群众", 1500, "人")]),
        ("平均分99.54分，", [("平均分", 99.54, "分")]),
        ("结案率同比提高5个百分点。", [("结案率同比提高", 5, "个百分点")]),
        ("占比为35.3%，", [("占比", 35.3, "%")]),
        ("共发放各类宣传资料三万余册（个）。", [("发放各类宣传资料", 30000, "册(个)")]),
        ("参考率、合格率均达100%。", [("参考率", 100, "%"), ("合格率", 100, "%")]),
        ("参考率100%,优秀率100%,", [("参考率", 100, "%"), ("优秀率", 100, "%")]),
        ("参考率、合格率分别为100%、98%。", [("参考率", 100, "%"), ("合格率", 98, "%")]),
        ("其中县直单位2120宗、乡镇1275宗。", [("县直单位", 2120, "宗"), ("乡镇", 1275, "宗")]),
        ("专职律师23名，公职律师19名，", [("专职律师", 23, "名"), ("公职律师", 19, "名")]),
    ],
)
def test_find_metrics_counts(text: str, expected: list[tuple[str, int | float, str]]) -> None:
    assert _triples(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A run of counts: the second takes the noun after its own unit, not the first's name.
        ("针对反馈的4个方面12个突出问题，", [("方面", 4, "个"), ("突出问题", 12, "个")]),
        # Nothing names the second count before it: it shares the first one's name.
        ("收到书面述法材料80份80人，", [("收到书面述法材料", 80, "份"), ("收到书面述法材料", 80, "人")]),
        # Nothing precedes the number in its clause: the previous clause names it.
        ("接待来访群众，共计120人次。", [("接待来访群众", 120, "人次")]),
        # Pre-positioned count whose noun is followed by a verb.
        ("县宣讲团成员等200余人到场聆听讲座。", [("县宣讲团成员", 200, "人")]),
        # Connectors and time phrases are not part of the name.
        ("今年以来，共办理法律援助案件155件。", [("办理法律援助案件", 155, "件")]),
        ("2024年共受理法律援助案288宗，", [("受理法律援助案", 288, "宗")]),
        ("截至目前已备案文件4件；", [("已备案文件", 4, "件")]),
        # 行为 is a word: its 为 is not the connector 为.
        ("决定维持行政行为12件，", [("决定维持行政行为", 12, "件")]),
    ],
)
def test_find_metrics_names(text: str, expected: list[tuple[str, int | float, str]]) -> None:
    assert _triples(text) == expected


# --- find_metrics: what does not count ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # years, dates and months
        "2024年法治政府建设工作要点。",
        "印发实施方案（2021-2025年）。",
        "2024年11月18日召开常务会议。",
        "3月份印发工作要点，",
        "5月中旬开展试点，",
        "2月11日组织评查。",
        # durations, floors, addresses
        "在县司法局3楼参加为期3天的培训。",
        "为期3天，",
        "培训时长两年。",
        "提前一个月完成任务。",
        "用时3个月完成，",
        "提供24小时值守服务，",
        # frequencies
        "每周开展一次排查，",
        "每半月开展一次常规排查。",
        "每月开展2次，",
        "持续开展“一月一主题”活动。",
        # named sets, in quotes or not
        "严格落实“六个一”措施。",
        "开展“四个一”活动，",
        "落实三项举措，",
        "实施“三三”工程。",
        "推行“一村一警一法律顾问”。",
        "开展“千所联千企”活动。",
        "开展千所联千企活动。",
        "忠诚拥护“两个确立”，",
        "增强四个意识，做到两个维护。",
        "落实意识形态工作十个纳入。",
        "大力开展五个到户活动。",
        "构建三个抓手为主的格局。",
        "文化送法进万家。",
        # ordinals and rankings
        "举办第二期培训班。",
        "第三次常务会议研究，",
        "第一批次创建工作，",
        "居于全市首位。",
        "排名倒数第三。",
        "开展第九批“全国民主法治示范村”推选。",
        "排名进入全省前3名。",
        # hotlines, document numbers, titles, quoted spans
        "全面推行“12348”法律服务热线。",
        "拨打12348热线咨询。",
        "印发《实施细则》（鲁法政办〔2023〕8号）。",
        "印发《关于做好2024年10项重点工作的通知》。",
        # version and period tokens
        "推进“八五”普法。",
        "推进八五 普法工作。",
        "学习党的二十大精神，",
        "学习二十届三中全会精神。",
        "庆祝新中国成立75周年。",
        # ranges in plans, ages, vague amounts
        "下半年举办1-2期法律培训。",
        "计划培训三至五人。",
        "60岁以上老人，",
        "参训人员数十人。",
        # numerals inside ordinary words
        "一是坚持问题导向。",
        "全县各单位一把手带头述法。",
        "落实一岗双责，",
        "打造一站式服务平台，",
        "实施三级联调，",
        "开展一对一帮扶，",
        "进一步加强，统一思想，",
        "存在一些短板，",
        "履行第一责任人职责，",
        "深入一线走访，",
        "组织开展一次全面排查，",
        "建设一批高水平法治乡村。",
        "保障全国两会顺利召开，村两委换届，",
    ],
)
def test_find_metrics_ignores(text: str) -> None:
    assert find_metrics(text) == []


# --- raw text copied from PDFs and web pages ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "unit", "number_as_written"),
    [
        ("办理案件1\n2件。", 12, "件", "1\n2件"),
        ("排查出矛盾纠纷26 件，", 26, "件", "26 件"),
        ("成功率达99 %，", 99, "%", "99 %"),
        ("成功率为８６％。", 86, "%", "８６％"),
        ("受理２６件，", 26, "件", "２６件"),
        ("共有行政执法人员1,002人，", 1002, "人", "1,002人"),
        ("共有行政执法人员１，００２人，", 1002, "人", "１，００２人"),
        ("发放资料4\n万余份。", 40000, "份", "4\n万余份"),
        ("调解纠纷3621\n 件，", 3621, "件", "3621\n 件"),
    ],
)
def test_find_metrics_pdf_forms(text: str, value: int, unit: str, number_as_written: str) -> None:
    [match] = find_metrics(text)
    assert (match.value, match.unit) == (value, unit)
    assert text[match.start : match.end] == number_as_written


def test_line_break_before_number_keeps_the_name() -> None:
    text = "覆盖师生\n65000余人次。"
    [match] = find_metrics(text)
    assert (match.name, match.value, match.unit) == ("覆盖师生", 65000, "人次")
    assert text[match.evidence_start : match.evidence_end] == "覆盖师生\n65000余人次"


def test_wrapped_pdf_line_does_not_split_the_name() -> None:
    # A long line with no closing punctuation, continued on the next line: a PDF wrap.
    text = "坚持以习近平新时代中国特色社会主义思想为指导全面推进依法行政今年受理行政复\n议案件37件。"
    [match] = find_metrics(text)
    assert match.name.endswith("受理行政复议案件")
    assert match.value == 37


def test_heading_line_ends_the_clause() -> None:
    text = "（一）行政复议\n受理案件37件。"
    [match] = find_metrics(text)
    assert text[match.evidence_start : match.evidence_end] == "受理案件37件"


# --- offsets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "evidences"),
    [
        (
            "2024年，我县受理行政复议案件37件，其中，已结案31件，正在审理6件。",
            ["我县受理行政复议案件37件", "已结案31件", "正在审理6件"],
        ),
        ("调解成功率为８６％，受理２６件", ["调解成功率为８６％", "受理２６件"]),
        ("  办理 公证 1,002 件 ， 成功率 99 % 。", ["办理 公证 1,002 件", "成功率 99 %"]),
        (
            "服刑人员基本信息核实率、核查成功率均达95%以上，均已衔接。",
            ["服刑人员基本信息核实率、核查成功率均达95%以上"] * 2,
        ),
        ("全县24个乡（镇、街道）及80余个单位，", ["全县24个乡（镇、街道）及80余个单位"] * 2),
    ],
)
def test_offsets_index_the_original_text(text: str, evidences: list[str]) -> None:
    matches = find_metrics(text)
    assert [text[m.evidence_start : m.evidence_end] for m in matches] == evidences
    for m in matches:
        assert m.evidence_start <= m.start < m.end <= m.evidence_end


def test_every_seed_metric_is_verbatim_and_in_order(seed_texts: dict[str, str]) -> None:
    for doc_id, text in seed_texts.items():
        matches = find_metrics(text)
        assert matches, doc_id
        assert [m.start for m in matches] == sorted(m.start for m in matches)
        for m in matches:
            number = text[m.start : m.end]
            evidence = text[m.evidence_start : m.evidence_end]
            assert number in evidence, (doc_id, m)
            assert (
                matching_key(number)[0].isdigit() or matching_key(number)[0] in "零〇一二两三四五六七八九十百"
            ), m
            assert matching_key(m.name) in matching_key(evidence) or not m.name, (doc_id, m)


# --- real sentences from the seed reports -----------------------------------------------------


@pytest.mark.parametrize(
    ("doc_id", "sentence", "expected"),
    [
        (
            "lanshan-2024",
            "我县受理行政复议案件37件，其中，已结案31件，正在审理6件。",
            [("受理行政复议案件", 37, "件"), ("已结案", 31, "件"), ("正在审理", 6, "件")],
        ),
        (
            "lanshan-2024",
            "5月份组织全县各县直单位25名行政执法人员在县司法局3楼参与为期3天的行政执法培训",
            [(None, 25, "名")],
        ),
        (
            "lanshan-2024",
            "今年共收到党政主要负责人书面述法材料80份80人，开展现场述法5家单位5人",
            [(None, 80, "份"), (None, 80, "人"), ("开展现场述法", 5, "家"), (None, 5, "人")],
        ),
        (
            "hubin-2024",
            "2024年，湖滨区106个调解组织共调解案件5284件，调解成功率99%，涉及当事人10639人，涉及金额603.85万元。",
            [
                ("调解组织", 106, "个"),
                ("调解案件", 5284, "件"),
                ("调解成功率", 99, "%"),
                ("涉及当事人", 10639, "人"),
                ("涉及金额", 6_038_500, "元"),
            ],
        ),
        (
            "heping-2024",
            "今年我县共有186个学法单位、10756名国家工作人员参加考试,参考率100%,优秀率100%,平均分99.54分",
            [
                ("学法单位", 186, "个"),
                ("国家工作人员", 10756, "名"),
                ("参考率", 100, "%"),
                ("优秀率", 100, "%"),
                ("平均分", 99.54, "分"),
            ],
        ),
        (
            "heping-2024",
            "全县51名村(社区)顾问律师共提供法律服务4558件次,服务群众21328人次",
            [("村(社区)顾问律师", 51, "名"), ("提供法律服务", 4558, "件次"), ("服务群众", 21328, "人次")],
        ),
        (
            "lushan-2023",
            "累计接收刑满释放人员180人，服刑人员基本信息核实率、核查成功率均达95%以上",
            [("接收刑满释放人员", 180, "人"), ("服刑人员基本信息核实率", 95, "%"), ("核查成功率", 95, "%")],
        ),
        (
            "mayang-2022h1",
            "排查出矛盾纠纷26 件,共受理矛盾纠纷723件,高质高效化解719起,成功率达99 %",
            [
                ("排查出矛盾纠纷", 26, "件"),
                ("受理矛盾纠纷", 723, "件"),
                ("高质高效化解", 719, "起"),
                ("成功率", 99, "%"),
            ],
        ),
        (
            "mayang-2022h1",
            "法律咨询800余人次,共发放各类宣传资料和宣传实物三万余册(个)。",
            [("法律咨询", 800, "人次"), ("发放各类宣传资料和宣传实物", 30000, "册(个)")],
        ),
    ],
)
def test_real_sentences(
    seed_texts: dict[str, str],
    doc_id: str,
    sentence: str,
    expected: list[tuple[str | None, int | float, str]],
) -> None:
    assert sentence in seed_texts[doc_id]
    got = find_metrics(sentence)
    assert [(m.value, m.unit) for m in got] == [(value, unit) for _, value, unit in expected]
    for m, (name, _, _) in zip(got, expected, strict=True):
        if name is not None:
            assert m.name == name


# --- dedupe_repeats ---------------------------------------------------------------------------


def test_dedupe_drops_a_figure_restated_for_the_same_thing() -> None:
    text = "针对反馈的4个方面12个突出问题，制定方案。将反馈的4个方面12个突出问题逐个落实到人。"
    matches = find_metrics(text)
    assert len(matches) == 4
    kept = dedupe_repeats(matches)
    assert [(m.name, m.value) for m in kept] == [("方面", 4), ("突出问题", 12)]
    assert kept == matches[:2]


@pytest.mark.parametrize(
    "text",
    [
        "参考率、合格率均达100%。",  # same value, different things
        "案件评查结果为优秀5卷、良好5卷。",
        "组织培训6场，政策宣讲6场。",
        "受理案件12件，调解成功12人。",  # same value, different unit
        "受理案件12件，办理信访案件12件。",  # a shared generic word is not the same thing
    ],
)
def test_dedupe_keeps_distinct_metrics(text: str) -> None:
    matches = find_metrics(text)
    assert len(matches) == 2
    assert dedupe_repeats(matches) == matches


def test_dedupe_drops_a_restatement_with_a_longer_name() -> None:
    matches = find_metrics("受理行政复议案件37件。全年行政复议案件37件，均已审结。")
    assert [m.name for m in matches] == ["受理行政复议案件", "行政复议案件"]
    assert dedupe_repeats(matches) == matches[:1]


def test_dedupe_never_drops_unnamed_matches() -> None:
    a = MetricMatch("", 5, "人", 0, 2, 0, 2)
    b = MetricMatch("", 5, "人", 5, 7, 5, 7)
    assert dedupe_repeats([a, b]) == [a, b]


@pytest.mark.parametrize("text", ["力争达到95%", "预计完成3件", "争取培育5名"])
def test_intended_figures_are_not_results(text: str) -> None:
    assert find_metrics(text) == []


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("挽回损失三点五万元。", 35000, "元"),
        ("受教育群众逾千人次。", 1000, "人次"),
        ("惠及群众近万人。", 10000, "人"),
        ("满意度达九成以上。", 9, "成"),
        ("检查生产经营单位412家次。", 412, "家次"),
        ("补种树木1.2万株。", 12000, "株"),
        ("恢复林地136亩。", 136, "亩"),
    ],
)
def test_more_forms(text: str, value: float, unit: str) -> None:
    assert [(m.value, m.unit) for m in find_metrics(text)] == [(value, unit)]


@pytest.mark.parametrize("text", ["开展“进万家”活动。", "推进千所联千企。", "春节期间走访。"])
def test_bare_multipliers_and_unit_words_are_not_counts(text: str) -> None:
    assert find_metrics(text) == []


def test_an_ending_pattern_is_searched_back_as_far_as_its_longest_match() -> None:
    # `Ending.search` starts `reach` characters before the end; a reach shorter than the
    # pattern's longest match would miss matches. re's own parser knows that width
    # (a private module, read here only to check the hand-written figure).
    from re import _parser

    endings = {
        name: value for name, value in vars(vocabulary).items() if isinstance(value, vocabulary.Ending)
    }
    assert {"TRAILING_NOISE_RE", "SHARED_VALUE_BEFORE_RE"} <= endings.keys()
    for name, ending in endings.items():
        assert ending.regex.pattern.endswith("$"), name
        assert ending.reach >= _parser.parse(ending.regex.pattern).getwidth()[1], name
    # A long clause: the ending is still found, where a plain search finds it.
    clause = "全县" * 40 + "各类案件办结率均已达到"
    ending = vocabulary.SHARED_VALUE_BEFORE_RE
    found = ending.search(clause)
    assert found is not None and found.span() == ending.regex.search(clause).span()


@pytest.mark.parametrize(
    ("pattern", "openers"),
    [
        (vocabulary.QUOTED_RE, metrics._QUOTE_OPENERS),
        (vocabulary.MASKED_PUNCTUATION_RE, metrics._MASK_OPENERS),
    ],
)
def test_every_quoted_span_starts_with_one_of_the_openers_checked_first(
    pattern: re.Pattern[str], openers: str
) -> None:
    # find_metrics skips these patterns where none of `openers` occurs: every alternative
    # must start with one of them, or a quoted number would be counted as a metric.
    (op, (_, branches)), *rest = sre_parse.parse(pattern.pattern)
    assert op is sre_constants.BRANCH and not rest
    for branch in branches:
        first_op, first = branch[0]
        assert first_op is sre_constants.LITERAL and chr(first) in openers


@pytest.mark.parametrize("opener", ["“", "《", "「", "<", "[", "〔", "〈"])
def test_numbers_in_quotes_and_brackets_are_still_left_out(opener: str) -> None:
    closer = {"“": "”", "《": "》", "「": "」", "<": ">", "[": "]", "〔": "〕", "〈": "〉"}[opener]
    assert [m.value for m in find_metrics(f"发放{opener}12345件{closer}手册300册")] == [300]
