"""Comparing two eval runs (`--json` files): before, after and delta of each figure."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError
from rich.table import Table

from extractor.core.errors import ExtractorError
from extractor.evaluation.models import EvalResult, Scores
from extractor.evaluation.report import OVERALL, fmt

#: Figures compared per document (every one of them is "higher is better").
COMPARED_FIGURES: tuple[str, ...] = (
    "achievements_f1",
    "problems_f1",
    "plans_f1",
    "metrics_f1",
    "achievements_area_accuracy",
    "problems_area_accuracy",
    "plans_area_accuracy",
    "text_similarity",
    "cause_accuracy",
    "meta_accuracy",
    "grounding",
)
#: Changes smaller than this are shown as unchanged (float noise, not a real change).
_NOISE = 1e-9


class FigureChange(BaseModel):
    document: str
    figure: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def direction(self) -> int:
        """+1 improvement, -1 regression, 0 unchanged or not comparable."""
        delta = self.delta
        if delta is None or abs(delta) <= _NOISE:
            return 0
        return 1 if delta > 0 else -1


def load_result(path: Path) -> EvalResult:
    """An eval `--json` file; raises ExtractorError naming the file if it is not one."""
    try:
        return EvalResult.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ExtractorError(f"cannot read: {e.strerror}", source=str(path)) from e
    except (ValidationError, UnicodeDecodeError) as e:
        raise ExtractorError(
            "not an eval result (write one with `extractor eval --json`)", source=str(path)
        ) from e


def compare_results(before: EvalResult, after: EvalResult) -> list[FigureChange]:
    """Changes per document (documents of either run, in order of appearance) then overall.

    A document present in only one run has None on the other side.
    """
    before_docs = {d.doc_id: d for d in before.documents}
    after_docs = {d.doc_id: d for d in after.documents}
    order = list(dict.fromkeys([*before_docs, *after_docs]))
    changes: list[FigureChange] = []
    for doc_id in order:
        changes += _changes(doc_id, before_docs.get(doc_id), after_docs.get(doc_id))
    changes += _changes(OVERALL, before.overall, after.overall)
    return changes


def _changes(document: str, before: Scores | None, after: Scores | None) -> list[FigureChange]:
    before_figures = before.figures() if before else {}
    after_figures = after.figures() if after else {}
    return [
        FigureChange(
            document=document, figure=name, before=before_figures.get(name), after=after_figures.get(name)
        )
        for name in COMPARED_FIGURES
    ]


def comparison_table(changes: list[FigureChange], *, before_label: str, after_label: str) -> Table:
    """Rich table: improvements green, regressions red, unchanged dim."""
    table = Table(title=f"Compare: {before_label} → {after_label}")
    table.add_column("document")
    table.add_column("figure")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_column("delta", justify="right")
    previous = None
    for change in changes:
        delta = change.delta
        style = {1: "green", -1: "bold red", 0: "dim"}[change.direction]
        marker = {1: " ▲", -1: " ▼", 0: ""}[change.direction]
        table.add_row(
            change.document if change.document != previous else "",
            change.figure,
            fmt(change.before),
            fmt(change.after),
            ("—" if delta is None else f"{delta:+.3f}") + marker,
            style=style,
        )
        previous = change.document
    return table
