"""An answer item as a record item, checked against the section the model was shown.

`answer_item` is the one place the LLM path decides whether an item is grounded: it builds
the record item (evidence from the cited passages or the quote) and runs the check stage's
`check_item` on it, limited to the section shown. Its problems are what the response
validators raise (instructor re-asks with them); its item is what the record keeps, with the
check's flags. The answer's own shape (passage numbers, quote or passages) is judged here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from extractor.check.align import SourceIndex
from extractor.check.record import FindingKind, ItemCheck, check_item, metric_outside_message, short
from extractor.core.normalise import bigram_coverage
from extractor.core.schema import Achievement, Flag, FlagCode, Item, ListName, Metric, Plan, Problem, Span
from extractor.numbers.locate import locate_metric
from extractor.numbers.numerals import unit_as_written

if TYPE_CHECKING:
    from extractor.extract.llm.candidates import MetricCandidate
    from extractor.extract.llm.response_models import ItemOut, MetricOut

#: Key of the GroundingContext in instructor's validation context (`context=`).
CONTEXT_KEY = "grounding"


@dataclass(frozen=True, slots=True)
class Passage:
    """A segmenter point shown to the model as [Pn]; its text is the item's evidence."""

    number: int
    span: Span
    text: str


@dataclass(frozen=True, slots=True)
class GroundingContext:
    """The text one call showed the model, for checking what it answers.

    `index` is the document's (shared by every call of the run); `bounds` is the part shown:
    a quote must come from there.
    """

    index: SourceIndex
    bounds: Span
    passages: dict[int, Passage]
    list_name: ListName | None  # None in free mode: each item names its own list
    causes_text: str = ""  # a separate block of causes shown with a problems section
    candidates: dict[str, MetricCandidate] = field(default_factory=dict)  # metric candidates by id


#: A cause must share at least this share of its character bigrams with the text shown (the
#: section and any separate block of causes): a summary of the report's words passes, an
#: invented reason does not.
CAUSE_SUPPORT = 0.5
#: An answer "too thin" for a section with points: no item at all, or, from this many
#: points on, items covering less than THIN_COVERAGE of the points' text.
THIN_MIN_POINTS = 3
THIN_COVERAGE = 0.25


def list_of(item: ItemOut, ctx: GroundingContext) -> ListName | None:
    """The list an answer item belongs to: its own `kind` when it names one (free items
    must; a section's item may be of another kind), else the section's."""
    kind = getattr(item, "kind", None) or ctx.list_name
    return None if kind is None else ListName(kind)


def cause_problem(cause: str | None, ctx: GroundingContext) -> str | None:
    """Why `cause` is not supported by the text shown (None: supported or no cause)."""
    if not cause or not cause.strip():
        return None
    shown = ctx.index.text[ctx.bounds.start : ctx.bounds.end] + "\n" + ctx.causes_text
    if bigram_coverage(cause, shown) >= CAUSE_SUPPORT:
        return None
    return (
        f"原因「{short(cause)}」在原文中找不到依据：请依据原文概括，原文没有给出原因时填 null / "
        "the cause is not supported by the text shown: summarise the report's words or use null"
    )


def answer_is_too_thin(answer: Any, ctx: GroundingContext) -> bool:
    """True when an answer leaves a section with points (nearly) empty (see THIN_*)."""
    passages = ctx.passages
    if not passages:
        return False
    items = list(getattr(answer, "items", []) or [])
    if not items:
        return True
    if len(passages) < THIN_MIN_POINTS:
        return False
    total = sum(len(p.text) for p in passages.values())
    cited = {n for item in items for n in item.passages if n in passages}
    quoted = sum(len(item.quote) for item in items if item.quote)
    covered = sum(len(passages[n].text) for n in cited) + quoted
    return covered < THIN_COVERAGE * total


def answer_item(item: ItemOut, ctx: GroundingContext) -> tuple[Item, list[str]]:
    """The record item `item` stands for (located and flagged by the check) and every
    reason it is not acceptable in `ctx` (empty: acceptable), in Chinese + English."""
    problems, passage_span = _passage_problems(item, ctx)
    quote = item.quote if item.quote and item.quote.strip() else None
    if quote is not None:
        evidence, span = quote, None
    elif passage_span is not None:
        evidence, span = ctx.index.text[passage_span.start : passage_span.end], passage_span
    else:
        evidence, span = "", None
    built, metric_problems = _record_item(item, list_of(item, ctx), evidence, span, ctx)
    problems += metric_problems
    check = check_item(built, ctx.index, within=ctx.bounds)
    built.flags = check.flags()
    if quote is not None:
        if built.span is None:
            problems.append(
                f"引文「{short(quote)}」在本部分原文中找不到，请逐字摘抄 / "
                "quote not found verbatim in this section's text: copy it exactly"
            )
        elif passage_span is not None and not _inside(built.span, passage_span):
            problems.append(
                f"引文「{short(quote)}」不在所引段落内 / quote lies outside the passages it cites"
            )
    elif passage_span is None and not item.passages:
        problems.append(
            "条目必须给出 passages（段落编号）或 quote（逐字引文）/ each item needs passages or a quote"
        )
    if ctx.list_name is None and item.passages:
        problems.append("本文没有段落编号，请用 quote 逐字摘抄 / this text has no passages: use quote")
    if isinstance(built, Achievement):
        for position, metric in enumerate(built.metrics):
            problems.extend(_metric_problems(check, position, metric))
    if isinstance(built, Problem) and (unsupported := cause_problem(built.cause, ctx)) is not None:
        problems.append(unsupported)
        built.flags.append(Flag(code=FlagCode.CAUSE_UNSUPPORTED, detail=unsupported))
    return built, problems


