"""Closing a section: its paragraph slices become leaf points (spans of the original text),
with a problem's cause (原因分析, 究其原因 …) split off into `cause_span`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from extractor.core.schema import Span
from extractor.segment.enumeration import LeafPiece, ParagraphSlice, Token, find_tokens, leaf_pieces
from extractor.segment.headings import INTRODUCTION, YEAR
from extractor.segment.model import Point, Section, SectionKind
from extractor.segment.paragraphs import Paragraph

# Every alternative opens with a character of its own (a lookbehind comes after it, looking
# back past it), so the engine skips to where one can start: a pattern opening with a
# lookbehind was tried in full at every position of every problems paragraph.
_CAUSE_ABOUT = r"(这一|这些|上述|该|此类)?(问题|现象|情况)的(主要)?原因"
_CAUSE_DUE = r"(主要)?(是)?由于"
CAUSE_IN_POINT = re.compile(
    r"(原因分析|究其原因|主要原因|问题原因|其原因|原因(主要)?(是|在于|有)|产生(这些|上述|以上|该)?(问题|不足)?的(主要)?原因"
    r"|原(?<![\u4e00-\u9fff]原)因[:：]|究其根源|根源在于|究其根本"
    rf"|造成{_CAUSE_ABOUT}|产生{_CAUSE_ABOUT}|导致{_CAUSE_ABOUT}|出现{_CAUSE_ABOUT}"
    r"|这(?<=[。；;]这)(既|也)?(是|有)[^。]{0,60}(主观|客观|深层次|重要)(原因|因素)"
    rf"|这(?<=[。；;]这){_CAUSE_DUE}|其(?<=[。；;]其){_CAUSE_DUE}|究(?<=[。；;]究)其{_CAUSE_DUE}|之(?<=[。；;]之)所以"
    r"|剖析(其)?原因[，,]|分析(其)?原因[，,]|查找(其)?原因[，,]|深究(其)?原因[，,]|追溯(其)?原因[，,]"
    r"|从根(源|本)上(看|讲)[，,])"
)
_CONNECTIVE = re.compile(r"(同时|此外|另外|与此同时|并且|而且)[，,]")
_ANNOTATION = re.compile(r"(整改措施|整改方向|整改举措|整改情况|改进措施|下步措施)[:：]")
_CLOSING = re.compile(r"(我们将|我局将|我们要|我局要|我们会|全局上下将|我县将|我区将)|^(总之|总而言之|今后)")
# A report's closing wrap-up: a look ahead (新的一年，我乡将…) ending on a slogan
# (…为…作出新的更大贡献。), told apart from a plan by both together.
_WRAP_UP_OPENER = re.compile(
    r"^(新的一年|新一年|在新的一年|新征程|新的征程|新时代|下一步|下阶段|今后|未来|展望[^，,。]{0,10}"
    r"|站在新的?起点上?|\d{4}年)[里中上]?[，,][^。]{0,40}?(将|要|会)"
)
_SLOGAN_END = re.compile(
    r"(为[^。]{2,80}?((作出|做出)[^。]{0,12}贡献|贡献[^。]{0,12}力量|提供[^。]{0,12}保障|保驾护航|而[^。]{0,6}(奋斗|努力))"
    r"|谱写[^。]{0,30}篇章|开创[^。]{0,20}新局面|交出[^。]{0,20}答卷)[。！!]?[”’」]?$"
)
_REMARK_WORDS = ("对此", "为此", "总之", "总的来看", "今后")
_TRAILING_REMARK = re.compile(f"({'|'.join(_REMARK_WORDS)})[^。]*[。!！]?$")


@dataclass
class DraftSection:
    """A section while the walk collects it: its kind, heading and the paragraph text under it."""

    kind: SectionKind
    heading: str
    heading_span: Span | None
    slices: list[ParagraphSlice] = field(default_factory=list)


def close_section(section: DraftSection, *, ends_report: bool = False) -> Section | None:
    """The section with its leaf points; None when none of its text makes a point.
    `ends_report`: the section is the report's last, so a wrap-up paragraph may close it."""
    slices = section.slices
    causes: list[tuple[int, int]] = []
    if section.kind is SectionKind.PROBLEMS:
        causes = [
            (ci, m.start())
            for ci, part in enumerate(slices)
            for m in CAUSE_IN_POINT.finditer(part.para.text, part.start, part.end)
        ]
    tokens = find_tokens(slices, causes=causes)
    slices = without_introduction(slices, tokens)
    continues = is_cause_paragraph if section.kind is SectionKind.PROBLEMS else continues_point
    pieces = leaf_pieces(
        slices, tokens, context=[section.heading] if section.heading else [], continues=continues
    )
    pieces = drop_closing_remarks(pieces, slices)
    if ends_report:
        pieces = drop_wrap_up(pieces, slices)
    # 「整改措施：…」 after a problem annotates it: not an item of its own, not its evidence.
    pieces = [p for p in pieces if p.marker is not None or not _ANNOTATION.match(piece_text(p, slices))]
    points = [p for p in (_point(piece, slices, section.kind) for piece in pieces) if p is not None]
    if not points:
        return None
    body_start = slices[0].para.span_of(slices[0].start, slices[0].start + 1)[0]
    body_end = slices[-1].para.span_of(slices[-1].end - 1, slices[-1].end)[1]
    year = YEAR.search(section.heading) or YEAR.match(slices[0].text)
    return Section(
        kind=section.kind,
        heading=section.heading,
        heading_span=section.heading_span,
        span=Span(start=body_start, end=max(body_start, body_end)),
        points=points,
        year=int(year.group(1)) if year else None,
    )


