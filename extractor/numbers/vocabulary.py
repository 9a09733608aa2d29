"""Word lists and compiled patterns behind `extractor.numbers.metrics.find_metrics`.

Everything here runs on NFKC text with whitespace removed (see `extractor.core.normalise`), so
full-width forms never appear: ％ is %, ， is ",", （ is "(", ： is ":" and so on. Curly quotes
and book-title marks are not compatibility characters and stay as they are.

The lists are deliberately conservative: the spec prefers a missed exotic metric to a false
one, so a measure word is only accepted where it cannot easily be the first character of an
ordinary word (see `FORBIDDEN_AFTER_UNIT`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractor.numbers.numerals import CN_DIGIT_CHARS, CN_NUMERAL_CHARS, MULTIPLIER_ALTERNATION
from extractor.numbers.pattern_ends import last_characters


@dataclass(frozen=True, slots=True)
class Ending:
    """A pattern that matches only at the end of what it is searched in (it ends in `$`), and
    the most characters a match of it spans (`reach`; lookbehinds do not count). `search`
    starts that far back: `re` would try every position of a long clause for a few
    characters at its end."""

    regex: re.Pattern[str]
    reach: int
    #: The characters a match can end with (`pattern_ends.last_characters`), None: any.
    last: frozenset[str] | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "last", last_characters(self.regex))

    def search(self, text: str, start: int = 0, end: int | None = None) -> re.Match[str] | None:
        end = len(text) if end is None else min(end, len(text))
        # A match ends at `end` (`$`), so its last character is the text's there: where no
        # match can end with that one (most calls), there is none. Not before a final line
        # break, where `$` also matches.
        if self.last is not None and end > start and text[end - 1] not in self.last and text[end - 1] != "\n":
            return None
        # One more: `$` also matches before a final line break.
        return self.regex.search(text, max(start, end - self.reach - 1), end)


# Longest first: the regex alternation takes the first unit that fits, and 人次 must win over 人.
UNITS: tuple[str, ...] = (
    "个百分点",
    "平方米",
    "立方米",
    "公顷",
    "人次",
    "件次",
    "户次",
    "场次",
    "批次",
    "家次",
    "个次",
    "学时",
    "课时",
    "小时",
    "公里",
    "%",
    "元",
    "件",
    "宗",
    "起",
    "人",
    "名",
    "位",
    "户",
    "家",
    "个",
    "所",
    "场",
    "次",
    "期",
    "份",
    "册",
    "本",
    "篇",
    "条",
    "块",
    "部",
    "项",
    "卷",
    "批",
    "套",
    "台",
    "辆",
    "张",
    "幅",
    "处",
    "座",
    "支",
    "分",
    "株",
    "棵",
    "亩",
    "吨",
    "间",
    "节",
    "轮",
    "成",
    "对",
)


def unit_alternation(units: tuple[str, ...]) -> str:
    """A regex alternation matching what `"|".join(units)` matches, and the same unit where
    several fit: the first of `units` (longest first) that matches there.

    The multi-character units stay alternatives in their order; the single characters, which
    all come after them, become one character class. At most one of them can match at a
    position, so the class picks the same one; and where a number is followed by no unit
    (2024年, 一是: most numbers in a report), one class test fails where the engine would try
    ~45 one-character alternatives one by one, at every length the number backtracks to."""
    singles = [unit for unit in units if len(unit) == 1]
    longer = [unit for unit in units if len(unit) > 1]
    if units[len(longer) :] != tuple(singles):
        raise ValueError("single-character units must come after all longer ones")
    parts = [re.escape(unit) for unit in longer]
    if singles:
        parts.append("[" + "".join(re.escape(unit) for unit in singles) + "]")
    return "|".join(parts)


_UNIT_ALTERNATION = unit_alternation(UNITS)


# Thousands separators only where they are unambiguous: groups of exactly three digits.
# Runs of digits (and of Chinese numerals, below) are possessive (`++`): nothing that may follow
# a number's digits (a point, 余/多, a multiplier, a unit) starts with a digit, nor with a
# Chinese numeral, so giving one back can never lead to a match, and `re` need not try it at
# each shorter length (a year, 2024年, would be tried at four).
_ARABIC = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d++)(?:\.\d++)?"

# The lookahead lets the engine skip the many positions that cannot start a number.
METRIC_RE = re.compile(
    rf"(?=[\d{CN_NUMERAL_CHARS}])(?:(?P<pct_cn>百分之(?P<pct_num>[{CN_NUMERAL_CHARS}点]+))"
    rf"|(?P<ar>{_ARABIC})(?P<ar_approx1>[余多])?(?P<ar_mult>{MULTIPLIER_ALTERNATION})?"
    rf"(?P<ar_approx2>[余多])?(?P<ar_unit>{_UNIT_ALTERNATION})(?P<ar_alt>\((?:{_UNIT_ALTERNATION})\))?"
    rf"|(?P<cn>[{CN_NUMERAL_CHARS}]++(?:点[{CN_DIGIT_CHARS}]++[万亿]?)?)(?P<cn_approx>[余多])?(?P<cn_unit>{_UNIT_ALTERNATION})"
    rf"(?P<cn_alt>\((?:{_UNIT_ALTERNATION})\))?)"
)

# Clause boundaries (normalised forms of ，。；：！？ and 、). A comma between digits before a
# group of three (1,002) is a thousands separator and a "." before a digit a decimal point.
# Every alternative opens with its literal character (the comma's lookbehind looks back past
# it: `,(?<!\d,)` is `(?<!\d),`), so that `re` tests the first character alone at each
# position, and skips the alternatives that cannot start there, instead of running the
# lookbehind at every position; all match one character, so their order changes nothing.
BOUNDARY_RE = re.compile(r"。|;|:|!|\?|、|,(?<!\d,)|,(?!\d{3}(?!\d))|\.(?!\d)")
# The last boundary of a window: the greedy prefix makes the engine backtrack from the end.
LAST_BOUNDARY_RE = re.compile(rf"(?s:.*)(?:{BOUNDARY_RE.pattern})")
BOUNDARY_CHARS = frozenset(",。;:!?、.")

# Spans whose numbers are never metrics (titles, quoted names, bracketed document numbers).
# The length caps keep an unbalanced mark from swallowing a whole report.
QUOTED_RE = re.compile(
    r"“[^“”]{0,60}”|《[^《》]{0,80}》|〈[^〈〉]{0,80}〉|<[^<>]{0,80}>|「[^「」]{0,60}」|\"[^\"]{0,60}\""
    r"|〔[^〔〕]{0,10}〕|\[[^\[\]]{0,10}\]"
)
# Punctuation inside these spans does not end a clause: 乡(镇、街道), “谁分管、谁负责”.
MASKED_PUNCTUATION_RE = re.compile(r"\([^()\d]{0,30}\)|“[^“”]{0,60}”|《[^《》]{0,80}》")

# A measure word followed by one of these characters is the start of an ordinary word
# (人民, 名单, 期间, 所有, 个月 ...), not a count.
FORBIDDEN_AFTER_UNIT: dict[str, str] = {
    "人": "民大口才士格事身均力文权",
    "名": "单称义额誉次片录牌字",
    "位": "于置居列",
    "家": "庭属长乡园风里训规",
    "个": "月",
    "所": "有以在属得谓长需做述致",
    "场": "所地景合面域馆",
    "次": "日年月",
    "期": "间限满刊望待货",
    "份": "额子",
    "本": "级地年月次土届单身着质色人市县区部院科领职",
    "篇": "章幅",
    "条": "例款件规线幅",
    "部": "门署分长队位",
    "项": "目",
    "户": "籍口外型",
    "元": "旦素宵化首",
    "起": "来到草步点止始码见床飞",
    "批": "准复示评转判办",
    "宗": "旨教族祠",
    "处": "理罚置分长室级于",
    "支": "持付出部",
    "台": "账湾阶上",
    "座": "谈",
    "幅": "度",
    "间": "隔断接",
    "吨": "位",
    "节": "日约点能目省假奏",
    "轮": "训换流值岗候番",
    "成": "立为员效果绩功本熟长交都",
    "对": "于象照比接口策话外待应",
}
# Multi-character continuations that turn a count into a duration (3个工作日, 两个星期).
FORBIDDEN_WORDS_AFTER_UNIT: dict[str, tuple[str, ...]] = {
    "个": ("工作日", "星期", "小时", "季度", "年头", "礼拜", "多月", "半月"),
}
# Nouns that count the parts a text is organised into (4个方面, 三项举措, 两个层面), not things
# done: the labelling rules call such counts named sets, not metrics. The rules parser keeps
# Arabic ones for now; the LLM path flags them (`extract/llm/disagree.py`).
SET_NOUNS_AFTER_UNIT_RE = re.compile(r"方面|层面|维度|举措|环节")
# Units that are only a measure when they end the clause: 平均分99.54分 but not 3分钟 / 分类,
# 服务时长120小时 but not 24小时值守.
CLAUSE_FINAL_UNITS = frozenset({"分", "小时"})
# What may follow a clause-final count besides a boundary: 95%以上, 3%以内, 500人左右.
BOUND_SUFFIX_RE = re.compile(r"以上|以下|以内|左右|之内|及以上")

# Context just before a number that makes it something other than a count: an ordinal
# (第二期), a range (1-2期, 三至五人), a frequency (每周一次, 每半月开展一次), a duration
# (为期3天) or a code (G20).
# An intention is not a result: 力争达到95%, 预计完成3件 (spec: only targets
# already reached are metrics).
INTENDED_BEFORE_RE = re.compile(r"(?:力争|预计|争取)[^,。;:!?、]{0,6}$")
NOT_A_COUNT_BEFORE_RE = re.compile(
    rf"(?:第|[\d{CN_NUMERAL_CHARS}][-~～—–至到]|每[^,。;:!?、]{{0,5}}|为期|历时|用时|耗时|长达|期限|工期|[A-Za-z])$"
)
# Rankings (前3名, 位居全市第2位) only matter for 名/位.
RANK_BEFORE_RE = re.compile(
    r"(?:(?<![目此之提事当以日年月眼跟])前|(?<![之以此今其然最])后|倒数|排名|排在|位列|名列|位居)$"
)
RANK_UNITS = frozenset({"名", "位"})
# Chinese numerals only: a slogan (一村一警, 一家一户, 一月一主题: a numeral right after
# "numeral + one character") or a vague amount (数十人, 上百人, 几十家).
# A Chinese-numeral count before its noun is trusted after an action that produces or
# handles things (新建两个工作站, 举办三期培训); elsewhere such phrases name sets (三项举措).
CN_COUNT_AFTER_ACTION_RE = re.compile(
    r"(?:新建|建成|建立|设立|组建|新增|成立|培育|打造|创建|举办|召开|办理|受理|调解|化解|完成|"
    r"审查|审核|评查|出具|发放|聘请|配备|培训|接待|走访|收到|新收|办结|审结|帮助|为|"
    r"全乡|全镇|全村|全县|全区|全市)[了共计约近]?$"
)
CN_NOT_A_COUNT_BEFORE_RE = re.compile(
    rf"(?:[{CN_NUMERAL_CHARS}][^\d{CN_NUMERAL_CHARS},。;:!?、]?|[数几上成好])$"
)

# Name trimming. Connectors, time phrases and quantity verbs sit between the counted thing
# and the number without being part of it. These patterns are used with a `pos` argument,
# so they carry no "^" anchor (it would only match at the real start of the string).
_ENUMERATION_MARKER = (
    r"[一二三四五六七八九十]+是|\(?[一二三四五六七八九十\d]{1,3}\)|\d{1,2}[.、]|[一二三四五六七八九十]{1,3}、"
)
LEADING_NOISE_RE = re.compile(
    rf"(?:{_ENUMERATION_MARKER}|[(\"]"
    r"|\d{4}年(?:度)?|\d{1,2}月(?:份)?(?:以来|底|末|中旬|上旬|下旬)?|\d{1,2}日"
    r"|今年以来|今年来|年初以来|去年以来|截至目前|截止目前|截至|截止|到目前为止|目前|当前|现阶段"
    r"|本年度|今年度|本年|今年|全年|上半年|下半年|年内|期间|以来"
    r"|其中|另外|此外|同时|即|虽然|但是|但|而且|并且|因此|所以"
    r"|共计|合计|总计|累计|共(?![享建同治青产])|先后|分别|还(?![原款])|并(?![案])"
    r"|及(?!时)|和(?![解平谐])|与(?!会)"
    r"|我县|我区|我市|我局|我乡|我镇|我们|全县|全区|全市|全乡|全镇|全省|本县|本区|本市"
    r"|为(?![民期主止])|对(?![外接象比口照])|向|给|在(?![册押逃岗职线编])|将(?![近军])|把"
    r"|有(?![效关力序利])|其(?![他余它])|均|都|达到|达(?![成标])|约(?![谈束定])|近(?![期年])|逾|超过)"
)
# Single characters only where they cannot be the end of a word (行为, 拥有, 下达, 平均, 公共).
TRAILING_NOISE_RE = Ending(
    re.compile(
        r"(?:共计|合计|总计|累计|共有|(?<!公)共|约|将近|接近|(?<![最附])近|逾|超过|超|达到|高达|多达"
        r"|(?<![下传送表到抵直通转])达|(?<![行作认成因称以])为|(?<![但于就凡总还只要即可])是"
        r"|(?<![拥没所具享占])有|等|的|了|(?<![平人户年日月])均|都|已|分别|不少于|不低于|不足|不到"
        r"|仅|只有|总数|(?:始终|一直)?(?:控制在|保持在|稳定在|维持在))$"
    ),
    reach=5,
)
# Where a count stands before its noun (共有44名律师, 全县312所中小学), the name is the noun after
# the unit; these endings of the preceding text mark that word order.
PREPOSITIONED_BEFORE_RE = Ending(
    re.compile(
        r"(?:等|的|对|为|有|及|和|与|给|向|了|组织|选派|抽调|聘请|成立|配备|抽取|全县|全区|全市|全乡|全镇"
        r"|我县|我区|我市|全省|约|近|逾|超过|共|累计|共计)$"
    ),
    reach=2,
)
# A bare place name before the number (湖滨区106个调解组织) is not what is counted (fullmatch).
PLACE_ONLY_RE = re.compile(r"[\u4e00-\u9fff]{1,6}[省市县区乡镇村州旗]$")
# Where the noun after a pre-positioned count ends: a verb, a connector or another number.
POST_NAME_STOP_RE = re.compile(
    r"\d|共|累计|均|已|将|在|到|参加|参与|进行|开展|完成|提供|配备|接受|获得|通过|被|对|向|于|以"
    r"|中|和|及|与|的|实现|为|是|从|由|等|分别|入驻|进|逐|落实|签订|办理|受理|评查|检查|排查|审查"
    r"|召开|举办|发放|聘请|覆盖|走访|聆听|经|配足|配齐|配强"
)
# A noun cannot start with these: 200余人到场 names the people before the number, not 到场.
POST_NAME_VERB_START_RE = re.compile(
    r"到|在|参加|参与|进行|开展|完成|接受|获得|通过|被|已|均|共|累计|将|的|是|为|于|以|从|由|入驻|进|逐"
    r"|落实|经"
)
POST_NAME_MAX = 16
NAME_MAX = 30
# The start of a tail cut inside a quote or title: up to its first unmatched closing mark.
UNMATCHED_CLOSING_RE = re.compile(r"[^“《]*?[”》]")
# Before a number that every name of a 、-joined list shares (参考率、合格率均达100%) ...
SHARED_VALUE_BEFORE_RE = Ending(
    re.compile(r"(?:均|都|全部|全都)(?:已经|已)?(?:达到|达|为|是|在|超过|超|保持在)?$"),
    reach=7,
)
# ... and before the first of as many 、-joined numbers as names (参考率、合格率分别为100%、98%).
RESPECTIVELY_BEFORE_RE = Ending(
    re.compile(r"分别(?:为|是|达到|达|占)?$"),
    reach=4,
)
LIST_NAME_MAX = 15