def _passage_problems(item: ItemOut, ctx: GroundingContext) -> tuple[list[str], Span | None]:
    """Problems with the cited passage numbers, and the span from the first to the last."""
    problems: list[str] = []
    unknown = [n for n in item.passages if n not in ctx.passages]
    if unknown:
        listed = ", ".join(f"P{n}" for n in unknown)
        problems.append(f"段落 {listed} 不存在 / passage {listed} does not exist in this section")
    known = sorted(n for n in item.passages if n in ctx.passages)
    if known and known != list(range(known[0], known[-1] + 1)):
        problems.append("合并的段落编号必须连续 / merged passages must be consecutive (e.g. [2, 3, 4])")
    if not known:
        return problems, None
    first, last = ctx.passages[known[0]], ctx.passages[known[-1]]
    return problems, Span(start=first.span.start, end=last.span.end)


def _inside(span: Span, outer: Span) -> bool:
    return outer.start <= span.start and span.end <= outer.end


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def metric_evidence(name: str, value: float, unit: str, item_evidence: str) -> str:
    """The phrase of the item stating the metric (the model names metrics; the program finds
    where they are stated). Not stated: the whole item evidence, which the check then flags
    as not stating the value."""
    found = locate_metric(name=name, value=value, unit=unit, text=item_evidence)
    return item_evidence[found.start : found.end] if found is not None else item_evidence


def _record_item(
    item: ItemOut, list_name: ListName | None, evidence: str, span: Span | None, ctx: GroundingContext
) -> tuple[Item, list[str]]:
    """The record item, and what is wrong with the metric candidates it cites."""
    common = {"area": item.area, "text": item.text, "evidence": evidence, "span": span}
    if list_name is ListName.ACHIEVEMENTS:
        metrics: list[Metric] = []
        problems: list[str] = []
        for m in item.metrics:
            if isinstance(m, str):
                metric, problem = _candidate_metric(m, span, ctx)
                metrics += [metric] if metric else []
                problems += [problem] if problem else []
            else:
                metrics.append(_named_metric(m, evidence))
        return Achievement(**common, metrics=metrics), problems
    if list_name is ListName.PROBLEMS:
        return Problem(**common, cause=item.cause or None), []
    return Plan(**common), []


def _named_metric(m: MetricOut, evidence: str) -> Metric:
    """A metric the model wrote out: its evidence is the phrase of the item stating it."""
    stated = metric_evidence(m.name, m.value, m.unit, evidence)
    unit = unit_as_written(m.unit, stated)  # a traditional report keeps 個, not 个
    return Metric(name=m.name, value=_number(m.value), unit=unit, evidence=stated)


def _candidate_metric(
    candidate_id: str, span: Span | None, ctx: GroundingContext
) -> tuple[Metric | None, str | None]:
    """The metric a candidate id stands for, or why it cannot be used for this item."""
    candidate = ctx.candidates.get(candidate_id)
    if candidate is None:
        return None, f"指标候选 {candidate_id} 不存在 / metric candidate {candidate_id} does not exist"
    if span is not None and not _inside(candidate.evidence, span):
        return None, (
            f"指标候选 {candidate_id} 不在该条目的原文中 / metric candidate {candidate_id} lies outside this item"
        )
    text = ctx.index.text
    metric = Metric(
        name=candidate.name,
        value=_number(candidate.value),
        unit=candidate.unit,
        evidence=text[candidate.evidence.start : candidate.evidence.end],
    )
    return metric, None


def _metric_problems(check: ItemCheck, position: int, metric: Metric) -> list[str]:
    if not check.metric_grounded(position):
        if check.item.evidence.strip():
            return [metric_outside_message(metric)]
        return [
            f"指标「{short(metric.name)}」的证据「{short(metric.evidence)}」不在原文中 / "
            "metric evidence is not verbatim in the text"
        ]
    if FindingKind.VALUE_NOT_STATED in check.of_metric(position):
        return [
            f"指标「{short(metric.name)}」的数值 {metric.value:g} 不在其证据「{short(metric.evidence)}」中 / "
            f"metric value {metric.value:g} is not stated in its evidence"
        ]
    return []
