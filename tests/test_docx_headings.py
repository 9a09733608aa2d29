"""Word heading styles (Heading 1/2/3, 标题 1/2/3, outline levels) as structure hints.

Fixtures are made with python-docx from reports of the eval set: their 一、 section headings
are reworded plainly (no marker, no section keyword) and styled Heading 1, as a report typed
in Word with its template's heading styles looks. Scored before the change: lushan-2023
macro F1 0.518, hubin-2024 0.553 (the plain headings were read as body text).
"""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from fixtures_formats import convert_with_libreoffice, macro_f1, seed_text, soffice

from extractor.core.document import HeadingHint, LayoutHints, SourceDocument
from extractor.load import load_document
from extractor.load.common import tidy_extracted_text, tidy_extracted_text_with_origin
from extractor.segment import SectionKind, segment_report
from extractor.store import Store

TOP_MARKER = re.compile(r"^[一二三四五六七八九十]{1,3}、")
#: Section headings that name no section and carry no marker: only the style says they head.
PLAIN_HEADINGS = ("这一年", "差距在哪", "主要负责人", "往后的路")


def plain_headed_docx(doc_id: str, path: Path, *, styled: bool) -> Path:
    """The seed report as a Word file whose top-level headings are plain wordings, styled
    Heading 1 when `styled` (else plain paragraphs, as typed without the template)."""
    document = docx.Document()
    titles = iter(PLAIN_HEADINGS)
    for line in (line.strip() for line in seed_text(doc_id).splitlines()):
        if not line:
            continue
        if TOP_MARKER.match(line):
            document.add_paragraph(next(titles), style="Heading 1" if styled else None)
        else:
            document.add_paragraph(line)
    document.save(path)
    return path


def _outline_level(paragraph, value: int) -> None:
    paragraph._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="{value}"/>'))


def _headings(doc: SourceDocument) -> list[tuple[str, int]]:
    hints = doc.layout_hints
    assert hints is not None
    return [(doc.text[h.start : h.end], h.level) for h in hints.headings]


@pytest.mark.parametrize(("doc_id", "bar"), [("lushan-2023", 0.95), ("hubin-2024", 0.95)])
def test_sections_headed_only_by_heading_styles_are_found(tmp_path: Path, doc_id: str, bar: float) -> None:
    styled = plain_headed_docx(doc_id, tmp_path / f"{doc_id}.docx", styled=True)
    assert macro_f1(styled, doc_id) >= bar  # 0.518 / 0.553 before heading styles were read
    report = segment_report(load_document(styled))
    kinds = [s.kind for s in report.sections]
    assert kinds[0] is SectionKind.ACHIEVEMENTS and kinds[-1] is SectionKind.PLANS
    assert SectionKind.PROBLEMS in kinds
    assert [s.heading for s in report.sections if s.heading in PLAIN_HEADINGS] == [
        h for h in PLAIN_HEADINGS if h in [s.heading for s in report.sections]
    ]


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_heading_styles_survive_libreoffice_formats(tmp_path: Path) -> None:
    """.doc and .odt reach the .docx reader through LibreOffice: their heading styles too."""
    styled = plain_headed_docx("hubin-2024", tmp_path / "hubin-2024.docx", styled=True)
    for target in ("doc", "odt"):
        (converted,) = convert_with_libreoffice([styled], target, tmp_path / target)
        doc = load_document(converted)
        assert [text for text, _ in _headings(doc)] == list(PLAIN_HEADINGS[:3])
        assert macro_f1(converted, "hubin-2024") >= 0.95


def test_the_same_report_without_styles_segments_as_its_text(tmp_path: Path) -> None:
    plain = load_document(plain_headed_docx("lushan-2023", tmp_path / "plain.docx", styled=False))
    assert plain.layout_hints is None
    as_text = tmp_path / "plain.txt"
    as_text.write_text(plain.text, encoding="utf-8")
    from_text = load_document(as_text, doc_id="plain")
    assert segment_report(plain) == segment_report(from_text)


