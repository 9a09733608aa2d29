"""Presenting eval results: rich tables for the terminal, markdown for a developer's read.

The markdown puts every miss, false positive, area error, metric miss and meta mismatch
beside its text, so the reason behind each figure can be read without opening JSON.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table

from extractor.evaluation.models import META_FIELDS, DocumentScore, EvalResult, ItemNote, MetricNote, Scores

#: Evidence longer than this is cut in the markdown (the JSON keeps it whole).
MAX_QUOTE = 160
OVERALL = "OVERALL"


def fmt(value: float | None) -> str:
    """Three decimals, or an em dash for a figure with nothing to measure."""
    return "—" if value is None else f"{value:.3f}"


_SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ach F1", "achievements_f1"),
    ("prob F1", "problems_f1"),
    ("plan F1", "plans_f1"),
    ("metrics F1", "metrics_f1"),
    ("area acc", "area_accuracy"),
    ("text sim", "text_similarity"),
    ("cause acc", "cause_accuracy"),
    ("meta acc", "meta_accuracy"),
    ("grounding", "grounding"),
)


def summary_table(result: EvalResult) -> Table:
    """One row per document and an overall (micro-averaged) row of headline figures."""
    table = Table(title="Eval: per document and overall")
    table.add_column("document")
    for header, _ in _SUMMARY_COLUMNS:
        table.add_column(header, justify="right")
    rows: list[tuple[str, Scores]] = [(doc.doc_id, doc) for doc in result.documents]
    rows.append((OVERALL, result.overall))
    for i, (name, scores) in enumerate(rows):
        figures = scores.figures()
        table.add_row(
            name,
            *(fmt(figures[key]) for _, key in _SUMMARY_COLUMNS),
            style="bold" if name == OVERALL else None,
            end_section=i == len(rows) - 2,
        )
    return table


def detail_table(scores: Scores) -> Table:
    """Overall counts and ratios per list and for metrics."""
    table = Table(title="Overall detail")
    for header in ("list", "TP", "FP", "FN", "P", "R", "F1", "area acc", "text/name sim", "cause acc"):
        table.add_column(header, justify="left" if header == "list" else "right")
    for s in scores.lists():
        table.add_row(
            s.list_name.value,
            str(s.tp),
            str(s.fp),
            str(s.fn),
            fmt(s.precision),
            fmt(s.recall),
            fmt(s.f1),
            fmt(s.area_accuracy),
            fmt(s.text_similarity),
            fmt(s.cause_accuracy),
        )
    m = scores.metrics
    table.add_row(
        "metrics",
        str(m.tp),
        str(m.fp),
        str(m.fn),
        fmt(m.precision),
        fmt(m.recall),
        fmt(m.f1),
        "",
        fmt(m.name_similarity),
        "",
    )
    return table


def flag_table(scores: Scores) -> Table:
    """How well the items marked for review point at the wrong ones."""
    flags = scores.flags
    table = Table(title="Flags (items marked needs_review)")
    for header in (
        "items",
        "flagged",
        "wrong",
        "flagged & wrong",
        "flag precision",
        "flag recall",
        "flag rate",
    ):
        table.add_column(header, justify="right")
    table.add_row(
        str(flags.items),
        str(flags.flagged),
        str(flags.wrong),
        str(flags.flagged_wrong),
        fmt(flags.precision),
        fmt(flags.recall),
        fmt(flags.rate),
    )
    return table


def meta_table(scores: Scores) -> Table:
    """Accuracy per meta field."""
    table = Table(title="Meta accuracy per field")
    accuracy = scores.meta.field_accuracy
    for name in META_FIELDS:
        table.add_column(name, justify="right")
    table.add_row(*(fmt(accuracy[name]) for name in META_FIELDS))
    return table


# --- markdown -------------------------------------------------------------------------------


def _cell(text: object, *, limit: int = MAX_QUOTE) -> str:
    # Report text is untrusted: neutralise table pipes, HTML and line breaks so a quote can
    # neither break the table nor inject markup into a rendered page.
    value = "null" if text is None else str(text)
    value = " ".join(value.split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _table(headers: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    headers = list(headers)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _item_rows(notes: list[ItemNote]) -> list[tuple[object, ...]]:
    return [
        (n.list_name.value, n.index, n.area, n.text, "yes" if n.located else "NO", n.evidence) for n in notes
    ]


def _metric_rows(notes: list[MetricNote]) -> list[tuple[object, ...]]:
    return [(n.achievement_index, n.name, f"{n.value:g}", n.unit, n.evidence) for n in notes]


def _figures_line(scores: Scores) -> str:
    figures = scores.figures()
    return " · ".join(f"{header} {fmt(figures[key])}" for header, key in _SUMMARY_COLUMNS)


def document_markdown(doc: DocumentScore) -> list[str]:
    """Markdown lines for one document: figures, then every difference behind them."""
    lines = [f"## {_cell(doc.doc_id)}", "", _figures_line(doc), ""]
    item_headers = ("list", "#", "area", "text", "verbatim", "evidence")
    sections: list[tuple[str, list[str]]] = [
        (
            "Misses (gold items with no match)",
            _table(item_headers, _item_rows(doc.misses)) if doc.misses else [],
        ),
        (
            "False positives (predicted items with no match)",
            _table(item_headers, _item_rows(doc.false_positives)) if doc.false_positives else [],
        ),
        (
            "Area errors",
            _table(
                ("list", "gold #", "pred #", "text", "gold area", "pred area"),
                (
                    (e.list_name.value, e.gold_index, e.pred_index, e.text, e.gold_area, e.pred_area)
                    for e in doc.area_errors
                ),
            )
            if doc.area_errors
            else [],
        ),
        (
            "Cause errors",
            _table(
                ("gold #", "pred #", "text", "gold cause", "pred cause"),
                ((e.gold_index, e.pred_index, e.text, e.gold_cause, e.pred_cause) for e in doc.cause_errors),
            )
            if doc.cause_errors
            else [],
        ),
        (
            "Metric misses",
            _table(("achievement #", "name", "value", "unit", "evidence"), _metric_rows(doc.metric_misses))
            if doc.metric_misses
            else [],
        ),
        (
            "Metric false positives",
            _table(
                ("achievement #", "name", "value", "unit", "evidence"),
                _metric_rows(doc.metric_false_positives),
            )
            if doc.metric_false_positives
            else [],
        ),
        (
            "Meta mismatches",
            _table(("field", "gold", "pred"), ((m.field, m.gold, m.pred) for m in doc.meta_mismatches))
            if doc.meta_mismatches
            else [],
        ),
        (
            "Ungrounded predicted evidence",
            _table(("evidence",), ((e,) for e in doc.ungrounded)) if doc.ungrounded else [],
        ),
    ]
    shown = [(title, body) for title, body in sections if body]
    if not shown:
        return [*lines, "No differences.", ""]
    for title, body in shown:
        lines += [f"### {title}", "", *body]
    return lines


def render_markdown(result: EvalResult) -> str:
    """The whole report: overall figures, per-list detail, then each document's differences."""
    overall = result.overall
    lines = ["# Eval report", "", f"Documents: {overall.documents}", ""]
    lines += _table(
        ["document", *(header for header, _ in _SUMMARY_COLUMNS)],
        [
            *(
                [doc.doc_id, *(fmt(doc.figures()[k]) for _, k in _SUMMARY_COLUMNS)]
                for doc in result.documents
            ),
            [f"**{OVERALL}**", *(fmt(overall.figures()[k]) for _, k in _SUMMARY_COLUMNS)],
        ],
    )
    lines += _table(
        ("list", "TP", "FP", "FN", "P", "R", "F1", "area acc", "text sim"),
        (
            (
                s.list_name.value,
                s.tp,
                s.fp,
                s.fn,
                fmt(s.precision),
                fmt(s.recall),
                fmt(s.f1),
                fmt(s.area_accuracy),
                fmt(s.text_similarity),
            )
            for s in overall.lists()
        ),
    )
    if result.warnings:
        lines += ["## Warnings", "", *(f"- {_cell(w, limit=400)}" for w in result.warnings), ""]
    for doc in result.documents:
        lines += document_markdown(doc)
    return "\n".join(lines).rstrip() + "\n"
