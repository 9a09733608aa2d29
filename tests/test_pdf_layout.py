"""PDF paragraphs rebuilt from the page geometry (`extractor.load.pdf_layout`).

The reports are set as official documents by `official_layout` (justified 28-cell lines,
indents as positions rather than spaces, page numbers at the outer corners, a 版头 and a
版记): each must score as its plain-text twin does, with no evidence passage holding a page
number or a 版记 line.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from official_layout import COPIES_TO, PRINTED_BY, official_document_pdf

from extractor.core.schema import Record
from extractor.evaluation.scoring import score_document
from extractor.load import load_document
from extractor.load.ocr import OcrBox, boxes_to_lines
from extractor.load.pdf_layout import OCR, Line, ocr_page_lines, rebuild_paragraphs
from extractor.pipeline.run import extract_document

REPO = Path(__file__).resolve().parent.parent
LABELLED = sorted((REPO / "eval" / "gold").glob("*.json")) + sorted(
    (REPO / "eval" / "holdout").glob("*.json")
)
PAGE_NUMBER = re.compile(r"—\s*\d+\s*—")


def _source_of(gold: Path) -> Path:
    docs = REPO / "eval" / "docs" / f"{gold.stem}.txt"
    return docs if docs.exists() else gold.with_suffix(".txt")


def _one_paragraph_a_line(text: str) -> bool:
    """A report kept one paragraph a line (not a hard-wrapped copy): the only kind that can be
    set as a document again."""
    lengths = [len(line.strip()) for line in text.splitlines() if len(line.strip()) >= 12]
    width, _ = Counter(lengths).most_common(1)[0]
    return sum(width - 3 <= n <= width for n in lengths) < 0.4 * len(lengths)


@pytest.mark.parametrize("gold_path", LABELLED, ids=lambda p: p.stem)
def test_an_official_document_pdf_scores_as_its_text_does(gold_path: Path, tmp_path: Path) -> None:
    plain_doc = load_document(_source_of(gold_path))
    if not _one_paragraph_a_line(plain_doc.text):
        pytest.skip("a hard-wrapped copy: its lines are not paragraphs to set again")
    gold = Record.model_validate_json(gold_path.read_text(encoding="utf-8"))
    pdf_doc = load_document(official_document_pdf(plain_doc.text, tmp_path / f"{gold_path.stem}.pdf"))
    plain = score_document(extract_document(plain_doc), gold, plain_doc.text)
    record = extract_document(pdf_doc)
    as_pdf = score_document(record, gold, pdf_doc.text)
    for mine, theirs in zip(as_pdf.lists(), plain.lists(), strict=True):
        assert mine.f1 >= theirs.f1, (mine.list_name, mine.f1, theirs.f1)
    assert as_pdf.meta.accuracy == plain.meta.accuracy
    assert as_pdf.grounding.share == 1.0
    assert not PAGE_NUMBER.search(pdf_doc.text)
    for item in record.achievements + record.problems + record.plans:
        assert COPIES_TO not in item.evidence and PRINTED_BY not in item.evidence, item.evidence


def test_a_paragraph_over_a_page_break_is_one_line_without_the_page_number(tmp_path: Path) -> None:
    long_paragraph = "全年共办理行政复议案件一百二十件，" * 40  # runs over a page
    text = "某县司法局2024年法治政府建设情况报告\n" + "\n".join(
        f"（{n}）第{n}项工作。" + "依法审查规范性文件，" * 12 for n in range(1, 4)
    )
    text += "\n" + long_paragraph + "\n二、存在的问题\n执法力量不足。"
    doc = load_document(official_document_pdf(text, tmp_path / "report.pdf"))
    paragraphs = [p for p in doc.text.split("\n") if p.strip()]
    assert long_paragraph in paragraphs  # rejoined across lines and the page break, nothing inserted
    assert "二、存在的问题" in paragraphs and "执法力量不足。" in paragraphs
    assert not PAGE_NUMBER.search(doc.text)
    assert paragraphs[-2:] == [COPIES_TO, f"{PRINTED_BY} 2025年1月20日印发"]  # the 版记 stays apart


def _line(text: str, left: float, right: float, y: float, size: float = 16.0) -> Line:
    return Line(text, left=left, right=right, bottom=y, top=y + size)


def _page(*lines: tuple[str, float, float], top: float = 700.0) -> list[Line]:
    return [_line(text, left, right, top - 28 * i) for i, (text, left, right) in enumerate(lines)]


MARGIN_L, MARGIN_R = 80.0, 528.0


def test_full_lines_continue_short_lines_end_and_indents_start_paragraphs() -> None:
    page = _page(
        ("第一段开头，一直写到", MARGIN_L + 32, MARGIN_R),
        ("右边距的这一行继续。", MARGIN_L, MARGIN_R),
        ("第一段到此结束。", MARGIN_L, 300.0),
        ("第二段没有缩进但上一行", MARGIN_L, MARGIN_R),
        ("未满", MARGIN_L, 120.0),
        ("第三段缩进开始。", MARGIN_L + 32, 400.0),
        ("Word", MARGIN_L + 32, MARGIN_R),
        ("Press 与中文2024年", MARGIN_L, 380.0),
    )
    text = rebuild_paragraphs([page])
    assert text is not None
    assert text.split("\n\n") == [
        "第一段开头，一直写到右边距的这一行继续。第一段到此结束。",
        "第二段没有缩进但上一行未满",
        "第三段缩进开始。",
        "Word Press 与中文2024年",
    ]


def test_running_headers_and_page_numbers_leave_only_at_the_page_edges() -> None:
    pages = []
    for n, topic in enumerate(("行政复议", "行政执法", "普法宣传", "人民调解"), start=1):
        body = _page(
            ("某某县人民政府办公室", MARGIN_L, 300.0),
            (f"{topic}工作的内容，写满一整行文字", MARGIN_L + 32, MARGIN_R),
            (f"{topic}到此结束。", MARGIN_L, 300.0),
            ("3", MARGIN_L, 100.0),  # a number inside the body
            (f"{topic}另起一段。", MARGIN_L + 32, 300.0),
        )
        pages.append([*body, _line(f"— {n} —", 400.0, 460.0, 60.0, 14.0)])
    text = rebuild_paragraphs(pages)
    assert text is not None
    assert "某某县人民政府办公室" not in text and not PAGE_NUMBER.search(text)
    assert text.count("\n\n3\n\n") == 4


def test_a_full_line_ending_a_sentence_before_an_item_number_ends_the_paragraph() -> None:
    page = _page(
        ("第一项工作写满了一整行，到此句号。", MARGIN_L, MARGIN_R),
        ("（二）第二项工作另起一段，写满一整行", MARGIN_L, MARGIN_R),
        ("继续写完。", MARGIN_L, 300.0),
        ("完成审查事项共计一百件，占比达到", MARGIN_L, MARGIN_R),
        ("2.5%。", MARGIN_L, 200.0),  # a decimal after a wrap is no item number
    )
    text = rebuild_paragraphs([page])
    assert text is not None
    assert text.split("\n\n") == [
        "第一项工作写满了一整行，到此句号。",
        "（二）第二项工作另起一段，写满一整行继续写完。",
        "完成审查事项共计一百件，占比达到2.5%。",
    ]


def test_a_scanned_page_is_rebuilt_from_the_ocr_boxes() -> None:
    """OCR boxes (pixels, y downwards) fitted to the ink: heights vary with the characters,
    a line may come as several boxes; the paragraphs are rebuilt as for a text layer."""
    boxes = [
        OcrBox(100, 100, 600, 131, "某县2024年法治政府建设报告"),
        OcrBox(100, 150, 1130, 185, "一年来，我县坚持以习近平法治思想为指导，全面推进"),
        OcrBox(98, 198, 640, 237, "法治政府建设，取得明显成效：一是"),  # taller: descenders
        OcrBox(650, 200, 1125, 235, "完善制度，二是严格执法，"),
        OcrBox(100, 250, 700, 283, "三是加强监督。"),
        OcrBox(100, 300, 1128, 335, "一、存在的不足和原因：执法人员力量不足，专业"),
        OcrBox(100, 350, 480, 385, "人才缺乏。"),
    ]
    lines = ocr_page_lines(boxes_to_lines(boxes))
    assert rebuild_paragraphs([lines], tolerances=OCR) == "\n\n".join(
        [
            "某县2024年法治政府建设报告",
            "一年来，我县坚持以习近平法治思想为指导，全面推进法治政府建设，取得明显成效："
            "一是完善制度，二是严格执法，三是加强监督。",
            "一、存在的不足和原因：执法人员力量不足，专业人才缺乏。",
        ]
    )
    # Held to a text layer's equal box heights, the taller line would end the paragraph.
    assert "全面推进\n\n法治政府建设" in (rebuild_paragraphs([lines]) or "")
