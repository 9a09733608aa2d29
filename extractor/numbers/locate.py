"""Where an item states a metric: the evidence phrase for a (name, value, unit) inside a text.

The model names each metric; the program finds the phrase that states it, so answers carry no
copied evidence. A metric is located at the stated figure with the same value (the unit as a
tie-break) whose name reads most like the metric's name; where the metric parser does not
report the figure, at the clause that states the value and reads most like the name.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from extractor.core.normalise import bigram_dice, matching_key
from extractor.numbers.metrics import MetricMatch, find_metrics
from extractor.numbers.stated import value_in_text

_CLAUSE = re.compile(r"[^，,。；;：:！!？?\n]+")


@dataclass(frozen=True, slots=True)
class LocatedMetric:
    """Half-open offsets into the searched text of the phrase that states the metric."""

    start: int
    end: int
    how: str  # "parsed": a figure the metric parser reports; "clause": a clause stating the value


def _same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _score(match: MetricMatch, name: str, unit: str) -> tuple[int, float]:
    same_unit = int(matching_key(match.unit) == matching_key(unit))
    return same_unit, bigram_dice(matching_key(name), matching_key(match.name))


def locate_metric(*, name: str, value: float, unit: str, text: str) -> LocatedMetric | None:
    """The phrase of `text` stating `value` for `name` (see module doc); None if not stated."""
    parsed = [m for m in find_metrics(text) if _same_value(float(m.value), value)]
    if parsed:
        best = max(parsed, key=lambda m: _score(m, name, unit))
        return LocatedMetric(best.evidence_start, best.evidence_end, "parsed")
    clauses = [m for m in _CLAUSE.finditer(text) if value_in_text(value, m.group(0))]
    if not clauses:
        return None
    best_clause = max(clauses, key=lambda m: bigram_dice(matching_key(name), matching_key(m.group(0))))
    start, end = best_clause.span()
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return LocatedMetric(start, end, "clause")
