"""A Word report whose figures sit in a real table: each row is read as one line, so a
figure stays beside the label it counts and the table stays with the paragraph it follows."""

from __future__ import annotations

from pathlib import Path

import docx

from extractor.core.schema import Record
from extractor.evaluation.scoring import score_document
from extractor.load import load_document
from extractor.pipeline.run import extract_document

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# A hand-labelled report (a county page) whose 执法 figures are a table written as text rows.
REPORT = FIXTURES / "synthetic4" / "zhexi-2024"


def _as_word(text: str, path: Path) -> Path:
    """The report as .docx: text rows 「| a | b |」 become a Word table (no separator row)."""
    document = docx.Document()
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for cells, values in zip(table.rows, rows, strict=True):
                for cell, value in zip(cells.cells, values, strict=True):
                    cell.text = value
            rows.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                rows.append(cells)
            continue
        flush()
        if line.strip():
            document.add_paragraph(line.strip())
    flush()
    document.save(str(path))
    return path


def test_a_table_of_figures_in_word_scores_like_the_text_rows(tmp_path: Path) -> None:
    gold = Record.model_validate_json(REPORT.with_suffix(".json").read_text(encoding="utf-8"))
    plain_doc = load_document(REPORT.with_suffix(".txt"))
    word_doc = load_document(_as_word(plain_doc.text, tmp_path / "report.docx"))
    assert "| 1 | 检查生产经营单位 | 412家次 |" in word_doc.text.split("\n")
    plain = score_document(extract_document(plain_doc), gold, plain_doc.text)
    record = extract_document(word_doc)
    as_word = score_document(record, gold, word_doc.text)
    for mine, theirs in zip(as_word.lists(), plain.lists(), strict=True):
        assert mine.f1 >= theirs.f1, (mine.list_name, mine.f1, theirs.f1)
    assert as_word.metrics.f1 >= plain.metrics.f1 - 0.02
    named = {(m.value, m.name) for item in record.achievements for m in item.metrics}
    assert any(value == 412 and "检查生产经营单位" in name for value, name in named), named
