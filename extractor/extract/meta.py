"""Report metadata from the title, the first lines and the signature: issuer, region, years,
period, publish date."""

from __future__ import annotations

import datetime as dt
import re

from extractor.core.document import SourceDocument
from extractor.core.schema import Meta, Period
from extractor.core.script import to_simplified
from extractor.numbers.metrics import parse_chinese_number
from extractor.segment.model import SectionKind, SegmentedReport

_ORG_SUFFIX = r"(?:人民政府|委员会|司法局|监督管理局|管理局|局|办事处|办公室|政府|法院|检察院|中心|委|办|厅)"
_ISSUER = re.compile(
    r"((?:中共)?[\u4e00-\u9fff]{2,20}?"
    + _ORG_SUFFIX
    + r"(?:[\s、和与及]+(?:中共)?[\u4e00-\u9fff]{2,20}?"
    + _ORG_SUFFIX
    + r")?)"
    r"(?=\s*(?:关于|20\d{2}|二〇|\d{4}年|上半年|年度|法治|$))"
)
_SIGNATURE = re.compile(r"(?:^|(?<=[。！!？?；;]))" + _ISSUER.pattern.replace("(?=", "(?=$)(?=", 1) + "$")
_REGION = re.compile(
    r"^(?:中共|国家税务总局|国家[\u4e00-\u9fff]{2,10}?总局)?"
    r"([\u4e00-\u9fff]{1,12}?(?:自治县|自治旗|自治州|县|区|市|旗|乡|镇|街道|州(?![市县区])|盟|地区))"
)
_YEAR = re.compile(r"(20\d{2})\s*年")
_TITLE_WORDS = re.compile(r"报告|总结|法治政府建设|工作情况")
_HALF = re.compile(r"(上半年|半年|1-6月|1—6月|一至六月)")
_SIGNED_DATE = re.compile(r"(20\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_CN_SIGNED_DATE = re.compile(
    r"([〇零一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,2})\s*月\s*([一二三四五六七八九十]{1,3})\s*日"
)
_ISO_DATE = re.compile(r"(20\d{2})[-./](\d{1,2})[-./](\d{1,2})")
_PUBLISHED = re.compile(
    r"(?:发布时间|发布日期|发文日期|成文日期)\s*[:：]?\s*(20\d{2})[-./年](\d{1,2})[-./月](\d{1,2})"
)


def _date(y: str, m: str, d: str) -> dt.date | None:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None


def find_issuer(lines: list[str], *, whole_line: bool = False) -> str | None:
    """The first issuer named in `lines`. With `whole_line`, only a name that makes up a line,
    or ends it right after a full stop, counts (a signature), never one inside a sentence."""
    for line in lines:
        # A signature is a line of its own, or glued to the end of the last sentence.
        m = _SIGNATURE.search(line.strip()) if whole_line else _ISSUER.search(line.replace(" ", " "))
        if m:
            return re.sub(r"\s+", " ", m.group(1)).strip()
    return None


def region_of(issuer: str | None) -> str | None:
    """The region an issuer's name starts with (read through simplified script, returned in
    the issuer's own characters)."""
    if not issuer:
        return None
    m = _REGION.match(to_simplified(issuer))
    return issuer[m.start(1) : m.end(1)] if m else None


def plan_year_of(
    segmented: SegmentedReport, *, report_year: int | None, period: Period | None, has_plans: bool
) -> int | None:
    """The spec's rule: the year the plans section names in its heading or first sentence,
    else report_year + 1 for an annual report, report_year for a half-year one; None
    without a plans section."""
    if not has_plans:
        return None
    named = next((s.year for s in segmented.sections_of(SectionKind.PLANS) if s.year), None)
    if named is not None:
        return named
    if report_year is None:
        return None
    return report_year if period is Period.HALF_YEAR else report_year + 1


