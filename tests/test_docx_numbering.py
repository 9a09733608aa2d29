"""Word files whose 一、（一）1. come from automatic numbering (numbering.xml, not the text)."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from extractor.core.schema import Record
from extractor.evaluation.scoring import score_document
from extractor.load import load_document
from extractor.load.numbering import chinese_count, format_number
from extractor.pipeline.run import extract_document

REPO = Path(__file__).resolve().parent.parent
#: Word levels used by Chinese official documents: 一、 / （一） / 1. / （1）
LEVELS = (
    ("chineseCounting", "%1、"),
    ("chineseCounting", "（%2）"),
    ("decimal", "%3."),
    ("decimal", "（%4）"),
)
MARKERS = (
    re.compile(r"^[一二三四五六七八九十]{1,3}、"),
    re.compile(r"^[（(][一二三四五六七八九十]{1,3}[)）]"),
    re.compile(r"^\d{1,2}[.．、](?!\d)"),
    re.compile(r"^[（(]\d{1,2}[)）]"),
)


def _add_numbering(document) -> str:
    """Define one multi-level list (LEVELS) in the document; returns its numId."""
    numbering = document.part.numbering_part.element
    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/></w:lvl>'
        for i, (fmt, text) in enumerate(LEVELS)
    )
    numbering.append(
        parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">{levels}</w:abstractNum>')
    )
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    return "90"


def _number(paragraph, num_id: str, level: int) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(
        parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>')
    )


def auto_numbered_docx(text: str, path: Path) -> Path:
    """The report as Word would hold it when typed with automatic numbering: each line's
    own 一、/（一）/1./（1） removed from the text and given as a list level instead."""
    document = docx.Document()
    num_id = _add_numbering(document)
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        level = next((i for i, marker in enumerate(MARKERS) if marker.match(line)), None)
        body = MARKERS[level].sub("", line, count=1) if level is not None else line
        paragraph = document.add_paragraph(body)
        if level is not None:
            _number(paragraph, num_id, level)
    document.save(path)
    return path


@pytest.mark.parametrize(
    ("n", "text"), [(1, "一"), (10, "十"), (11, "十一"), (20, "二十"), (105, "一百零五")]
)
def test_chinese_counting(n: int, text: str) -> None:
    assert chinese_count(n) == text


def test_formats() -> None:
    assert [format_number(3, f) for f in ("decimal", "ideographTraditional", "decimalEnclosedCircle")] == [
        "3",
        "丙",
        "③",
    ]


def test_labels_follow_levels_and_restart_under_a_new_parent(tmp_path: Path) -> None:
    text = "一、成效\n（一）复议\n1.受理\n2.办结\n（二）普法\n1.活动\n二、问题\n（一）短板"
    path = auto_numbered_docx(text, tmp_path / "n.docx")
    assert "一、" not in "".join(p.text for p in docx.Document(path).paragraphs)  # really automatic
    loaded = load_document(path)
    assert loaded.text.splitlines() == text.splitlines()


@pytest.mark.parametrize("doc_id", sorted(p.stem for p in (REPO / "eval" / "docs").glob("*.txt")))
def test_an_auto_numbered_report_scores_like_its_text(doc_id: str, tmp_path: Path) -> None:
    source = REPO / "eval" / "docs" / f"{doc_id}.txt"
    gold = Record.model_validate_json((REPO / "eval" / "gold" / f"{doc_id}.json").read_text(encoding="utf-8"))
    plain_doc = load_document(source)
    word_doc = load_document(auto_numbered_docx(plain_doc.text, tmp_path / f"{doc_id}.docx"))
    plain = score_document(extract_document(plain_doc), gold, plain_doc.text)
    as_word = score_document(extract_document(word_doc), gold, word_doc.text)
    for mine, theirs in zip(as_word.lists(), plain.lists(), strict=True):
        assert mine.f1 >= theirs.f1 - 0.03, (mine.list_name, mine.f1, theirs.f1)
    assert as_word.grounding.share == 1.0


def test_numbering_switched_off_adds_nothing(tmp_path: Path) -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("正文")
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="0"/></w:numPr>'))
    document.save(tmp_path / "off.docx")
    assert load_document(tmp_path / "off.docx").text.strip() == "正文"
