"""What each model call sees: a section (or part of one) with its points marked [Pn]…[/Pn].

One call per section the segmenter found; a section longer than `max_chars` is split at
point boundaries (preferring a change of sub-heading), never inside a point. Text between
points (sub-headings, introductions) travels with the point after it, so every character of
the section is shown exactly once. A report with no sections is cut into paragraph-aligned
chunks for free extraction with quotes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from extractor.check.align import SourceIndex
from extractor.core.schema import ListName, Span
from extractor.extract.llm.candidates import MetricCandidate, metric_candidates
from extractor.extract.llm.grounding import GroundingContext, Passage
from extractor.segment.model import Point, Section, SectionKind, SegmentedReport


@dataclass(frozen=True, slots=True)
class Chunk:
    """The text of one model call and what its answer is checked against."""

    list_name: ListName | None  # None: free mode (no sections found)
    heading: str
    bounds: Span
    passages: tuple[Passage, ...]
    rendered: str
    part: int
    parts: int
    causes_text: str = ""
    candidates: tuple[MetricCandidate, ...] = ()  # metric candidates (achievements chunks)

    @property
    def label(self) -> str:
        kind = self.list_name.value if self.list_name else "free"
        return f"{kind} {self.part}/{self.parts}: {self.heading}"[:200]

    def grounding(self, index: SourceIndex) -> GroundingContext:
        """What the answer is checked against: the document's index, limited to this chunk."""
        return GroundingContext(
            index=index,
            bounds=self.bounds,
            passages={p.number: p for p in self.passages},
            list_name=self.list_name,
            causes_text=self.causes_text,
            candidates={c.id: c for c in self.candidates},
        )


def render_with_markers(text: str, bounds: Span, points: list[Point]) -> tuple[str, tuple[Passage, ...]]:
    """`text[bounds]` with each point wrapped as [Pn]…[/Pn] (numbered from 1 in this chunk).

    Points overlapping an earlier point are left unmarked (their text is still shown).
    """
    pieces: list[str] = []
    passages: list[Passage] = []
    pos = bounds.start
    for point in sorted(points, key=lambda p: p.span.start):
        start, end = max(point.span.start, bounds.start), min(point.span.end, bounds.end)
        if start < pos or end <= start:
            continue
        number = len(passages) + 1
        pieces += [text[pos:start], f"[P{number}]", text[start:end], f"[/P{number}]"]
        passages.append(Passage(number=number, span=Span(start=start, end=end), text=text[start:end]))
        pos = end
    pieces.append(text[pos : bounds.end])
    return "".join(pieces).strip(), tuple(passages)


def _cut_points(section: Section, points: list[Point], max_chars: int) -> list[int]:
    """Offsets where `section` is cut so that each piece stays under `max_chars` if it can.

    Cuts sit only at the end of a point, so the section is a run of segments, each holding
    one point and the text before it. Segments are packed greedily; when a piece overflows,
    the cut goes at the last change of enclosing heading if that keeps the piece at least a
    third full, else right before the overflowing segment. A single oversized point stays whole.
    """
    edges = [section.span.start]
    for point in points[:-1]:
        edges.append(min(max(point.span.end, edges[-1]), section.span.end))
    edges.append(section.span.end)
    new_heading = [k > 0 and points[k].context != points[k - 1].context for k in range(len(points))]
    cuts: list[int] = []
    start = 0  # index of the first segment of the current piece
    for k in range(1, len(points)):
        while k > start and edges[k + 1] - edges[start] > max_chars:
            preferred = [
                j
                for j in range(start + 1, k + 1)
                if new_heading[j] and edges[j] - edges[start] >= max_chars / 3
            ]
            start = preferred[-1] if preferred else k
            cuts.append(edges[start])
    return cuts


def _greedy_cuts(breaks: list[int], bounds: Span, max_chars: int) -> list[int]:
    """Cuts chosen among `breaks` (sorted offsets) so pieces stay under `max_chars` if they can."""
    cuts: list[int] = []
    piece_start, last_break = bounds.start, None
    for brk in [*breaks, bounds.end]:
        if brk - piece_start > max_chars and last_break is not None:
            cuts.append(last_break)
            piece_start = last_break
        last_break = brk if brk < bounds.end else None
    return cuts