def extract_meta(doc: SourceDocument, segmented: SegmentedReport) -> Meta:
    """Meta fields by the spec's rules; a field stays None when the report does not say."""
    text = doc.normalised_head(2000)  # dates and the issuer sit near the top
    head = segmented.head_lines
    tail = segmented.tail_lines
    # The title names the issuer and the year; a web page's banner or a document's cover
    # block (文号, 签发人) may stand above it.
    title_at = next((i for i, line in enumerate(head) if len(line) <= 60 and _TITLE_WORDS.search(line)), None)
    title_lines = [] if title_at is None else [head[title_at], *head[max(0, title_at - 1) : title_at]]
    lines = head if title_at is None else head[title_at:]
    title = "".join(lines[:2]) if lines else ""
    issuer = _issuer(title_lines, head, tail, text)

    first_years = _YEAR.findall(title) or _YEAR.findall(" ".join(lines[:3]))
    report_year = int(first_years[0]) if first_years else None
    opening = " ".join(lines[:3])
    period = Period.HALF_YEAR if _HALF.search(title) or _HALF.search(opening[:120]) else Period.ANNUAL

    plan_year = plan_year_of(
        segmented,
        report_year=report_year,
        period=period,
        has_plans=bool(segmented.sections_of(SectionKind.PLANS)),
    )
    return Meta(
        issuer=issuer,
        region=region_of(issuer),
        report_year=report_year,
        period=period,
        plan_year=plan_year,
        publish_date=_publish_date(doc, text, head, tail),
    )


def _issuer(title_lines: list[str], head: list[str], tail: list[str], text: str) -> str | None:
    """The issuer named in the title, else the signature, else the first lines, else the
    first organisation named in the opening text."""
    issuer = (
        find_issuer(title_lines)
        or find_issuer(list(reversed(tail)), whole_line=True)
        or find_issuer(head[:3])
    )
    if issuer is None:
        body_org = re.search(
            r"([\u4e00-\u9fff]{2,10}(?:县|区|市|旗|乡|镇)(?:人民政府|司法局|[\u4e00-\u9fff]{2,8}局))",
            text[:600],
        )
        issuer = body_org.group(1) if body_org else None
    return issuer


def _publish_date(doc: SourceDocument, text: str, head: list[str], tail: list[str]) -> dt.date | None:
    """The loader's hint (a web page's 发布时间), else a labelled date near the top, else a
    date in brackets under the title, else the signature's date."""
    if doc.publish_date_hint is not None:
        return doc.publish_date_hint
    m = _PUBLISHED.search(text)
    published = _date(*m.groups()) if m else None
    return published or _date_under_title(head) or _signature_date(tail)


def _date_under_title(head: list[str]) -> dt.date | None:
    """The first bracketed date line among the first lines: 「（2025年2月26日）」."""
    for line in head:
        m = _SIGNED_DATE.fullmatch(line.strip("（）() "))
        if m and line.strip().startswith(("（", "(")):
            return _date(*m.groups())
    return None


def _signature_date(tail: list[str]) -> dt.date | None:
    """The date of the last date line among the last lines (the signature's)."""
    for line in reversed(tail):
        m = _SIGNED_DATE.fullmatch(line) or _ISO_DATE.fullmatch(line)
        if m:
            return _date(*m.groups())
        m = _CN_SIGNED_DATE.fullmatch(line)
        if m:  # 二〇二五年一月二十日
            return _date(*(str(parse_chinese_number(part)) for part in m.groups()))
    return None


def stated_dates(text: str) -> set[dt.date]:
    """Every date `text` writes out (2025年1月18日, 2025-01-18, 二〇二五年一月十八日)."""
    found = {_date(*m.groups()) for pattern in (_SIGNED_DATE, _ISO_DATE) for m in pattern.finditer(text)}
    for m in _CN_SIGNED_DATE.finditer(text):
        found.add(_date(*(str(parse_chinese_number(part)) for part in m.groups())))
    return {date for date in found if date is not None}


_ANY_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)|([〇零一二三四五六七八九]{4})\s*年")


def stated_years(text: str) -> set[int]:
    """Every year `text` writes out, in digits (2024) or Chinese numerals (二〇二四年)."""
    years = set()
    for m in _ANY_YEAR.finditer(text):
        value = int(m.group(1)) if m.group(1) else parse_chinese_number(m.group(2))
        if isinstance(value, int):
            years.add(value)
    return years


def states_half_year(text: str) -> bool:
    """True if `text` names a half-year period (上半年, 1-6月 ...)."""
    return bool(_HALF.search(text))