def without_introduction(slices: list[ParagraphSlice], tokens: list[Token]) -> list[ParagraphSlice]:
    """The slices without the section's introduction: the unnumbered paragraphs before its
    first marker, or (with no markers) a first paragraph worded as one. Shifts `tokens` to match."""
    if tokens:
        before = tokens[0].slice_index
        for token in tokens:
            token.slice_index -= before
        return slices[before:]
    if len(slices) > 1 and INTRODUCTION.search(slices[0].text):
        return slices[1:]
    return slices


def is_cause_paragraph(part: ParagraphSlice) -> bool:
    """A paragraph stating a cause (原因：…) or going on with a connective belongs to the problem before it."""
    cause = CAUSE_IN_POINT.match(part.para.text, part.start)
    return cause is not None or continues_point(part)


def continues_point(part: ParagraphSlice) -> bool:
    """A paragraph opening with a connective (同时，…) goes on with the point before it."""
    return _CONNECTIVE.match(part.para.text, part.start) is not None


def drop_closing_remarks(pieces: list[LeafPiece], slices: list[ParagraphSlice]) -> list[LeafPiece]:
    """Closing remarks (我们将…认真完成…) after the last point are not items."""
    while len(pieces) > 1:
        last = pieces[-1]
        text = piece_text(last, slices)
        same_heading = pieces[-2].context == last.context
        if (
            same_heading
            and last.marker is None
            and len(text) <= 160
            and _CLOSING.search(text)
            and last.slice_index == last.end_slice
        ):
            pieces.pop()
            continue
        break
    return pieces


def drop_wrap_up(pieces: list[LeafPiece], slices: list[ParagraphSlice]) -> list[LeafPiece]:
    """The report's closing wrap-up (「新的一年，我局将……，为……作出新的更大贡献。」) after
    the last point of its last section is not an item, whatever the section, nor part of the
    last item's evidence when that item runs over several paragraphs (a 「一是」 heading line)."""
    if not pieces:
        return pieces
    last = pieces[-1]
    closing = slices[last.end_slice]
    if not is_wrap_up(closing.para.text[closing.start : last.end_pos].strip()):
        return pieces
    if last.end_slice > last.slice_index:
        before = slices[last.end_slice - 1]
        return [*pieces[:-1], replace(last, end_slice=last.end_slice - 1, end_pos=before.end)]
    if len(pieces) > 1 and last.marker is None:
        return pieces[:-1]
    return pieces


def is_wrap_up(text: str) -> bool:
    """A paragraph that looks ahead (新的一年，…将) and ends on a slogan (…作出更大贡献。)."""
    return len(text) <= 200 and bool(_WRAP_UP_OPENER.match(text) and _SLOGAN_END.search(text))


