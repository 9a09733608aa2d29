"""Where the model and the rules backend disagree on a chunk: flags for the reviewer.

Each model item is compared with the rules items of the same list whose spans overlap it:
- no rules item there, several (the model merged points), or one that is also covered by
  another model item or spans different text (split / moved boundary): BOUNDARY_DISAGREES;
- the most-overlapping rules item has another area: AREA_DISAGREES, naming both;
- achievements whose (value, unit) metric sets differ: METRICS_DISAGREE, naming the difference;
- the learned area classifier (`extract/rules/area_model.py`, trained on the labelled reports)
  reads another area than the model's: AREA_MODEL_DISAGREES. On reports it was not trained on
  it singles out the model's wrong areas far better than the keywords do (eval/gold/README.md);
- an achievement restating a metric of an earlier achievement (the labelling rules count a
  number repeated for the same matter once): METRIC_REPEATED;
- a metric whose clause states an intention (拟创建5个…): METRIC_INTENDED (a target is not a
  result achieved);
- problems of a section whose separate cause block (产生问题的原因：一是…) the model gave to
  none of them: CAUSE_BLOCK_UNUSED (a block of causes usually explains at least one);
- a metric counting the parts the text is organised into (4个方面, 三项举措):
  METRIC_COUNTS_A_SET (a named set, not a metric by the labelling rules).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from extractor.core.normalise import matching_key
from extractor.core.schema import Achievement, Flag, FlagCode, Item, ListName, Metric, Problem, Record, Span
from extractor.extract.llm.chunks import Chunk
from extractor.extract.rules.area_model import AreaModel, load_area_model
from extractor.extract.rules.areas import area_scores
from extractor.numbers.vocabulary import SET_NOUNS_AFTER_UNIT_RE


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def _metric_set(item: Item) -> set[tuple[float, str]]:
    if not isinstance(item, Achievement):
        return set()
    return {(float(m.value), matching_key(m.unit)) for m in item.metrics}


def _describe(metrics: set[tuple[float, str]]) -> str:
    return "、".join(f"{value:g}{unit}" for value, unit in sorted(metrics)) or "无"


def flag_disagreements(
    model_items: list[Item], list_name: ListName, chunk: Chunk, rules_record: Record, doc_text: str
) -> None:
    """Add disagreement flags to `model_items` (in place) against the rules items of `chunk`.

    A chunk where the rules backend found nothing gets no flags: there is nothing to compare.
    """
    rules_items = [
        r
        for r in rules_record.items(list_name)
        if r.span is not None and chunk.bounds.start <= r.span.start < chunk.bounds.end
    ]
    if not rules_items:
        return  # the rules backend found nothing here: nothing to compare with
    overlaps, covered = _overlaps(model_items, rules_items)
    for item, found in zip(model_items, overlaps, strict=True):
        if item.span is None:
            continue  # unaligned: already flagged, nothing to compare
        if not found:
            item.flags.append(Flag(code=FlagCode.BOUNDARY_DISAGREES, detail="rules backend has no item here"))
            continue
        rule = rules_items[found[0][1]]
        detail = _boundary_difference(item.span, rule, len(found), covered[found[0][1]], doc_text)
        if detail:
            item.flags.append(Flag(code=FlagCode.BOUNDARY_DISAGREES, detail=detail))
        if rule.area != item.area:
            item.flags.append(
                Flag(
                    code=FlagCode.AREA_DISAGREES, detail=f"model: {item.area.value}; rules: {rule.area.value}"
                )
            )
        if list_name is ListName.ACHIEVEMENTS:
            ours, theirs = _metric_set(item), _metric_set(rule)
            if ours != theirs:
                item.flags.append(
                    Flag(
                        code=FlagCode.METRICS_DISAGREE,
                        detail=f"model only: {_describe(ours - theirs)}; rules only: {_describe(theirs - ours)}",
                    )
                )


def flag_unused_cause_block(problems: Sequence[Item], chunk: Chunk) -> None:
    """Add CAUSE_BLOCK_UNUSED (in place) to every problem of `chunk` when the report gives a
    separate block of causes for them (`chunk.causes_text`) and no problem has a cause."""
    if not chunk.causes_text.strip() or any(
        isinstance(p, Problem) and p.cause and p.cause.strip() for p in problems
    ):
        return
    for problem in problems:
        problem.flags.append(
            Flag(code=FlagCode.CAUSE_BLOCK_UNUSED, detail=f"cause block: {chunk.causes_text.strip()[:40]}")
        )


def flag_area_model(items: list[Item], model: AreaModel | None = None) -> None:
    """Add AREA_MODEL_DISAGREES to each item (in place) whose area the learned classifier reads
    otherwise. `model`: the packaged one by default (calibration passes one trained without the
    report being judged)."""
    model = model or load_area_model()
    if model is None:
        return
    for item in items:
        if not item.evidence.strip():
            continue
        probabilities = model.probabilities(item.evidence, area_scores(item.evidence))
        best = max(probabilities, key=lambda area: probabilities[area])
        if best is not item.area:
            item.flags.append(
                Flag(
                    code=FlagCode.AREA_MODEL_DISAGREES,
                    detail=f"model: {item.area.value}; classifier: {best.value} ({probabilities[best]:.2f})",
                )
            )


def flag_repeated_metrics(achievements: Sequence[Item]) -> None:
    """Add METRIC_REPEATED (in place) to each achievement stating a metric an earlier one
    already stated: the same value and unit, followed by the same words (「9个街道」 twice).
    By the labelling rules a number repeated for the same matter counts once, at its first
    occurrence; `achievements` must be in report order."""
    seen: set[tuple[float, str, str]] = set()
    for item in achievements:
        if not isinstance(item, Achievement):
            continue
        keys = {key for metric in item.metrics if (key := _repeat_key(metric)) is not None}
        repeated = sorted(k for k in keys if k in seen)
        if repeated:
            value, unit, after = repeated[0]
            item.flags.append(
                Flag(
                    code=FlagCode.METRIC_REPEATED, detail=f"{value:g}{unit}{after} stated in an earlier item"
                )
            )
        seen |= keys


#: Words that make the number after them a target (拟创建5个, 预计完成, 力争达到).
_INTENTION = re.compile(r"拟|预计|力争|计划于|将于|争取")


def flag_intended_metrics(achievements: Sequence[Item]) -> None:
    """Add METRIC_INTENDED (in place) to each achievement with a metric stated as an intention:
    an intention word before the number in the metric's own evidence."""
    for item in achievements:
        if not isinstance(item, Achievement):
            continue
        for metric in item.metrics:
            number_at = metric.evidence.find(f"{metric.value:g}")
            if number_at > 0 and _INTENTION.search(metric.evidence[:number_at]):
                detail = f"{metric.value:g}{metric.unit}: {metric.evidence[:40]}"
                item.flags.append(Flag(code=FlagCode.METRIC_INTENDED, detail=detail))
                break


