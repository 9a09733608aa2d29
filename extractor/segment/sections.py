"""Segmentation: find the achievements, problems and plans sections and their leaf points.

Entry: `segment_report(doc) -> SegmentedReport`. Works on logical paragraphs (see
`paragraphs`), so PDF line breaks, page footers and web chrome do not matter, and reports
every point as a span of the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractor.core.document import SourceDocument
from extractor.core.schema import Span
from extractor.segment.enumeration import (
    Chunk,
    LeafPiece,
    find_tokens,
    leaf_pieces,
    marker_at_start,
    title_of,
)
from extractor.segment.model import Point, Section, SectionKind, SegmentedReport
from extractor.segment.paragraphs import DATE_LINE, Paragraph, split_paragraphs

_ACHIEVEMENT_WORDS = (
    r"(成效|成绩|完成情况|开展情况|推进情况|落实情况|主要做法|工作情况|进展|取得|主要举措|履行.{0,24}职责)"
)
# A profile of the issuer (基本情况, 概况) is not reported work when a later heading names it.
_PROFILE = re.compile(r"^(单位|机构|部门|工作)?(基本情况|基本概况|概况)$")
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
_RECTIFIED = re.compile(r"整改(落实|完成)?情况")
_CAUSES = re.compile(
    r"^(产生|存在|出现|造成)?(上述|以上|这些)?(问题|不足)?(的)?(主要)?原因(分析)?(如下|主要(是|有))?$"
)
# A problems passage that opens inside a paragraph: "…还存在一些短板弱项…主要是：一是…"
_PROBLEMS_RUN_IN = re.compile(
    r"(存在|面临|仍有|还有)[^。]{0,30}(不足|问题|短板|弱项|困难|差距)[^。]{0,30}[。：:]?\s*(主要(是|有|表现(在|为))|具体(表现)?(为|如下|是)|表现(在|为)|如下)?[：:]"
)
_PLANS_RUN_IN = re.compile(
    r"(工作计划|工作安排|工作打算|工作思路|工作重点|计划如下|打算如下|安排如下)[：:]\s*"
)
_SHORTFALL_SENTENCE = re.compile(r"存在[^。]{0,60}(不足|差距)|不足之处")
_SHORTFALL_LINE = re.compile(r"^(存在的?)?(不足之处|存在不足|存在问题|不足|问题)[：:]")
_CAUSE_IN_POINT = re.compile(
    r"(原因分析|究其原因|主要原因|问题原因|其原因|原因(主要)?(是|在于|有)|产生(这些|上述|以上|该)?(问题|不足)?的(主要)?原因"
    r"|(?<![\u4e00-\u9fff])原因[:：]|究其根源|根源在于|究其根本"
    r"|(造成|产生|导致|出现)(这一|这些|上述|该|此类)?(问题|现象|情况)的(主要)?原因"
    r"|(?<=[。；;])这(既|也)?(是|有)[^。]{0,60}(主观|客观|深层次|重要)(原因|因素)"
    r"|(?<=[。；;])(这|其|究其)(主要)?(是)?由于|(?<=[。；;])之所以"
    r"|(剖析|分析|查找|深究|追溯)(其)?原因[，,]|从根(源|本)上(看|讲)[，,])"
)
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
_CONNECTIVE = re.compile(r"(同时|此外|另外|与此同时|并且|而且)[，,]")
_ANNOTATION = re.compile(r"(整改措施|整改方向|整改举措|整改情况|改进措施|下步措施)[:：]")
_CLOSING = re.compile(r"(我们将|我局将|我们要|我局要|我们会|全局上下将|我县将|我区将)|^(总之|总而言之|今后)")
_TRAILING_REMARK = re.compile(r"(对此|为此|总之|总的来看|今后)[^。]*[。!！]?$")
_ORG_LINE = re.compile(
    r"^[\u4e00-\u9fff()（）\s、]{2,40}(局|政府|委员会|委|办公室|院|中心|所|乡|镇|街道|公司|部|厅|处)$"
)
_INTRO = re.compile(
    r"(现将|如下|以下|主要表现在|主要体现在)[^。]{0,10}[:：。]?$|[:：]$"
    r"|^(在(肯定|看到|总结)(成绩|成效)的同时|[^。]{0,20}清醒(地|的)?(看到|认识到))"
    r"|^(一年来|半年来|总的来看|总体来看|虽然|尽管)[^。]*(但|仍|还)"
    r"|^[^。]{0,40}(存在|仍有|还有)(着)?(一些|不少|一定的?)[^。]{0,16}(不足|问题|短板|差距|薄弱环节|困难)[^。]{0,8}。?$"
)
# End matter of an official document (版记): copies-to and printing lines, attachments.
_END_MATTER = re.compile(
    r"^(抄送|主送|抄报)[:：]|印发$|^附\s*件\s*([:：\d一二三四五六七八九]|$)|^[(（]此件[^)）]{0,8}[)）]$"
    r"|^特此报告|^[(（]?联系人|联系电话[:：]"
)
_YEAR = re.compile(r"(20\d{2})\s*年")
_TITLE_LINE = re.compile(r"^关于.*(报告|总结)$|(情况|工作)?(报告|总结)$")


@dataclass
class _OpenSection:
    kind: SectionKind
    heading: str
    heading_span: Span | None
    chunks: list[Chunk] = field(default_factory=list)


def classify_heading(title: str, *, numbered_top: bool = True) -> SectionKind | None:
    """Which section a heading opens, by its wording; None if it names no section."""
    title = title.strip().rstrip(":：").strip("【】[]〔〕 ")
    if not title or len(title) > 60:
        return None
    if _CAUSES.match(title):
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


def _is_signature(text: str) -> bool:
    return bool(DATE_LINE.match(text) or (_ORG_LINE.match(text) and len(text) <= 40))


def _span(para: Paragraph, a: int, b: int) -> Span:
    start, end = para.span_of(a, b)
    return Span(start=start, end=end)


def segment_report(doc: SourceDocument) -> SegmentedReport:
    """Sections and their leaf points. Sections come in document order; a report may have
    several achievements sections (each top-level heading of reported work is one)."""
    paragraphs = split_paragraphs(doc.text)
    # End matter (附件, 抄送, …印发) closes the body; the signature sits just before it.
    end = next(
        (i for i, p in enumerate(paragraphs) if i > len(paragraphs) // 2 and _END_MATTER.search(p.text)),
        len(paragraphs),
    )
    paragraphs = _without_contents(paragraphs)
    head_lines = [p.text for p in paragraphs[:8]]
    tail_lines = [p.text for p in paragraphs[-4:]]  # end matter included: it may follow the signature
    paragraphs = paragraphs[:end]
    while paragraphs and _is_signature(paragraphs[-1].text):
        paragraphs.pop()
    opened: list[_OpenSection] = []
    preamble: list[Chunk] = []
    current: _OpenSection | None = None
    title = paragraphs[0].text if paragraphs else ""

    def open_section(kind: SectionKind, heading: str, span: Span | None) -> _OpenSection:
        section = _OpenSection(kind, heading, span)
        opened.append(section)
        return section

    for para in paragraphs:
        text = para.text
        if current is None and _TITLE_LINE.search(text) and len(text) <= 80:
            preamble.append(Chunk(para, 0, len(text)))  # the report's title, never a heading
            continue
        m = marker_at_start(text)
        marker_kind = m.lastgroup if m else None
        body_start = m.end() if m else 0
        heading, standalone = title_of(text[body_start:])
        is_top = marker_kind == "cn" or (m is None and standalone and len(text) <= 40)
        kind = None
        if is_top:
            kind = classify_heading(heading, numbered_top=True)
        elif marker_kind in ("pcn", "num") and standalone:
            # Reports that use （一） or 1. as their top level: only unambiguous wordings count,
            # and a sub-heading of the section already open (（二）执法力量不足) opens nothing.
            kind = classify_heading(heading, numbered_top=False)
            if current is not None and kind is current.kind:
                kind = None
            if _RECTIFIED.search(heading):
                kind = SectionKind.ACHIEVEMENTS  # 「上年度问题整改情况」 reports work done
        in_late = current is not None and current.kind in (
            SectionKind.PROBLEMS,
            SectionKind.PLANS,
            SectionKind.CAUSES,
        )
        if kind is not None or (marker_kind == "cn" and not in_late):
            if kind is None:
                kind = SectionKind.ACHIEVEMENTS
            if kind is SectionKind.CAUSES and (current is None or current.kind is not SectionKind.PROBLEMS):
                kind = SectionKind.CAUSES if current else SectionKind.PROBLEMS
            head_end = body_start + len(heading)
            current = open_section(kind, heading, _span(para, 0, head_end))
            rest = _skip_punct(text, head_end)
            if not standalone and rest < len(text):
                current.chunks.append(Chunk(para, rest, len(text)))
            continue
        plan_cut = (
            _plans_heading_inside(text)
            if (current is None or current.kind is not SectionKind.PLANS)
            else None
        )
        if plan_cut is not None:
            h_start, h_end, body = plan_cut
            current = open_section(
                SectionKind.PLANS, text[h_start:h_end].rstrip("：:"), _span(para, h_start, h_end)
            )
            if body < len(text):
                current.chunks.append(Chunk(para, body, len(text)))
            continue
        intro = _PLANS_INTRO.match(text)
        if intro and current is not None and current.kind in (SectionKind.PROBLEMS, SectionKind.ACHIEVEMENTS):
            current = open_section(
                SectionKind.PLANS, intro.group(0).rstrip("：:"), _span(para, 0, intro.end())
            )
            if _skip_punct(text, intro.end()) < len(text):
                current.chunks.append(Chunk(para, _skip_punct(text, intro.end()), len(text)))
            continue
        label = _RUN_IN_LABEL.match(text)
        label_kind = classify_heading(label.group(1)) if label else None
        if (
            label
            and label_kind in (SectionKind.PROBLEMS, SectionKind.PLANS)
            and not _SHORTFALL_LINE.match(text)
            and (current is None or current.kind is not label_kind)
            and (label_kind is SectionKind.PLANS or _HAS_POINTS.search(text, label.end() - 1))
        ):
            current = open_section(label_kind, label.group(1), _span(para, 0, label.end()))
            rest = _skip_punct(text, label.end())
            if rest < len(text):
                current.chunks.append(Chunk(para, rest, len(text)))
            continue
        if (current is None or current.kind is SectionKind.ACHIEVEMENTS) and _PROBLEMS_RUN_IN.search(text):
            current = open_section(SectionKind.PROBLEMS, "", None)
            current.chunks.append(Chunk(para, 0, len(text)))
            continue
        if (
            current is not None
            and current.kind is SectionKind.ACHIEVEMENTS
            and (
                _SHORTFALL_LINE.match(text)
                or ("第一责任人" in current.heading and _SHORTFALL_SENTENCE.search(text) and current.chunks)
            )
        ):
            previous = current
            # Its context is the enclosing section (e.g. the 第一责任人 duty it falls short of).
            shortfall = open_section(SectionKind.PROBLEMS, previous.heading, None)
            shortfall.chunks.append(Chunk(para, 0, len(text)))
            current = open_section(previous.kind, previous.heading, previous.heading_span)
            continue
        if (
            current is not None
            and current.kind is SectionKind.PROBLEMS
            and _CAUSES.match(heading.rstrip("：:"))
        ):
            if not standalone and current.chunks and not _CAUSE_BLOCK_WORDS.search(heading):
                # 「原因：…」 right after a problem explains that problem: it continues its point.
                current.chunks.append(Chunk(para, 0, len(text)))
                continue
            current = open_section(SectionKind.CAUSES, heading, _span(para, 0, len(heading)))
            rest = _skip_punct(text, len(heading))
            if rest < len(text):
                current.chunks.append(Chunk(para, rest, len(text)))
            continue
        if current is None:
            if m is not None and marker_kind in ("pcn", "num"):
                current = open_section(SectionKind.ACHIEVEMENTS, "", None)
                current.chunks.append(Chunk(para, 0, len(text)))
            else:
                preamble.append(Chunk(para, 0, len(text)))
            continue
        current.chunks.append(Chunk(para, 0, len(text)))

    if not any(s.kind is SectionKind.ACHIEVEMENTS for s in opened) and len(preamble) > 1:
        # Unheaded reports: the paragraphs before the first problems/plans heading are the
        # reported work, once the title and introduction are set aside.
        body = [c for c in preamble[1:] if not _INTRO.search(c.text) and len(c.text) > 40]
        if len(body) > 1 and not re.search(r"(报告|总结)$", preamble[0].text):
            body = body[1:] if _YEAR.match(body[0].text) or "现将" in body[0].text else body
        if body:
            section = _OpenSection(SectionKind.ACHIEVEMENTS, "", None, body)
            opened.insert(0, section)

    named_work = any(
        s.kind is SectionKind.ACHIEVEMENTS and classify_heading(s.heading) is SectionKind.ACHIEVEMENTS
        for s in opened
    )
    if named_work:
        opened = [s for s in opened if not (s.kind is SectionKind.ACHIEVEMENTS and _PROFILE.match(s.heading))]
    sections = [s for s in (_close(s, doc.text) for s in opened if s.chunks) if s is not None]
    return SegmentedReport(
        doc_id=doc.doc_id, sections=sections, title=title, head_lines=head_lines, tail_lines=tail_lines
    )


def _without_contents(paragraphs: list[Paragraph]) -> list[Paragraph]:
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


def _skip_punct(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in "。:：;；,，.、 \t":
        pos += 1
    return pos


def _plans_heading_inside(text: str) -> tuple[int, int, int] | None:
    """A plans heading run into the end of a paragraph ("…！下半年工作计划：")."""
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


def _close(section: _OpenSection, source: str) -> Section | None:
    chunks = section.chunks
    causes: list[tuple[int, int]] = []
    if section.kind is SectionKind.PROBLEMS:
        for ci, c in enumerate(chunks):
            causes += [(ci, m.start()) for m in _CAUSE_IN_POINT.finditer(c.para.text, c.start, c.end)]
    tokens = find_tokens(chunks, causes=causes)
    if tokens:
        first = tokens[0]
        chunks_before = first.chunk
        if chunks_before:
            # Unnumbered paragraphs before the first marker introduce the section.
            chunks = chunks[chunks_before:]
            for t in tokens:
                t.chunk -= chunks_before
    elif len(chunks) > 1 and _INTRO.search(chunks[0].text):
        chunks = chunks[1:]
    continues = _is_cause_paragraph if section.kind is SectionKind.PROBLEMS else _continues_point
    pieces = leaf_pieces(
        chunks, tokens, context=[section.heading] if section.heading else [], continues=continues
    )
    pieces = _drop_closing(pieces, chunks, section)
    # 「整改措施：…」 after a problem annotates it: not an item of its own, not its evidence.
    pieces = [p for p in pieces if p.marker is not None or not _ANNOTATION.match(_piece_text(p, chunks))]
    points = [p for p in (_point(piece, chunks, section.kind) for piece in pieces) if p is not None]
    if not points:
        return None
    body_start = chunks[0].para.span_of(chunks[0].start, chunks[0].start + 1)[0]
    body_end = chunks[-1].para.span_of(chunks[-1].end - 1, chunks[-1].end)[1]
    year_text = section.heading + (chunks[0].text[:60] if chunks else "")
    year = _YEAR.search(section.heading) or (_YEAR.match(chunks[0].text) if chunks else None)
    del year_text
    return Section(
        kind=section.kind,
        heading=section.heading,
        heading_span=section.heading_span,
        span=Span(start=body_start, end=max(body_start, body_end)),
        points=points,
        year=int(year.group(1)) if year else None,
    )


def _is_cause_paragraph(chunk: Chunk) -> bool:
    cause = _CAUSE_IN_POINT.match(chunk.para.text, chunk.start)
    return cause is not None or _continues_point(chunk)


def _continues_point(chunk: Chunk) -> bool:
    """A paragraph opening with a connective (同时，…) goes on with the point before it."""
    return _CONNECTIVE.match(chunk.para.text, chunk.start) is not None


def _drop_closing(pieces: list[LeafPiece], chunks: list[Chunk], section: _OpenSection) -> list[LeafPiece]:
    """Closing remarks (我们将…认真完成…) after the last point are not items."""
    while len(pieces) > 1:
        last = pieces[-1]
        text = _piece_text(last, chunks)
        same_heading = pieces[-2].context == last.context
        if (
            same_heading
            and last.marker is None
            and len(text) <= 160
            and _CLOSING.search(text)
            and last.chunk == last.end_chunk
        ):
            pieces.pop()
            continue
        break
    return pieces


def _piece_text(piece: LeafPiece, chunks: list[Chunk]) -> str:
    if piece.chunk == piece.end_chunk:
        return chunks[piece.chunk].para.text[piece.pos : piece.end_pos]
    parts = [chunks[piece.chunk].para.text[piece.pos : chunks[piece.chunk].end]]
    parts += [chunks[ci].text for ci in range(piece.chunk + 1, piece.end_chunk)]
    parts.append(chunks[piece.end_chunk].para.text[chunks[piece.end_chunk].start : piece.end_pos])
    return "".join(parts)


def _cause_start(piece: LeafPiece, chunks: list[Chunk], a: int, b: int) -> tuple[int, int] | None:
    """(chunk, position) where the point's cause begins (原因分析：, 究其原因, 原因：…), if any."""
    for ci in range(piece.chunk, piece.end_chunk + 1):
        chunk = chunks[ci]
        start = a if ci == piece.chunk else chunk.start
        stop = b if ci == piece.end_chunk else chunk.end
        cause = _CAUSE_IN_POINT.search(chunk.para.text, start, stop)
        if cause and (ci > piece.chunk or cause.start() > start + 4):
            return ci, cause.start()
    return None