def _text_cuts(text: str, bounds: Span, max_chars: int) -> list[int]:
    """Cuts at line ends; a piece still too long (one huge line) is cut at sentence ends (。)."""

    def breaks(mark: str, inside: Span) -> list[int]:
        out, pos = [], text.find(mark, inside.start, inside.end)
        while pos >= 0:
            if pos + 1 < inside.end:
                out.append(pos + 1)
            pos = text.find(mark, pos + 1, inside.end)
        return out

    cuts = _greedy_cuts(breaks("\n", bounds), bounds, max_chars)
    finer: list[int] = []
    for piece in _pieces(bounds, cuts):
        if piece.end - piece.start > max_chars:
            finer += _greedy_cuts(breaks("。", piece), piece, max_chars)
    return sorted(cuts + finer)


def _pieces(bounds: Span, cuts: list[int]) -> list[Span]:
    edges = [bounds.start, *[c for c in cuts if bounds.start < c < bounds.end], bounds.end]
    return [Span(start=a, end=b) for a, b in itertools.pairwise(edges) if b > a]


def section_chunks(text: str, segmented: SegmentedReport, *, max_chars: int) -> list[Chunk]:
    """One or more chunks per achievements / problems / plans section, in report order.

    Causes sections are not items: their text is attached to the chunks of the problems
    section they follow, so the model can fill `cause`.
    """
    chunks: list[Chunk] = []
    for section_index, section in enumerate(segmented.sections):
        list_name = section.list_name
        if list_name is None:
            continue
        points = sorted(section.points, key=lambda p: p.span.start)
        if section.span.end - section.span.start <= max_chars:
            cuts: list[int] = []
        elif points:
            cuts = _cut_points(section, points, max_chars)
        else:
            cuts = _text_cuts(text, section.span, max_chars)
        pieces = _pieces(section.span, cuts)
        for number, piece in enumerate(pieces, start=1):
            inside = [p for p in points if piece.start <= p.span.start < piece.end]
            rendered, passages = render_with_markers(text, piece, inside)
            chunks.append(
                Chunk(
                    list_name=list_name,
                    heading=section.heading.strip(),
                    bounds=piece,
                    passages=passages,
                    rendered=rendered,
                    part=number,
                    parts=len(pieces),
                    causes_text=causes_of(text, segmented, section_index)
                    if list_name is ListName.PROBLEMS
                    else "",
                    candidates=metric_candidates(passages) if list_name is ListName.ACHIEVEMENTS else (),
                )
            )
    return chunks


def causes_of(text: str, segmented: SegmentedReport, number: int) -> str:
    """The separate cause blocks that explain the problems of section `number`: those after it
    and before the next problems section (and, for the first problems section, any written
    before it). A cause block answers the problems it follows; shown
    with every problems section (a 第一责任人 section's 不足 sentence too), a model gave its
    causes to the wrong one."""
    sections = segmented.sections
    problems = [i for i, section in enumerate(sections) if section.kind is SectionKind.PROBLEMS]
    position = problems.index(number)
    low = -1 if position == 0 else number  # the first problems section also takes blocks before it
    high = problems[position + 1] if position + 1 < len(problems) else len(sections)
    return "\n".join(
        text[section.span.start : section.span.end].strip()
        for i, section in enumerate(sections)
        if low < i < high and section.kind is SectionKind.CAUSES
    )


def free_chunks(text: str, *, max_chars: int) -> list[Chunk]:
    """Paragraph-aligned chunks of the whole text, for a report with no sections found."""
    bounds = Span(start=0, end=len(text))
    pieces = _pieces(bounds, _text_cuts(text, bounds, max_chars))
    return [
        Chunk(
            list_name=None,
            heading="",
            bounds=piece,
            passages=(),
            rendered=text[piece.start : piece.end].strip(),
            part=number,
            parts=len(pieces),
        )
        for number, piece in enumerate(pieces, start=1)
    ]