def piece_text(piece: LeafPiece, slices: list[ParagraphSlice]) -> str:
    """The piece's text, its paragraphs joined."""
    if piece.slice_index == piece.end_slice:
        return slices[piece.slice_index].para.text[piece.pos : piece.end_pos]
    parts = [slices[piece.slice_index].para.text[piece.pos : slices[piece.slice_index].end]]
    parts += [slices[ci].text for ci in range(piece.slice_index + 1, piece.end_slice)]
    parts.append(slices[piece.end_slice].para.text[slices[piece.end_slice].start : piece.end_pos])
    return "".join(parts)


def trailing_remark(text: str, a: int, b: int) -> re.Match[str] | None:
    """`_TRAILING_REMARK.search(text, a, b)`, searched from the last full stop before the end:
    the remark runs to the end with no full stop inside (one may end it, or end it before a
    final line break, which `$` allows), so it never starts before that one, and the engine
    need not try every 为 and 对 of a long point."""
    start = max(a, text.rfind("。", a, b - 2) + 1)
    if not any(text.find(word, start, b) >= 0 for word in _REMARK_WORDS):
        return None  # the remark opens on one of its words
    return _TRAILING_REMARK.search(text, start, b)


def _cause_start(piece: LeafPiece, slices: list[ParagraphSlice], a: int, b: int) -> tuple[int, int] | None:
    """(slice, position) where the point's cause begins (原因分析：, 究其原因, 原因：…), if any."""
    for ci in range(piece.slice_index, piece.end_slice + 1):
        part = slices[ci]
        start = a if ci == piece.slice_index else part.start
        stop = b if ci == piece.end_slice else part.end
        cause = CAUSE_IN_POINT.search(part.para.text, start, stop)
        if cause and (ci > piece.slice_index or cause.start() > start + 4):
            return ci, cause.start()
    return None


def _point(piece: LeafPiece, slices: list[ParagraphSlice], kind: SectionKind) -> Point | None:
    first, last = slices[piece.slice_index], slices[piece.end_slice]
    start_para, end_para = first.para, last.para
    a, b = piece.pos, piece.end_pos
    # Trim trailing whitespace/ separators inside the last paragraph.
    while b > a and end_para.text[b - 1] in " \t,，;；、" and (start_para is not end_para or b - 1 > a):
        b -= 1
    if start_para is end_para and b <= a:
        return None
    cause_span = None
    if kind is SectionKind.PROBLEMS:
        cut = _cause_start(piece, slices, a, b)
        if cut is not None:
            cause_span = Span(
                start=slices[cut[0]].para.span_of(cut[1], cut[1] + 1)[0], end=end_para.span_of(b - 1, b)[1]
            )
            end_para, b = _problem_end_before_cause(piece, slices, cut, start_para, a)
    if start_para is end_para:
        remark = trailing_remark(start_para.text, a, b)
        if remark and remark.start() > a + 10 and start_para.text[remark.start() - 1] in "。;；!！":
            b = remark.start()
    start = start_para.span_of(a, a + 1)[0]
    end = end_para.span_of(b - 1, b)[1]
    if end <= start:
        return None
    return Point(
        span=Span(start=start, end=end),
        marker=piece.marker,
        lead=piece.lead or None,
        context=[c for c in piece.context if c],
        cause_span=cause_span,
    )


def _problem_end_before_cause(
    piece: LeafPiece, slices: list[ParagraphSlice], cut: tuple[int, int], start_para: Paragraph, a: int
) -> tuple[Paragraph, int]:
    """(paragraph, position) where the problem's own text ends, the cause at `cut` left out."""
    ci, pos = cut
    if pos > slices[ci].start or ci == piece.slice_index:
        end_para, b = slices[ci].para, pos
    else:  # the cause is a paragraph of its own: the problem ends with the one before
        end_para, b = slices[ci - 1].para, slices[ci - 1].end
    lower = a if end_para is start_para else 0
    while b > lower and end_para.text[b - 1] in " \t,，;；:：":
        b -= 1
    return end_para, b
