"""The offline rules backend: fills the whole record from the segmenter's points, no model.

Entry: `extract_with_rules(doc, segmented) -> Record`. Every evidence passage is a slice of
the original text at the point's span, so grounding is exact by construction.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any

from extractor.core.document import SourceDocument, normalised_view
from extractor.core.normalise import bigram_dice, matching_key
from extractor.core.schema import (
    Achievement,
    AlignmentStatus,
    Flag,
    FlagCode,
    ListName,
    Plan,
    Problem,
    Provenance,
    Record,
    Span,
)
from extractor.extract.meta import extract_meta
from extractor.extract.rules.areas import area_call, learned_model_enabled
from extractor.load.chrome import is_chrome_line
from extractor.numbers.metrics import MetricMatch, find_metrics
from extractor.segment import LEAD_END, Point, SectionKind, SegmentedReport, marker_at_start

BACKEND_NAME = "rules"
_CAUSE_LABEL = re.compile(r"^[^:：，,]{0,12}(原因分析|究其原因|主要原因|原因)[^:：，,]{0,4}[:：,，]\s*")
_TEXT_MAX = 40


#: How far before a point its heading (a lead outside the evidence) may stand.
_LEAD_WINDOW = 300


def _as_written(phrase: str, source: str, start: int, end: int) -> str:
    """`phrase` (read from normalised text) in the report's own characters: the slice of
    `source[start:end]` it matches (full-width commas stay full-width), else `phrase` itself."""
    if source.find(phrase, start, end) >= 0:  # phrase in source[start:end], without the copy
        return phrase
    # An exact match of the matching keys (align_quote's exact step, without its fuzzy
    # fallback, whose answer is not used). Normalising is per character, so the whole
    # text's view (made once per document, and read again by the grounding check) holds
    # the window's normalised text between the first positions at or after its ends.
    key = matching_key(phrase)
    if not key:
        return phrase
    view = normalised_view(source, drop_whitespace=True)
    pos = view.text.find(key, bisect_left(view.origin, start), bisect_left(view.origin, end))
    if pos < 0:
        return phrase
    found_start, found_end = view.to_original(pos, pos + len(key))
    return source[found_start:found_end]


def summary_text(evidence: str, lead: str | None = None) -> str:
    """The point's own heading phrase (`lead`, as written in `evidence`), else its first
    clause, without the marker, in the report's own characters."""
    if lead:
        text = lead
    else:
        m = marker_at_start(evidence)
        body = evidence[m.end() :] if m else evidence
        end = LEAD_END.search(body)
        text = body[: end.start()] if end else body
        if len(text) > _TEXT_MAX:
            comma = re.search(r"[，,]", text)
            text = text[: comma.start()] if comma and comma.start() >= 6 else text[:_TEXT_MAX]
    m = marker_at_start(text)
    if m:
        text = text[m.end() :]
    return text.strip(" 。；;：:，,")


_LINE = re.compile(r"[^\n]*")
_WRAP = re.compile(r"(?<=[^。！？!?；;：:\n])\n(?=[^\n])")


def metric_text(text: str) -> str:
    """`text` with page footers and chrome lines blanked and mid-sentence line breaks turned
    into spaces, same length, so a number split by a PDF page (`10\n— 4 —\n0%`) or a wrap
    (`均\n达100%`) reads whole while offsets stay valid."""
    if "\n" not in text:
        return text
    return _WRAP.sub(" ", _without_chrome(text))


def _without_chrome(text: str) -> str:
    def blank(m: re.Match[str]) -> str:
        line = m.group(0)
        return " " * len(line) if line.strip() and is_chrome_line(line.strip()) else line

    return _LINE.sub(blank, text) if "\n" in text else text


def _metrics(source: str, span: Span) -> list[MetricMatch]:
    raw = source[span.start : span.end]
    unchromed = _without_chrome(raw)
    view = None
    if unchromed == raw:
        # Only line breaks become spaces, and whitespace is dropped: the passage normalises
        # as the document's shared view has it there.
        view = normalised_view(source, drop_whitespace=True).of_slice(span.start, span.end)
    return find_metrics(_WRAP.sub(" ", unchromed) if "\n" in raw else raw, normalised=view)


def _metric_fields(source: str, span: Span, matches: list[MetricMatch]) -> list[dict[str, Any]]:
    """The fields of each match's Metric (its span as fields too), for the item's model to
    validate: pydantic builds nested models from fields in one validation, which costs about a
    quarter less than building each Metric and Span on its own and handing over instances."""
    base = span.start
    return [
        {
            "name": _name_as_written(m.name, source, base + m.evidence_start, base + m.evidence_end),
            "value": m.value,
            "unit": m.unit,
            "evidence": source[base + m.evidence_start : base + m.evidence_end].strip(),
            "span": {"start": base + m.evidence_start, "end": base + m.evidence_end},
            "alignment": AlignmentStatus.EXACT,
        }
        for m in matches
    ]


def _name_as_written(name: str, source: str, start: int, end: int) -> str:
    """A metric name (found in normalised text) in the report's own characters: 县（市）, not
    县(市). Only where width forms are all that differ (same length): a name read across
    dropped whitespace (a table's cells) stays on one line as found."""
    written = _as_written(name, source, start, end)
    return written if len(written) == len(name) else name


def _cause_text(source: str, point: Point) -> str | None:
    if point.cause_span is None:
        return None
    raw = source[point.cause_span.start : point.cause_span.end].strip()
    return _CAUSE_LABEL.sub("", raw, count=1).strip() or raw