def test_loader_reads_heading_styles_outline_levels_and_based_on_chains(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("关于2024年法治政府建设情况的报告", style="Title")
    document.add_paragraph("")  # an empty paragraph and trailing spaces: offsets shift when tidied
    document.add_paragraph("正文开头。   ")
    document.add_paragraph("回望这一年", style="Heading 1")
    chinese = document.styles.add_style("标题 2", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("严格规范执法", style=chinese)
    derived = document.styles.add_style("报告小标题", WD_STYLE_TYPE.PARAGRAPH)
    derived.base_style = document.styles["Heading 3"]
    document.add_paragraph("执法监督", style=derived)
    _outline_level(document.add_paragraph("直接设了大纲级别"), 1)
    _outline_level(document.add_paragraph("标题样式但正文级别", style="Heading 1"), 9)
    table = document.add_table(rows=1, cols=1)
    cell = table.rows[0].cells[0]
    cell.paragraphs[
        0
    ].text = "单元格里的正文，比一个数据单元格长得多，所以这是排版用的表格，里面放着报告的正文。"
    cell.add_paragraph("表格里的标题", style="Heading 1")
    document.add_paragraph("结尾。")
    path = tmp_path / "styles.docx"
    document.save(path)

    doc = load_document(path)
    assert _headings(doc) == [
        ("回望这一年", 1),
        ("严格规范执法", 2),
        ("执法监督", 3),
        ("直接设了大纲级别", 2),
        ("表格里的标题", 1),
    ]


def test_tidying_with_origin_gives_the_tidied_text_and_where_each_character_came_from() -> None:
    for raw in ("a\r\nb\r c\x0c\x01d  \n\n\n\n e\u3000 \n", "\n\n  x \r\n\r\n\r\n\r\ny\t\n\x0c", " ", "abc"):
        tidied, origin = tidy_extracted_text_with_origin(raw)
        assert tidied == tidy_extracted_text(raw)
        assert origin == sorted(origin) and len(origin) == len(tidied)
        assert all(
            raw[i] == c or (c == "\n" and raw[i] in "\r\x0c") for c, i in zip(tidied, origin, strict=True)
        )


def _styled_report(path: Path, *, styled: bool) -> Path:
    """A small report: title styled once, sections at Heading 2, a sub-heading at Heading 3."""
    document = docx.Document()
    document.add_paragraph("某县司法局年度报告", style="Heading 1" if styled else None)
    lines = [
        ("回望这一年", 2),
        ("规范执法", 3),
        ("开展行政执法案卷评查，全年评查案卷120卷，发现并督促整改问题案卷8卷，执法质量明显提升。", None),
        ("办理行政复议案件35件，纠错率10%，行政机关负责人出庭应诉率100%。", None),
        ("法治宣传", 3),
        ("逐项整改上年度督察指出的问题和不足", None),
        (
            "组织执法人员培训4期，培训300人次，新增持证执法人员56名，执法队伍结构持续优化，"
            "执法能力和水平得到进一步提升。",
            None,
        ),
        ("差距在哪", 2),
        (
            "一是执法人员专业素质参差不齐，部分执法人员对新修订的法律法规掌握不够，个别案件存在程序不规范的问题。",
            None,
        ),
        ("二是普法宣传的针对性和实效性还不够强，普法形式较为单一，群众参与度不高。", None),
        ("往后的路", 2),
        ("一是持续深化行政执法规范化建设，全面落实行政执法三项制度，开展执法人员轮训。", None),
        ("二是创新普法宣传方式，推进法治文化阵地建设，提升群众法治意识。", None),
    ]
    for text, level in lines:
        document.add_paragraph(text, style=f"Heading {level}" if styled and level else None)
    document.save(path)
    return path


def test_a_short_unstyled_line_is_body_text_in_a_file_that_styles_its_headings(tmp_path: Path) -> None:
    styled = segment_report(load_document(_styled_report(tmp_path / "styled.docx", styled=True)))
    work = [s for s in styled.sections if s.kind is SectionKind.ACHIEVEMENTS]
    assert [s.heading for s in styled.sections] == ["回望这一年", "差距在哪", "往后的路"]
    doc = load_document(tmp_path / "styled.docx")
    work_texts = [doc.text[p.span.start : p.span.end] for s in work for p in s.points]
    # The short line reads like a problems heading (问题和不足) but the file says it is body text.
    assert "逐项整改上年度督察指出的问题和不足" in work_texts
    # The sub-heading heads the points under it instead of being an item of its own.
    assert "规范执法" not in work_texts
    assert [p.context for p in work[0].points] == [["回望这一年", "规范执法"]] * 2 + [
        ["回望这一年", "法治宣传"]
    ] * 2
    assert [s.kind for s in styled.sections] == [
        SectionKind.ACHIEVEMENTS,
        SectionKind.PROBLEMS,
        SectionKind.PLANS,
    ]

    # Without the styles the same short line is taken for a problems heading by its wording.
    plain = segment_report(load_document(_styled_report(tmp_path / "plain.docx", styled=False)))
    assert "逐项整改上年度督察指出的问题和不足" in [s.heading for s in plain.sections]


def test_the_store_keeps_a_documents_layout_hints(tmp_path: Path) -> None:
    doc = load_document(plain_headed_docx("hubin-2024", tmp_path / "hubin.docx", styled=True))
    assert doc.layout_hints is not None
    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        store.upsert_document(doc)
        rebuilt = store.source_document(doc.doc_id)
        assert rebuilt is not None and rebuilt.layout_hints == doc.layout_hints
        assert segment_report(rebuilt) == segment_report(doc)
        # The same text loaded from a plain-text file: the row follows the latest file.
        store.upsert_document(doc.model_copy(update={"layout_hints": None, "format": "txt"}))
        again = store.source_document(doc.doc_id)
        assert again is not None and again.layout_hints is None


def test_hints_are_validated_spans() -> None:
    with pytest.raises(ValueError):
        HeadingHint(start=3, end=3, level=1)
    assert LayoutHints().headings == ()
