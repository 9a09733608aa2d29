"""The wording of section headings: which section a heading opens (`classify_heading`), and
the other phrasings both the section walk and the closing of sections look for."""

from __future__ import annotations

import re
from functools import lru_cache

from extractor.core.script import to_simplified
from extractor.segment.model import SectionKind

_ACHIEVEMENT_WORDS = (
    r"(成效|成绩|完成情况|开展情况|推进情况|落实情况|主要做法|工作情况|进展|取得|主要举措|履行.{0,24}职责)"
)
_ACHIEVEMENTS = re.compile(_ACHIEVEMENT_WORDS + r"|第一责任人")
_ACHIEVEMENT_EXCLUDE = re.compile(_ACHIEVEMENT_WORDS)
_PROBLEMS = re.compile(
    r"存在(的)?(主要)?(问题|不足|困难|短板|差距)|不足(之处|和|与|及|$)|问题(和|与|及)(不足|困难|短板|差距|原因)"
    r"|困难(和|与)问题|短板(和|与)?弱项|薄弱环节|^(主要)?问题(和|与|及)?(不足)?$"
)
_PROBLEMS_EXCLUDE = re.compile(r"^(补齐|补强|破解|解决|整改|弥补|聚焦|坚持|着力|推动|加强)")
_PLANS = re.compile(
    r"下一步|下步|下阶段|下一阶段|下半年|明年|今后|来年|新的一年|努力方向|展望"
    r"|\d{4}年(度)?.{0,16}(计划|安排|打算|思路|重点|目标|任务)"
    r"|工作(计划|安排|打算|思路|重点|设想|举措)$|(计划|打算|安排|思路)$"
)
# Words that name plans outright (工作思路和主要举措 is plans, though 主要举措 alone is work done),
# unless the heading reports on them (2024年工作计划完成情况).
_PLANS_NAMED = re.compile(r"计划|打算|安排|思路|下一步|下步|下阶段|下半年|今后")
_DONE = re.compile(r"完成情况|落实情况|执行情况|推进情况")
CAUSES_HEADING = re.compile(
    r"^(产生|存在|出现|造成)?(上述|以上|这些)?(问题|不足)?(的)?(主要)?原因(分析)?(如下|主要(是|有))?$"
)
# A paragraph that introduces what follows rather than reporting anything itself.
INTRODUCTION = re.compile(
    r"(现将|如下|以下|主要表现在|主要体现在)[^。]{0,10}[:：。]?$|[:：]$"
    r"|^(在(肯定|看到|总结)(成绩|成效)的同时|[^。]{0,20}清醒(地|的)?(看到|认识到))"
    r"|^(一年来|半年来|总的来看|总体来看|虽然|尽管)[^。]*(但|仍|还)"
    r"|^[^。]{0,40}(存在|仍有|还有)(着)?(一些|不少|一定的?)[^。]{0,16}(不足|问题|短板|差距|薄弱环节|困难)[^。]{0,8}。?$"
)
YEAR = re.compile(r"(20\d{2})\s*年")


# Memoised: the walk, the check for a late section and the learned hints each ask about the
# same heading lines.
@lru_cache(maxsize=4096)
def classify_heading(title: str, *, numbered_top: bool = True) -> SectionKind | None:
    """Which section a heading opens, by its wording; None if it names no section.

    `numbered_top=False` (a heading numbered （一） or 1.) counts only unambiguous wordings:
    problems, plans and causes, never reported work."""
    title = to_simplified(title).strip().rstrip(":：").strip("【】[]〔〕 ")
    if not title or len(title) > 60:
        return None
    if CAUSES_HEADING.match(title):
        return SectionKind.CAUSES
    if _PROBLEMS.search(title) and not _PROBLEMS_EXCLUDE.match(title):
        return SectionKind.PROBLEMS
    if _PLANS.search(title) and (
        not _ACHIEVEMENT_EXCLUDE.search(title) or (_PLANS_NAMED.search(title) and not _DONE.search(title))
    ):
        return SectionKind.PLANS
    if numbered_top and _ACHIEVEMENTS.search(title):
        return SectionKind.ACHIEVEMENTS
    return None


# End matter of an official document (版记): copies-to and printing lines, attachments.
# Those that open the line are matched there only, and the rest found by their first
# characters: one pattern holding both was tried in full at every position of every line.
END_MATTER_OPENING = re.compile(
    r"(抄送|主送|抄报)[:：]|附\s*件\s*([:：\d一二三四五六七八九]|$)|[(（]此件[^)）]{0,8}[)）]$|特此报告|[(（]?联系人"
)
END_MATTER_ANYWHERE = re.compile(r"印发$|联系电话[:：]")


def is_end_matter(text: str) -> bool:
    """The paragraph is end matter of an official document (the report has ended)."""
    if END_MATTER_OPENING.match(text) is not None:
        return True
    # The pattern tried anywhere only where its words are (`in` scans far faster).
    return ("印发" in text or "联系电话" in text) and END_MATTER_ANYWHERE.search(text) is not None


def has_colon(text: str) -> bool:
    """Whether the text holds a colon: the patterns of a heading or opening run into a
    paragraph all end on one, so a paragraph without is answered without trying them
    (two scans for one character cost far less than a pattern tried at every position)."""
    return ":" in text or "：" in text


# A plans heading run into a paragraph: 「…！下半年工作计划：」.
_PLANS_RUN_IN = re.compile(
    r"(工作计划|工作安排|工作打算|工作思路|工作重点|计划如下|打算如下|安排如下)[：:]\s*"
)


def plans_heading_inside(text: str) -> tuple[int, int, int] | None:
    """(heading start, heading end, body start) of a plans heading run into a paragraph."""
    if not has_colon(text):
        return None  # the heading ends on a colon
    for m in _PLANS_RUN_IN.finditer(text):
        # The heading is its own clause: it starts the paragraph or follows a sentence end.
        start = max(text.rfind(ch, 0, m.start()) for ch in "。！!？?；;") + 1
        while start < m.start() and text[start] == " ":
            start += 1
        if m.end(1) - start > 40:
            continue
        clause = text[start : m.end(1)]
        if classify_heading(clause) is not SectionKind.PLANS:
            continue
        return start, m.end(1) + 1, m.end()
    return None
