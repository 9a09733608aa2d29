"""Metric candidates: the numbers the program finds in each passage, shown to the model by id.

The model used to write every metric out (name, value, unit), which made metrics the largest
part of an answer. The program already finds the quantities a passage states
(`numbers.metrics.find_metrics`, with name, value, unit and the clause stating them), so an
achievements call lists them as m1, m2, … under the text and the model answers with the ids of
those that are metrics by the labelling rules, writing a metric out only when no candidate
states it (or states it wrongly). A candidate carries its evidence located in the document,
so an id needs no locating and cannot be misquoted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from extractor.core.schema import Span
from extractor.extract.llm.grounding import Passage
from extractor.numbers.metrics import find_metrics

#: How the section call introduces the candidates (prompts/section_user.j2 and the few-shot).
CANDIDATES_HEADING = (
    "【指标候选：程序在各段落中读到的数量，编号 m1、m2…（→ 后为程序读出的数值；括号内为程序读出的名称）】"
)
#: A number's name is shown by its last characters (those next to the number): enough to tell
#: candidates apart, while the passage itself is in the same message.
_NAME_SHOWN = 8


@dataclass(frozen=True, slots=True)
class MetricCandidate:
    """A quantity stated in a passage; `number` and `evidence` index the document."""

    id: str  # "m3"
    passage: int
    name: str
    value: int | float
    unit: str
    written: str  # the number and unit as the report writes them
    number: Span
    evidence: Span


def metric_candidates(passages: tuple[Passage, ...]) -> tuple[MetricCandidate, ...]:
    """Every quantity `find_metrics` reads in each passage, numbered m1… in text order."""
    found: list[MetricCandidate] = []
    for passage in passages:
        base = passage.span.start
        for match in find_metrics(passage.text):
            evidence = Span(start=base + match.evidence_start, end=base + match.evidence_end)
            found.append(
                MetricCandidate(
                    id=f"m{len(found) + 1}",
                    passage=passage.number,
                    name=match.name or passage.text[match.evidence_start : match.evidence_end],
                    value=match.value,
                    unit=match.unit,
                    written=passage.text[match.start : match.end],
                    number=Span(start=base + match.start, end=base + match.end),
                    evidence=evidence,
                )
            )
    return tuple(found)


def render_candidates(candidates: tuple[MetricCandidate, ...]) -> str:
    """One line per passage: `[P2] m3 186个；m4 100%（参考率）…` — the number as written (with the
    program's reading after → where it differs), and the name the program read only where the
    same number is written more than once in the passage (the passage is in the same message)."""
    lines: dict[int, list[str]] = {}
    repeated = Counter((c.passage, c.written) for c in candidates)
    for c in candidates:
        reading = f"{c.value:g}{c.unit}"
        shown = c.written if c.written.replace(" ", "") == reading else f"{c.written}→{reading}"
        if repeated[(c.passage, c.written)] > 1:
            name = c.name if len(c.name) <= _NAME_SHOWN else "…" + c.name[-_NAME_SHOWN:]
            shown += f"（{name}）"
        lines.setdefault(c.passage, []).append(f"{c.id} {shown}")
    return "\n".join(f"[P{n}] " + "；".join(entries) for n, entries in lines.items())
