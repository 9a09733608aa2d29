"""Area classification by keywords: the closed list of the spec, decided by content.

Each area has weighted keywords (longer, more specific phrases weigh more). The point's
lead phrase counts extra, since the spec settles mixed content by the item's own heading or
lead phrase; the enclosing heading only breaks ties or fills in when the body says nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache

from ahocorasick_rs import AhoCorasick, MatchKind

from extractor.core.schema import Area
from extractor.core.script import to_simplified
from extractor.extract.rules.area_model import load_area_model

_KEYWORDS: dict[Area, dict[str, float]] = {
    Area.LEADERSHIP: {
        "依法治县": 2,
        "依法治区": 2,
        "依法治市": 2,
        "依法治镇": 2,
        "依法治乡": 2,
        "依法治旗": 2,
        "全面依法治": 2,
        "第一责任人": 3,
        "述法": 3,
        "述职述法": 2,
        "习近平法治思想": 1.5,
        "法治督察": 3,
        "督察": 1.5,
        "考核": 1,
        "考评": 1.5,
        "示范创建": 2.5,
        "示范县": 2,
        "示范市": 2,
        "示范区": 2,
        "法治政府建设": 0.7,
        "法治建设": 0.7,
        "工作要点": 1.5,
        "统筹": 1,
        "党的领导": 1.5,
        "关键少数": 2,
        "领导干部": 1,
        "民主法治示范": 2.5,
        "法治调研": 2,
        "委员会": 0.5,
        "法治乡村": 1,
        "法治社会": 1,
        "政治建设": 1.5,
        "两个确立": 1.5,
        "两个维护": 1.5,
        "理论武装": 1.5,
        "法治思维": 0.5,
        "年度报告": 1,
    },
    Area.RULEMAKING: {
        "规范性文件": 3,
        "合法性审查": 3,
        "合法性审核": 3,
        "重大行政决策": 3,
        "政府法律顾问": 3,
        "公平竞争审查": 3,
        "备案审查": 2.5,
        "备案": 1,
        "公职律师": 2,
        "法律顾问": 1,
        "权力清单": 2,
        "权责清单": 2,
        "事项清单": 1.5,
        "涉法事项": 2,
        "决策": 1,
        "立法": 2,
        "法制审核": 2.5,
        "法律顾问团": 2,
        "审查": 0.5,
        "清理": 1,
        "制度建设": 1.5,
        "文件": 0.3,
    },
    Area.ENFORCEMENT: {
        "行政执法": 2.5,
        "执法监督": 3,
        "案卷评查": 3,
        "评查": 1.5,
        "执法人员": 2,
        "执法证": 2,
        "执法资格": 2,
        "综合执法": 3,
        "综合行政执法": 3,
        "执法体制": 3,
        "执法": 1,
        "三项制度": 2,
        "监督意见书": 2,
        "执法检查": 1.5,
        "柔性执法": 2,
        "包容审慎": 1.5,
        "执法案卷": 3,
        "执法队伍": 2.5,
        "劳动保障监察": 2.5,
        "欠薪": 1,
        "监管": 1,
        "违法": 1,
        "查处": 1.5,
        "取证": 1,
        "突出问题专项整治": 1.5,
        "赋权": 1.5,
    },
    Area.RECONSIDERATION: {
        "行政复议": 3,
        "复议": 2,
        "行政应诉": 3,
        "应诉": 2,
        "出庭": 2,
        "府院联动": 3,
        "行政诉讼": 2.5,
        "行政争议": 2,
        "败诉": 2,
        "告官": 1.5,
        "审结": 1,
    },
    Area.LEGAL_EDUCATION: {
        "普法": 2.5,
        "法治宣传": 2.5,
        "宣传": 1,
        "法治文化": 2.5,
        "法律明白人": 2.5,
        "青少年": 2,
        "法治副校长": 3,
        "学法": 1.5,
        "学法考试": 2.5,
        "民法典": 1.5,
        "宪法": 1.5,
        "法治讲座": 2,
        "宣讲": 1.5,
        "法治教育": 2,
        "谁执法谁普法": 3,
        "公众号": 1.5,
        "新媒体": 1.5,
        "推文": 1.5,
        "法治课": 2,
        "送法": 2,
        "宣传资料": 1.5,
        "未成年人": 1.5,
        "法治意识": 1.5,
        "法治素养": 1.5,
        "依法办事": 1,
        "法律意识": 1.5,
        "校园": 1.5,
        "法治培训": 1,
        "旁听庭审": 1.5,
        "法律七进": 2,
        "法律八进": 2,
        "八五": 1,
    },
    Area.LEGAL_SERVICES: {
        "法律援助": 3,
        "法援": 3,
        "公证": 3,
        "律师": 2,
        "律所": 2,
        "律师事务所": 1.5,
        "司法鉴定": 3,
        "村(居)法律顾问": 3,
        "村居法律顾问": 3,
        "村(社区)法律顾问": 3,
        "法治体检": 3,
        "人民陪审员": 3,
        "人民监督员": 3,
        "陪审": 2,
        "公共法律服务": 3,
        "法律服务": 2,
        "12348": 2,
        "法律咨询": 1,
        "基层法律服务": 2.5,
        "惠企": 1.5,
        "营商环境": 1,
        "法企": 1.5,
    },
    Area.DISPUTES: {
        "人民调解": 3,
        "调解": 2,
        "调委会": 3,
        "矛盾纠纷": 3,
        "纠纷": 1.5,
        "信访": 3,
        "诉源治理": 3,
        "枫桥经验": 2,
        "排查化解": 2,
        "民转刑": 2,
        "调解员": 2.5,
        "维稳": 1.5,
        "平安": 1,
        "化解": 0.5,
    },
    Area.CORRECTIONS: {
        "社区矫正": 3,
        "矫正": 2,
        "安置帮教": 3,
        "帮教": 2,
        "刑满释放": 3,
        "刑释": 2.5,
        "服刑人员": 2,
        "在矫": 2.5,
        "监外执行": 2,
        "脱管": 2,
        "漏管": 2,
        "重点人群": 2,
        "特殊人群": 2,
        "再犯罪": 1.5,
        "矫正对象": 3,
        "智慧矫正": 3,
    },
    Area.GRASSROOTS: {
        "司法所": 2.5,
        "队伍建设": 2.5,
        "队伍": 1,
        "人才": 1.5,
        "党建": 2.5,
        "党风廉政": 3,
        "廉政": 2.5,
        "清廉": 2.5,
        "巡察整改": 3,
        "巡察": 1.5,
        "整改": 0.3,
        "党支部": 2,
        "干部教育": 2,
        "从严治党": 3,
        "一岗双责": 2,
        "规范化司法所": 3,
        "强基": 2,
        "人员力量": 2,
        "专业力量": 1.5,
        "工作力量": 1.5,
        "力量薄弱": 1.5,
        "两委": 1.5,
        "专业化": 1,
        "职业化": 1.5,
        "铁军": 1.5,
        "意识形态": 2,
        "纪律": 1.5,
        "专业水平": 1.5,
        "法治专业": 1,
        "作风": 1.5,
        "基层基础": 2,
        "四风": 2,
        "微腐败": 2,
    },
    Area.OTHER: {
        "乡村振兴": 2,
        "扫黑除恶": 3,
        "创文创卫": 3,
        "疫情": 2,
        "行政审批": 2.5,
        "结对帮扶": 2,
        "驻村": 1.5,
        "全程网办": 2,
        "政务公开": 1,
        "社会救助": 2,
        "婚姻登记": 2,
        "殡葬": 2,
        "养老服务": 1.5,
        "信息公开": 1.5,
        "政务服务": 2,
        "减证便民": 1.5,
        "人居环境": 1.5,
        "招商": 2,
    },
}


# Words that score nothing but stop a keyword matching across a word boundary
# (设立法治宣传专区 is not 立法).
_NEUTRAL = ("设立", "成立", "建立", "确立", "树立", "独立", "订立", "创立")
# Leftmost-longest, non-overlapping: scanning left to right, the longest keyword starting at
# the first position where any starts, then on after it (a neutral word there blocks the
# keywords inside it). One automaton pass instead of re trying ~135 first characters' branches
# one by one wherever a keyword could start.
_MATCHER = AhoCorasick(
    [k for kw in _KEYWORDS.values() for k in kw] + list(_NEUTRAL), matchkind=MatchKind.LeftmostLongest
)
_WEIGHTS: dict[str, list[tuple[Area, float]]] = {}
for _area, _kw in _KEYWORDS.items():
    for _word, _weight in _kw.items():
        _WEIGHTS.setdefault(_word, []).append((_area, _weight))

LEAD_WEIGHT = 2.0
CONTEXT_MIN = 1.5


def area_scores(text: str) -> dict[Area, float]:
    """Weighted keyword hits per area (longest keyword wins at each position)."""
    return dict(_area_scores(text))


@lru_cache(maxsize=4096)
def _area_scores(text: str) -> tuple[tuple[Area, float], ...]:
    scores: dict[Area, float] = {}
    for word in _MATCHER.find_matches_as_strings(to_simplified(text)):
        for area, weight in _WEIGHTS.get(word, ()):
            scores[area] = scores.get(area, 0.0) + weight
    return tuple(scores.items())


#: Second-best score over the best from which an area call counts as close (measured on the
#: labelled reports: above it the rules' area is wrong about three times as often).
CLOSE_CALL = 0.3


def _item_scores(
    body: str, lead: str | None, context: Sequence[str]
) -> tuple[dict[Area, float], dict[Area, float]]:
    """(the item's own scores, its enclosing headings' scores)."""
    scores, context_scores = _item_score_pairs(body, lead, tuple(context))
    return dict(scores), dict(context_scores)


# Memoised: the rules backend asks for one item's area and for how clear that call was.
@lru_cache(maxsize=256)
def _item_score_pairs(
    body: str, lead: str | None, context: tuple[str, ...]
) -> tuple[tuple[tuple[Area, float], ...], tuple[tuple[Area, float], ...]]:
    scores = dict(_area_scores(body))
    if lead:
        for area, value in _area_scores(lead):
            scores[area] = scores.get(area, 0.0) + LEAD_WEIGHT * value
    context_scores: dict[Area, float] = {}
    for heading in context:
        for area, value in _area_scores(heading):
            context_scores[area] = context_scores.get(area, 0.0) + value
    return tuple(scores.items()), tuple(context_scores.items())


#: Runner-up's probability over the best's from which the model's call counts as close
#: (chosen on the leave-one-document-out predictions, see eval/gold/README.md).
MODEL_CLOSE_CALL = 0.2


#: Environment variable that switches the rules backend to the learned area model
#: ("learned"). Off by default: cross-validated it is more accurate than keywords (0.920 vs
#: 0.902 over 828 labelled items, eval/gold/README.md) but costs about three times the
#: rules backend's CPU on reports it has not seen (about 46 vs 150 reports/s on one core),
#: below the throughput bar; keywords stay the default until it is made cheaper.
AREA_MODEL_ENV = "EXTRACTOR_AREA_MODEL"


def learned_model_enabled() -> bool:
    return os.environ.get(AREA_MODEL_ENV, "").strip().lower() == "learned"


def _model_call(body: str, learned: bool | None) -> tuple[Area, float] | None:
    """(the model's area, runner-up probability over the best), or None when the learned
    model is not switched on (or no weights file was shipped). `learned`: whether it is
    switched on, when the caller has read that once for a whole report (None: read it now)."""
    if not (learned_model_enabled() if learned is None else learned):
        return None
    return _learned_call(body)


@lru_cache(maxsize=4096)
def _learned_call(body: str) -> tuple[Area, float] | None:
    model = load_area_model()
    if model is None:
        return None
    probabilities = model.probabilities(body, area_scores(body))
    (best, p_best), (_, p_second) = sorted(probabilities.items(), key=lambda kv: -kv[1])[:2]
    return best, p_second / p_best


def area_call_strength(
    body: str, *, lead: str | None = None, context: Sequence[str] = (), learned: bool | None = None
) -> str:
    """How the area was decided: "default" (no keyword in the item itself, and the area fell
    to "other"), "close" (a close call: by the model's probabilities when the model decides,
    else the keyword runner-up scored at least CLOSE_CALL of the best), or "model" / "keywords"
    (a clear call by the model or by the keywords). `learned` as for `classify_area`."""
    scores, _context = _item_scores(body, lead, context)
    call = _model_call(body, learned)
    return _keyword_strength(scores) if call is None else _model_strength(scores, *call)


def _model_strength(scores: dict[Area, float], area: Area, ratio: float) -> str:
    if not scores and area is Area.OTHER:
        return "default"
    return "close" if ratio >= MODEL_CLOSE_CALL else "model"


def _keyword_strength(scores: dict[Area, float]) -> str:
    if not scores:
        return "default"
    best, *rest = sorted(scores.values(), reverse=True)
    return "close" if rest and rest[0] >= CLOSE_CALL * best else "keywords"


def area_call(
    body: str, *, lead: str | None = None, context: Sequence[str] = (), learned: bool | None = None
) -> tuple[Area, str]:
    """(`classify_area(...)`, `area_call_strength(...)`) for the same arguments, from one
    reading of the scores: the rules backend wants both for every item."""
    scores, context_scores = _item_scores(body, lead, context)
    call = _model_call(body, learned)
    if call is not None:
        return call[0], _model_strength(scores, *call)
    return _keyword_choice(scores, context_scores), _keyword_strength(scores)


def classify_area(
    body: str, *, lead: str | None = None, context: Sequence[str] = (), learned: bool | None = None
) -> Area:
    """The item's area: the learned model's (`area_model.py`) when switched on
    (`EXTRACTOR_AREA_MODEL=learned`), reading the body with keyword scores among its features;
    else `keyword_area`. `learned`: whether the model is switched on, read once per report by
    a caller classifying many items (reading the environment costs more than a cached call);
    None reads it now."""
    call = _model_call(body, learned)
    if call is not None:
        return call[0]
    return keyword_area(body, lead=lead, context=context)


def keyword_area(body: str, *, lead: str | None = None, context: Sequence[str] = ()) -> Area:
    """The area by keywords alone: body content, lead phrase weighted extra, enclosing
    headings as tie-break."""
    return _keyword_choice(*_item_scores(body, lead, context))


def _keyword_choice(scores: dict[Area, float], context_scores: dict[Area, float]) -> Area:
    if not scores:
        # Nothing in the item itself: its heading decides only when it names an area clearly
        # (a generic 「推进法治政府建设」 heading says nothing about 耕地保护).
        best = max(context_scores, key=lambda a: context_scores[a], default=None)
        if best is not None and context_scores[best] >= CONTEXT_MIN:
            return best
        return Area.OTHER
    return max(scores, key=lambda a: (scores[a], context_scores.get(a, 0.0)))
