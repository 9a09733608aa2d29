"""Reports printed as official documents (GB/T 9704: 28 characters x 22 lines a page, a page
number 「— 3 —」 under each page, a running header): page furniture never enters the text."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_load import CID_FONT
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from extractor.core.normalise import matching_key
from extractor.core.schema import Record
from extractor.evaluation.scoring import score_document
from extractor.load import load_document
from extractor.load.pdf import without_page_furniture
from extractor.pipeline.run import extract_document

REPO = Path(__file__).resolve().parent.parent
CHARS_PER_LINE, LINES_PER_PAGE = 28, 22
HEADER = "某某县人民政府办公室文件"


def official_pdf(text: str, path: Path) -> Path:
    """The report set as 公文: two-character indents, 28 per line, 22 lines, numbered pages."""
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    lines: list[str] = []
    for paragraph in (p.strip() for p in text.splitlines()):
        if paragraph:
            body = "\u3000\u3000" + paragraph
            lines += [body[i : i + CHARS_PER_LINE] for i in range(0, len(body), CHARS_PER_LINE)]
    for page, start in enumerate(range(0, len(lines), LINES_PER_PAGE), start=1):
        pdf.setFont(CID_FONT, 15)
        pdf.drawString(90, height - 60, HEADER)
        for row, line in enumerate(lines[start : start + LINES_PER_PAGE]):
            pdf.drawString(90, height - 110 - row * 28, line)
        pdf.drawString(width / 2 - 20, 50, f"— {page} —")
        pdf.showPage()
    pdf.save()
    return path


def test_page_numbers_and_running_headers_are_dropped_only_at_page_edges() -> None:
    pages = [f"{HEADER}\n正文{i}，受理案件{i}件\n3\n正文\n— {i} —" for i in range(1, 5)]
    cleaned = without_page_furniture(pages)
    assert all(HEADER not in page and "—" not in page for page in cleaned)
    assert all("\n3\n" in f"\n{page}\n" for page in cleaned)  # a number inside the body stays


@pytest.mark.parametrize("doc_id", ["lanshan-2024", "lushan-2023", "hubin-2024"])
def test_an_official_document_pdf_scores_like_its_text(doc_id: str, tmp_path: Path) -> None:
    source = REPO / "eval" / "docs" / f"{doc_id}.txt"
    gold = Record.model_validate_json((REPO / "eval" / "gold" / f"{doc_id}.json").read_text(encoding="utf-8"))
    plain_doc = load_document(source)
    pdf_doc = load_document(official_pdf(plain_doc.text, tmp_path / f"{doc_id}.pdf"))
    assert "—" not in pdf_doc.text.replace("——", "") and HEADER not in pdf_doc.text
    plain = score_document(extract_document(plain_doc), gold, plain_doc.text)
    record = extract_document(pdf_doc)
    as_pdf = score_document(record, gold, pdf_doc.text)
    for mine, theirs in zip(as_pdf.lists(), plain.lists(), strict=True):
        assert mine.f1 >= theirs.f1 - 0.03, (mine.list_name, mine.f1, theirs.f1)
    assert as_pdf.grounding.share == 1.0  # against the gold's own evidence, no footer inside
    for item in record.achievements + record.problems + record.plans:
        assert "—" not in matching_key(item.evidence).replace("——", "")