def flag_set_counts(achievements: Sequence[Item]) -> None:
    """Add METRIC_COUNTS_A_SET (in place) to each achievement with a metric whose unit is
    followed by a noun counting parts of the text (4个方面12个突出问题: the 4)."""
    for item in achievements:
        if not isinstance(item, Achievement):
            continue
        for metric in item.metrics:
            counted = _counted_words(metric)
            if counted and SET_NOUNS_AFTER_UNIT_RE.match(counted):
                detail = f"{metric.value:g}{metric.unit}{counted[:2]}: {metric.evidence[:40]}"
                item.flags.append(Flag(code=FlagCode.METRIC_COUNTS_A_SET, detail=detail))
                break


#: Chinese characters (what a count is followed by when it names what it counts).
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def _counted_words(metric: Metric) -> str:
    """The run of Chinese characters right after the metric's number and unit in its evidence
    (「9个街道党工委书记」 -> 街道党工委书记; "" when a mark or the end follows)."""
    evidence = matching_key(metric.evidence)
    unit = matching_key(metric.unit)
    at = evidence.find(unit, max(0, evidence.find(f"{metric.value:g}")))
    if at < 0:
        return ""
    run = _CJK_RUN.match(evidence, at + len(unit))
    return run.group() if run else ""


def _repeat_key(metric: Metric) -> tuple[float, str, str] | None:
    """(value, unit, up to two characters of what follows the unit in the evidence) of a
    count followed by what it counts (「9个街道」, 「14个村（社区）」); None for a metric not
    written so (a rate 「达100%，」 is restated for many different things)."""
    counted = _counted_words(metric)
    if not counted:
        return None
    return float(metric.value), matching_key(metric.unit), counted[:2]


def _overlaps(
    model_items: list[Item], rules_items: list[Item]
) -> tuple[list[list[tuple[int, int]]], dict[int, int]]:
    """Per model item, the (overlap, rules index) pairs it overlaps, largest first; and per
    rules item, how many model items overlap it."""
    covered: dict[int, int] = {}
    overlaps: list[list[tuple[int, int]]] = []
    for item in model_items:
        found = []
        if item.span is not None:
            for index, rule in enumerate(rules_items):
                amount = _overlap(item.span, rule.span) if rule.span else 0
                if amount > 0:
                    found.append((amount, index))
                    covered[index] = covered.get(index, 0) + 1
        overlaps.append(sorted(found, reverse=True))
    return overlaps, covered


def _boundary_difference(
    span: Span, rule: Item, rules_overlapped: int, model_overlapping: int, doc_text: str
) -> str:
    """Why the model item's boundaries differ from the rules item's ("" when they agree)."""
    if rules_overlapped > 1:
        return f"model item covers {rules_overlapped} rules items (merged)"
    if model_overlapping > 1:
        return "rules item is split into several model items"
    if rule.span and matching_key(doc_text[rule.span.start : rule.span.end]) != matching_key(
        doc_text[span.start : span.end]
    ):
        return "model and rules item boundaries differ"
    return ""