def _point(piece: LeafPiece, chunks: list[Chunk], kind: SectionKind) -> Point | None:
    first, last = chunks[piece.chunk], chunks[piece.end_chunk]
    start_para, end_para = first.para, last.para
    a, b = piece.pos, piece.end_pos
    # Trim trailing whitespace/ separators inside the last paragraph.
    while b > a and end_para.text[b - 1] in " \t,，;；、" and (start_para is not end_para or b - 1 > a):
        b -= 1
    if start_para is end_para and b <= a:
        return None
    cause_span = None
    if kind is SectionKind.PROBLEMS:
        cut = _cause_start(piece, chunks, a, b)
        if cut is not None:
            ci, pos = cut
            cause_para = chunks[ci].para
            cause_span = Span(
                start=cause_para.span_of(pos, pos + 1)[0],
                end=end_para.span_of(b - 1, b)[1],
            )
            if pos > chunks[ci].start or ci == piece.chunk:
                end_para, b = cause_para, pos
            else:  # the cause is a paragraph of its own: the problem ends with the one before
                end_para, b = chunks[ci - 1].para, chunks[ci - 1].end
            lower = a if end_para is start_para else 0
            while b > lower and end_para.text[b - 1] in " \t,，;；:：":
                b -= 1
    if start_para is end_para:
        remark = _TRAILING_REMARK.search(start_para.text, a, b)
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
