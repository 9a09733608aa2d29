"""Segmentation: find the achievements, problems and plans sections and their leaf points.

Entry: `segment_report(doc) -> SegmentedReport`. Works on logical paragraphs (see
`paragraphs`), so PDF line breaks, page footers and web chrome do not matter, and reports
every point as a span of the original text.

The steps: `report_body` sets aside a table of contents, the end matter and the signature;
`place_paragraph` walks the body paragraphs in order, opening a section at a heading (and at
a section that opens inside a paragraph: a run-in label, a plans heading or introduction, a
problems passage, a shortfall, a causes block), else adding the paragraph to the section
open; `reported_work_before_headings` and `without_profiles` settle the achievements of
reports that head them unusually; `points.close_section` turns each section into points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from extractor.core.document import SourceDocument
from extractor.core.schema import Span
from extractor.segment.enumeration import ParagraphSlice, marker_at_start, title_between
from extractor.segment.headings import (
    CAUSES_HEADING,
    INTRODUCTION,
    YEAR,
    classify_heading,
    has_colon,
    is_end_matter,
    plans_heading_inside,
)
from extractor.segment.kind_model import ACHIEVEMENT, PLAN, PROBLEM, load_kind_model
from extractor.segment.layout import HeadingRole, StyledHeadings
from extractor.segment.model import SectionKind, SegmentedReport
from extractor.segment.paragraphs import DATE_LINE, Paragraph, split_paragraphs
from extractor.segment.points import CAUSE_IN_POINT, DraftSection, close_section

__all__ = ["classify_heading", "segment_report"]

# A profile of the issuer (基本情况, 概况) is not reported work when a later heading names it.
_PROFILE = re.compile(r"^(单位|机构|部门|工作)?(基本情况|基本概况|概况)$")
_RECTIFIED = re.compile(r"整改(落实|完成)?情况")
# A problems passage that opens inside a paragraph: "…还存在一些短板弱项…主要是：一是…"
_PROBLEMS_RUN_IN = re.compile(
    r"(存在|面临|仍有|还有)[^。]{0,30}(不足|问题|短板|弱项|困难|差距)[^。]{0,30}[。：:]?\s*(主要(是|有|表现(在|为))|具体(表现)?(为|如下|是)|表现(在|为)|如下)?[：:]"
)
_SHORTFALL_SENTENCE = re.compile(r"存在[^。]{0,60}(不足|差距)|不足之处")
_SHORTFALL_LINE = re.compile(r"^(存在的?)?(不足之处|存在不足|存在问题|不足|问题)[：:]")
# A block of causes for the problems as a whole names them: 产生问题的原因, 存在不足的原因.
_CAUSE_BLOCK_WORDS = re.compile(r"问题|不足|上述|以上|这些")
# A paragraph that opens the plans from inside the problems section:
# 「2025年，我局将针对上述不足，重点做好以下工作：」
_PLANS_INTRO = re.compile(
    r"^(\d{4}年(度)?|下一步|下阶段|今后|明年|下半年|新的一年)[^。：:]{0,60}(?<!现)(将|要)[^。：:]{0,80}(以下|如下)[^。：:]{0,12}[：:]"
    r"|^(下一步|下阶段|今后|新的一年)[，,][^。：:]{0,40}(?<!现)(将|要)[^。：:]{0,80}[：:]"
)
# A section label run into its paragraph: 「问题与不足：1.…」, 「下一步打算：一是…」.
_RUN_IN_LABEL = re.compile(r"^([^，。；：:,;]{2,14})[：:]")
_HAS_POINTS = re.compile(
    r"[：:；;。]\s*(1[.、]|[一二]是|[(（][1一][)）]|①)|^\s*(1[.、]|一是|[(（][1一][)）]|①)"
)
_ORG_LINE = re.compile(
    r"^[\u4e00-\u9fff()（）\s、]{2,40}(局|政府|委员会|委|办公室|院|中心|所|乡|镇|街道|公司|部|厅|处)$"
)
_TITLE_LINE = re.compile(r"^关于.*(报告|总结)$|(情况|工作)?(报告|总结)$")
_LATE_KINDS = (SectionKind.PROBLEMS, SectionKind.PLANS, SectionKind.CAUSES)


@dataclass
class Outline:
    """What the walk over the body paragraphs has found so far: the sections in document
    order (the last one is open) and the paragraphs before the first section."""

    sections: list[DraftSection] = field(default_factory=list)
    preamble: list[ParagraphSlice] = field(default_factory=list)
    # What the paragraphs under a top-level heading with no section wording report, by the
    # learned classifier; keyed by the heading paragraph's start offset.
    kind_hints: dict[int, SectionKind] = field(default_factory=dict)
    styled: StyledHeadings = field(default_factory=StyledHeadings)

    @property
    def current(self) -> DraftSection | None:
        return self.sections[-1] if self.sections else None

    @property
    def current_kind(self) -> SectionKind | None:
        return self.sections[-1].kind if self.sections else None

    def open(
        self, kind: SectionKind, heading: str, heading_span: Span | None, body: ParagraphSlice | None = None
    ) -> None:
        """Open a new section (the one open before ends), with `body` as its first text."""
        section = DraftSection(kind, heading, heading_span)
        if body is not None:
            section.slices.append(body)
        self.sections.append(section)


@dataclass(frozen=True)
class ParagraphHead:
    """How a paragraph opens: its enumeration marker, if any, and the heading after it."""

    marker_kind: str | None  # a group name of enumeration's markers: "cn" for 一、, "pcn" for （一） …
    body_start: int  # where the text after the marker starts
    heading: str  # the run-in heading (up to the first sentence end), or the whole line
    standalone: bool  # the heading is the whole paragraph


def segment_report(doc: SourceDocument) -> SegmentedReport:
    """Sections and their leaf points. Sections come in document order; a report may have
    several achievements sections (each top-level heading of reported work is one)."""
    layout = doc.layout_hints
    paragraphs = split_paragraphs(doc.text, headings=layout.headings if layout else ())
    body, head_lines, tail_lines = report_body(paragraphs)
    styled = StyledHeadings.of(body)
    outline = walk_body(body, styled=styled)
    found = {section.kind for section in outline.sections}
    if not {SectionKind.PROBLEMS, SectionKind.PLANS} <= found or not _names_a_late_section(body, styled):
        # The wording missed a late section, or found one only inside a paragraph: ask what
        # the text under the headings that name no section reports.
        hints = learned_section_kinds(body, styled)
        if hints:
            outline = walk_body(body, hints, styled=styled)
    drafts = outline.sections
    work = reported_work_before_headings(outline)
    if work is not None:
        drafts = [work, *drafts]
    drafts = without_profiles(drafts)
    drafts = [d for d in drafts if d.slices]
    closed = (close_section(d, ends_report=i == len(drafts) - 1) for i, d in enumerate(drafts))
    sections = [s for s in closed if s is not None]
    return SegmentedReport(
        doc_id=doc.doc_id,
        sections=sections,
        title=body[0].text if body else "",
        head_lines=head_lines,
        tail_lines=tail_lines,
    )


def _names_a_late_section(body: list[Paragraph], styled: StyledHeadings) -> bool:
    """Some heading line names the problems or the plans (then unnamed headings are points)."""
    for para in body:
        role = styled.role(para)
        head = head_of(para, role)
        unmarked = head.marker_kind is None and role is None  # a styled file says which lines head
        short_line = head.standalone and (head.marker_kind == "cn" or unmarked) and len(para.text) <= 40
        heading_line = short_line or role is HeadingRole.SECTION
        if heading_line and classify_heading(head.heading) in (SectionKind.PROBLEMS, SectionKind.PLANS):
            return True
    return False


def walk_body(
    body: list[Paragraph],
    kind_hints: dict[int, SectionKind] | None = None,
    *,
    styled: StyledHeadings | None = None,
) -> Outline:
    """The outline of the body paragraphs, placed one by one in document order."""
    outline = Outline(kind_hints=kind_hints or {}, styled=styled or StyledHeadings())
    for para in body:
        place_paragraph(outline, para)
    return outline


def report_body(paragraphs: list[Paragraph]) -> tuple[list[Paragraph], list[str], list[str]]:
    """(body, head lines, tail lines): the body is the paragraphs without a table of contents,
    the end matter (附件, 抄送, …印发) and the signature just before it. The head and tail
    lines are the first 8 and last 4 paragraphs (end matter included: it may follow the
    signature), for the report's metadata."""
    paragraphs = without_contents(paragraphs)
    end = next(
        (i for i, p in enumerate(paragraphs) if i > len(paragraphs) // 2 and is_end_matter(p.text)),
        len(paragraphs),
    )
    head_lines = [p.text for p in paragraphs[:8]]
    tail_lines = [p.text for p in paragraphs[-4:]]
    body = paragraphs[:end]
    while body and is_signature(body[-1].text):
        body.pop()
    return body, head_lines, tail_lines


def without_contents(paragraphs: list[Paragraph]) -> list[Paragraph]:
    """A table of contents (目录 then heading lines) repeats the headings: drop it."""
    at = next((i for i, p in enumerate(paragraphs[:12]) if p.text.replace(" ", "") == "目录"), None)
    if at is None:
        return paragraphs
    end = at + 1
    while (
        end < len(paragraphs)
        and len(paragraphs[end].text) <= 40
        and not any(c in "。；;！!？?" for c in paragraphs[end].text)
    ):
        end += 1
    return paragraphs[:at] + paragraphs[end:]


def is_signature(text: str) -> bool:
    """A date line or an issuing organisation's name on its own line."""
    return bool(DATE_LINE.match(text) or (_ORG_LINE.match(text) and len(text) <= 40))


def place_paragraph(outline: Outline, para: Paragraph) -> None:
    """Open the section the paragraph heads or begins, else add it to the one open (or to
    the preamble before any section)."""
    # The length first: the pattern is tried at every position of a long paragraph.
    if outline.current is None and len(para.text) <= 80 and _TITLE_LINE.search(para.text):
        outline.preamble.append(_whole(para))  # the report's title, never a heading
        return
    role = outline.styled.role(para)
    head = head_of(para, role)
    kind = heading_section_kind(
        para.text, head, outline.current_kind, hint=outline.kind_hints.get(para.start), role=role
    )
    if kind is not None:
        head_end = head.body_start + len(head.heading)
        body = None if head.standalone else _slice_from(para, _skip_punct(para.text, head_end))
        outline.open(kind, head.heading, _span(para, 0, head_end), body)
        return
    for opens_inside in _SECTIONS_OPENED_INSIDE:
        if opens_inside(outline, para, head):
            return
    current = outline.current
    if current is not None:
        current.slices.append(_whole(para))
    elif head.marker_kind in ("pcn", "num"):
        outline.open(SectionKind.ACHIEVEMENTS, "", None, _whole(para))  # numbered work, unheaded
    else:
        outline.preamble.append(_whole(para))


# Memoised (frozen result): the walks, the late-section check and the hints all read it.
@lru_cache(maxsize=4096)
def read_head(text: str, *, whole: bool = False) -> ParagraphHead:
    """How the paragraph opens; `whole`: the paragraph is a heading line all through (the
    file styles it so), whatever punctuation it holds."""
    m = marker_at_start(text)
    body_start = m.end() if m else 0
    heading, standalone = (
        (text[body_start:].strip(), True) if whole else title_between(text, body_start, len(text))
    )
    return ParagraphHead(m.lastgroup if m else None, body_start, heading, standalone)


def head_of(para: Paragraph, role: HeadingRole | None) -> ParagraphHead:
    """`read_head` of a body paragraph given its role in a file that styles its headings."""
    return read_head(para.text, whole=role in (HeadingRole.SECTION, HeadingRole.SUBHEADING))


def is_top_heading(head: ParagraphHead, role: HeadingRole | None) -> bool:
    """A heading at the report's top level: styled as a section, or marked 一、 (unless styled below)."""
    return role is HeadingRole.SECTION or (head.marker_kind == "cn" and role is not HeadingRole.SUBHEADING)


def heading_section_kind(
    text: str,
    head: ParagraphHead,
    current: SectionKind | None,
    *,
    hint: SectionKind | None = None,
    role: HeadingRole | None = None,
) -> SectionKind | None:
    """The section a heading paragraph opens, given the kind of the one open; None if the
    paragraph is no section heading. `hint` is what the paragraphs under a top-level heading
    with no section wording report (`learned_section_kinds`): it decides that heading's kind
    where the wording cannot, but never turns a heading after the problems back into work done.
    `role`: what the file's heading styles make the paragraph (None: it styles no sections);
    a styled section heading counts as top level like 一、, a styled sub-heading like （一）, and
    in a styled file a short unmarked line is no heading for its shortness."""
    top = is_top_heading(head, role)
    short_line = head.marker_kind is None and head.standalone and len(text) <= 40 and role is None
    kind = None
    if top or short_line:
        kind = classify_heading(head.heading, numbered_top=True)
    elif (head.marker_kind in ("pcn", "num") and head.standalone) or role is HeadingRole.SUBHEADING:
        # Reports that use （一） or 1. as their top level: only unambiguous wordings count,
        # and a sub-heading of the section already open (（二）执法力量不足) opens nothing.
        kind = classify_heading(head.heading, numbered_top=False)
        if kind is current:
            kind = None
        if _RECTIFIED.search(head.heading):
            kind = SectionKind.ACHIEVEMENTS  # 「上年度问题整改情况」 reports work done
    if kind is None and top:
        if hint is not None and hint is not current:
            kind = hint
        elif current not in _LATE_KINDS:
            kind = SectionKind.ACHIEVEMENTS  # a top-level heading before the problems: work done
    if kind is SectionKind.CAUSES and current is None:
        kind = SectionKind.PROBLEMS  # causes with no problems before them state the problems
    return kind


_HINT_KINDS = {
    ACHIEVEMENT: SectionKind.ACHIEVEMENTS,
    PROBLEM: SectionKind.PROBLEMS,
    PLAN: SectionKind.PLANS,
}


#: How much of a section's opening text the classifier reads: enough to tell its kind, and
#: little enough that a report of many unnamed headings stays cheap.
_HINT_CHARS = 400


def learned_section_kinds(
    body: list[Paragraph], styled: StyledHeadings | None = None
) -> dict[int, SectionKind]:
    """For each top-level heading line (一、) whose wording names no section (「一、回顾」, a bare
    「二、」), the section its text reports by the learned paragraph classifier, read from the
    opening of the paragraphs up to the next top-level heading. Keyed by the heading's start
    offset; a heading the model is unsure of is left out (the wording rules decide). A heading
    run into its own sentence is a point of the section open, never asked about."""
    styled = styled or StyledHeadings()
    roles = [styled.role(para) for para in body]
    heads = [head_of(para, role) for para, role in zip(body, roles, strict=True)]
    tops = [is_top_heading(head, role) for head, role in zip(heads, roles, strict=True)]
    unnamed = [
        i
        for i, head in enumerate(heads)
        if tops[i] and head.standalone and classify_heading(head.heading, numbered_top=True) is None
    ]
    model = load_kind_model() if unnamed else None
    if model is None:
        return {}
    hints: dict[int, SectionKind] = {}
    for i in unnamed:
        texts: list[str] = []
        budget = _HINT_CHARS
        for para, later_top in zip(body[i + 1 :], tops[i + 1 :], strict=True):
            if later_top or budget <= 0:
                break
            texts.append(para.text[:budget])
            budget -= len(texts[-1])
        kind = model.section_kind(texts)
        if kind is not None:
            hints[body[i].start] = _HINT_KINDS[kind]
    return hints


def open_at_plans_heading_inside(outline: Outline, para: Paragraph, head: ParagraphHead) -> bool:
    """A plans heading run into the end of a paragraph ("…！下半年工作计划：") opens the plans."""
    if outline.current_kind is SectionKind.PLANS:
        return False
    cut = plans_heading_inside(para.text)
    if cut is None:
        return False
    h_start, h_end, body = cut
    heading = para.text[h_start:h_end].rstrip("：:")
    outline.open(SectionKind.PLANS, heading, _span(para, h_start, h_end), _slice_from(para, body))
    return True


def open_at_plans_intro(outline: Outline, para: Paragraph, head: ParagraphHead) -> bool:
    """「2025年，我局将…重点做好以下工作：」 after work done or problems opens the plans."""
    intro = _PLANS_INTRO.match(para.text) if has_colon(para.text) else None  # it ends on one
    if intro is None or outline.current_kind not in (SectionKind.PROBLEMS, SectionKind.ACHIEVEMENTS):
        return False
    body = _slice_from(para, _skip_punct(para.text, intro.end()))
    outline.open(SectionKind.PLANS, intro.group(0).rstrip("：:"), _span(para, 0, intro.end()), body)
    return True


def open_at_run_in_label(outline: Outline, para: Paragraph, head: ParagraphHead) -> bool:
    """A problems or plans label run into its paragraph (「下一步打算：一是…」) opens that
    section; a problems label only when points follow it."""
    label = _RUN_IN_LABEL.match(para.text) if has_colon(para.text) else None
    kind = classify_heading(label.group(1)) if label else None
    if label is None or kind is None or kind not in (SectionKind.PROBLEMS, SectionKind.PLANS):
        return False
    if _SHORTFALL_LINE.match(para.text) or outline.current_kind is kind:
        return False
    if kind is SectionKind.PROBLEMS and not _HAS_POINTS.search(para.text, label.end() - 1):
        return False
    body = _slice_from(para, _skip_punct(para.text, label.end()))
    outline.open(kind, label.group(1), _span(para, 0, label.end()), body)
    return True


def open_at_problems_passage(outline: Outline, para: Paragraph, head: ParagraphHead) -> bool:
    """A paragraph that opens on the problems without a heading (「…还存在一些短板弱项…主要是：」)
    starts an unheaded problems section, unless problems or plans are already open."""
    if outline.current_kind not in (None, SectionKind.ACHIEVEMENTS) or not has_colon(para.text):
        return False  # the passage's opening ends on a colon
    if not _PROBLEMS_RUN_IN.search(para.text):
        return False
    outline.open(SectionKind.PROBLEMS, "", None, _whole(para))
    return True


def split_off_shortfall(outline: Outline, para: Paragraph, head: ParagraphHead) -> bool:
    """A shortfall inside reported work (「存在不足：…」, or a 第一责任人 duty not fully met) is
    a problem of its own; the work section then goes on."""
    current = outline.current
    if current is None or current.kind is not SectionKind.ACHIEVEMENTS:
        return False
    duty_shortfall = (
        "第一责任人" in current.heading and _SHORTFALL_SENTENCE.search(para.text) and current.slices
    )
    if not (_SHORTFALL_LINE.match(para.text) or duty_shortfall):
        return False
    # Its context is the enclosing section (e.g. the 第一责任人 duty it falls short of).
    outline.open(SectionKind.PROBLEMS, current.heading, None, _whole(para))
    outline.open(current.kind, current.heading, current.heading_span)
    return True


def open_causes(outline: Outline, para: Paragraph, head: ParagraphHead) -> bool:
    """Inside the problems, a causes heading (产生问题的原因) opens the causes block, and so
    does a paragraph opening on its causes (究其原因，…) right after problems stated only as
    heading lines (those stay items of their own); a bare 「原因：…」 right after a problem's
    text explains that problem and continues its point."""
    current = outline.current
    if current is None or current.kind is not SectionKind.PROBLEMS:
        return False
    if current.slices and is_bare_heading(current.slices[-1].text) and CAUSE_IN_POINT.match(para.text):
        outline.open(SectionKind.CAUSES, "", None, _whole(para))
        return True
    if not CAUSES_HEADING.match(head.heading.rstrip("：:")):
        return False
    if not head.standalone and current.slices and not _CAUSE_BLOCK_WORDS.search(head.heading):
        current.slices.append(_whole(para))
        return True
    body = _slice_from(para, _skip_punct(para.text, len(head.heading)))
    outline.open(SectionKind.CAUSES, head.heading, _span(para, 0, len(head.heading)), body)
    return True


# Tried in this order on a paragraph that is no heading; the first that applies places it.
_SECTIONS_OPENED_INSIDE = (
    open_at_plans_heading_inside,
    open_at_plans_intro,
    open_at_run_in_label,
    open_at_problems_passage,
    split_off_shortfall,
    open_causes,
)


def reported_work_before_headings(outline: Outline) -> DraftSection | None:
    """Unheaded reports: with no achievements section, the paragraphs before the first
    problems/plans heading are the reported work, once the title and introduction are set
    aside. None when there is an achievements section or no such work."""
    preamble = outline.preamble
    if any(s.kind is SectionKind.ACHIEVEMENTS for s in outline.sections) or len(preamble) <= 1:
        return None
    body = [c for c in preamble[1:] if not INTRODUCTION.search(c.text) and len(c.text) > 40]
    if len(body) > 1 and not re.search(r"(报告|总结)$", preamble[0].text):
        body = body[1:] if YEAR.match(body[0].text) or "现将" in body[0].text else body
    return DraftSection(SectionKind.ACHIEVEMENTS, "", None, body) if body else None


def without_profiles(sections: list[DraftSection]) -> list[DraftSection]:
    """An issuer profile (基本情况) headed like work done is dropped once another heading
    names reported work."""
    named_work = any(
        s.kind is SectionKind.ACHIEVEMENTS and classify_heading(s.heading) is SectionKind.ACHIEVEMENTS
        for s in sections
    )
    if not named_work:
        return sections
    return [s for s in sections if not (s.kind is SectionKind.ACHIEVEMENTS and _PROFILE.match(s.heading))]


def is_bare_heading(text: str) -> bool:
    """A heading line with no text of its own: 「（三）基层法治力量薄弱」, no sentence after it."""
    head = read_head(text)
    return head.standalone and not any(c in "。；;！!？?" for c in text)


def _whole(para: Paragraph) -> ParagraphSlice:
    return ParagraphSlice(para, 0, len(para.text))


def _slice_from(para: Paragraph, start: int) -> ParagraphSlice | None:
    return ParagraphSlice(para, start, len(para.text)) if start < len(para.text) else None


def _skip_punct(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in "。:：;；,，.、 \t":
        pos += 1
    return pos


def _span(para: Paragraph, a: int, b: int) -> Span:
    start, end = para.span_of(a, b)
    return Span(start=start, end=end)