def _assign_separate_causes(problems: list[Problem], causes: list[str]) -> None:
    """A separate 原因 block: its points go to the problems they explain (same count: in
    order; otherwise by wording similarity), and are left out where none clearly fits."""
    if not causes or not problems:
        return
    if len(causes) == len(problems):
        # In order, where the wording lets it: a general cause explains no one problem.
        for problem, cause in zip(problems, causes, strict=True):
            if problem.cause is None and bigram_dice(problem.evidence, cause) >= 0.05:
                problem.cause = cause
        return
    for cause in causes:
        open_problems = [p for p in problems if p.cause is None]
        if not open_problems:
            return
        best = max(open_problems, key=lambda p: bigram_dice(p.evidence, cause))
        if bigram_dice(best.evidence, cause) >= 0.1:
            best.cause = cause


def _first_statements(
    found: list[MetricMatch], seen: dict[tuple[float, str], list[MetricMatch]]
) -> list[MetricMatch]:
    """Drop figures already stated earlier in the report for the same thing (same value and
    unit, and the same name give or take a word: 受理案件 / 受理案件; not 办结率 / 按时办结率,
    which a generic 100% makes collide); remember the new ones."""
    fresh: list[MetricMatch] = []
    for match in found:
        earlier = seen.setdefault((float(match.value), match.unit), [])
        if any(_same_thing(e.name, match.name) for e in earlier):
            continue
        earlier.append(match)
        fresh.append(match)
    return fresh


def _same_thing(a: str, b: str) -> bool:
    if not a or not b:
        return False
    shorter, longer = sorted((a, b), key=len)
    return shorter in longer and len(shorter) >= 0.75 * len(longer)


#: A long passage stating several figures: where the rules most often miss or add a metric.
DENSE_METRICS = 2
DENSE_PASSAGE_CHARS = 150


def _weak_spots(strength: str, point: Point, section_heading: str | None) -> list[dict[str, FlagCode]]:
    """What the rules decided on weak evidence: an area with no keyword or a close call
    (`strength`, as `area_call` gives it), a section found without a heading, a point with
    no marker of its own. As the fields of each Flag, which the item's model validates with
    the item (see `_metric_fields`)."""
    codes = []
    if strength == "default":
        codes.append(FlagCode.AREA_DEFAULT)
    elif strength == "close":
        codes.append(FlagCode.AREA_UNCERTAIN)
    if section_heading is not None and not section_heading.strip():
        codes.append(FlagCode.NO_SECTION_HEADING)
    if point.marker is None:
        codes.append(FlagCode.UNMARKED_POINT)
    return [{"code": code} for code in codes]


def _item(
    source: str,
    point: Point,
    kind: SectionKind,
    seen_metrics: dict[tuple[float, str], list[MetricMatch]],
    section_heading: str | None = None,
    learned: bool | None = None,
):
    span = point.span
    raw = source[span.start : span.end]
    evidence = raw.strip()
    evidence_start = span.start + len(raw) - len(raw.lstrip())
    # The lead may be the point's own heading line just above it: look for it there too.
    near = (max(0, span.start - _LEAD_WINDOW), min(len(source), span.end + _LEAD_WINDOW))
    lead = _as_written(point.lead, source, *near) if point.lead else None
    if lead:
        lead = _as_written(lead, source, evidence_start, evidence_start + len(evidence))
    text = summary_text(evidence, lead)
    area, strength = area_call(evidence, lead=text, context=point.context, learned=learned)
    common = {
        "area": area,
        "text": text,
        "evidence": evidence,
        "span": span,
        "alignment": AlignmentStatus.EXACT,
        "flags": _weak_spots(strength, point, section_heading),
    }
    if kind is SectionKind.ACHIEVEMENTS:
        # A figure repeated later for the same thing counts once, at its first statement.
        fresh = _first_statements(_metrics(source, span), seen_metrics)
        achievement = Achievement(**common, metrics=_metric_fields(source, span, fresh))
        if len(achievement.metrics) >= DENSE_METRICS and len(evidence) >= DENSE_PASSAGE_CHARS:
            achievement.flags.append(Flag(code=FlagCode.METRICS_DENSE))
        return achievement
    if kind is SectionKind.PROBLEMS:
        return Problem(**common, cause=_cause_text(source, point))
    return Plan(**common)


def extract_with_rules(doc: SourceDocument, segmented: SegmentedReport) -> Record:
    """The complete record from rules alone. Evidence spans are exact slices of `doc.text`."""
    source = doc.text
    record = Record(doc_id=doc.doc_id, meta=extract_meta(doc, segmented))
    seen: dict[tuple[float, str], list[MetricMatch]] = {}
    separate_causes: list[str] = []
    learned = learned_model_enabled()  # the area model switch, read once for the report
    for section in segmented.sections:
        if section.kind is SectionKind.CAUSES:
            separate_causes += [_strip_marker(source[p.span.start : p.span.end]) for p in section.points]
            continue
        items = record.items(ListName(section.kind.value))
        items += [
            _item(source, point, section.kind, seen, section.heading, learned) for point in section.points
        ]
    _assign_separate_causes(record.problems, separate_causes)
    record.provenance = Provenance(
        backend=BACKEND_NAME,
        source_path=doc.path,
        source_sha256=doc.sha256,
        source_format=doc.format,
        ocr=doc.ocr,
    )
    return record


def _strip_marker(text: str) -> str:
    text = text.strip()
    m = marker_at_start(text)
    return (text[m.end() :] if m else text).strip()


def item_from_passage(
    source_text: str, span: Span, list_name: ListName | str
) -> Achievement | Problem | Plan:
    """A draft item for a passage a reviewer added: area, text and metrics pre-filled."""
    kind = SectionKind(ListName(list_name).value)
    point = Point(span=span)
    return _item(source_text, point, kind, {})
