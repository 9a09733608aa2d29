"""County CMS pages: the report in one table cell, paragraphs separated by <br>."""

from __future__ import annotations

import html as html_lib
from pathlib import Path

import pytest

from extractor.core.schema import Record
from extractor.evaluation.scoring import score_document
from extractor.load import load_document
from extractor.load.html import unwrap_layout_tables
from extractor.pipeline.run import extract_document

REPO = Path(__file__).resolve().parent.parent
SEEDS = sorted(p.stem for p in (REPO / "eval" / "docs").glob("*.txt"))


def cms_page(text: str) -> str:
    body = "<br>".join(html_lib.escape(line) for line in text.splitlines() if line.strip())
    return (
        "<html><head><meta charset='utf-8'><title>政务公开</title></head><body>"
        "<table><tr><td><a href='/'>首页</a> &gt; 政务公开 &gt; 法治政府建设</td></tr>"
        f"<tr><td class='article'>{body}</td></tr>"
        "<tr><td>主办单位：某县人民政府办公室 版权所有</td></tr></table></body></html>"
    )


def test_a_layout_table_becomes_blocks_and_a_data_table_stays() -> None:
    layout = "<table><tr><td>" + "段落" * 300 + "<br>第二段</td></tr></table>"
    assert "<td" not in unwrap_layout_tables(layout)
    data = "<table><tr><td>受理</td><td>37件</td></tr></table>"
    assert "<td>" in unwrap_layout_tables(data)


@pytest.mark.parametrize("doc_id", SEEDS)
def test_a_report_in_a_table_cell_scores_like_its_text(doc_id: str, tmp_path: Path) -> None:
    source = REPO / "eval" / "docs" / f"{doc_id}.txt"
    gold = Record.model_validate_json((REPO / "eval" / "gold" / f"{doc_id}.json").read_text(encoding="utf-8"))
    page = tmp_path / f"{doc_id}.html"
    page.write_text(cms_page(source.read_text(encoding="utf-8")), encoding="utf-8")
    plain_doc, page_doc = load_document(source), load_document(page)
    lines = [line for line in plain_doc.text.splitlines() if line.strip()]
    page_lines = [line for line in page_doc.text.splitlines() if line.strip()]
    assert len(page_lines) >= len(lines) - 2  # one paragraph per line, not one long row
    plain = score_document(extract_document(plain_doc), gold, plain_doc.text)
    as_page = score_document(extract_document(page_doc), gold, page_doc.text)
    for mine, theirs in zip(as_page.lists(), plain.lists(), strict=True):
        assert mine.f1 >= theirs.f1 - 0.03, (mine.list_name, mine.f1, theirs.f1)
    assert as_page.grounding.share == 1.0


def test_a_gbk_word_pasted_page_keeps_its_body_and_drops_the_info_table(tmp_path: Path) -> None:
    text = (REPO / "eval" / "docs" / "lanshan-2024.txt").read_text(encoding="utf-8")
    paragraphs = "".join(
        f"<p class='MsoNormal' style='text-indent:2em'><span style='font-family:仿宋_GB2312'>{html_lib.escape(line)}"
        "</span></p>"
        for line in text.splitlines()
        if line.strip()
    )
    info = (
        "<table class='info'><tr><td>索引号：</td><td>431127/2025-00012</td><td>发布机构：</td>"
        "<td>蓝山县司法局</td></tr><tr><td>发布日期：</td><td>2025-01-20</td></tr></table>"
    )
    page = (
        "<html><head><meta charset='gbk'><title>政务公开</title></head><body>"
        f"<div class='nav'>首页 &gt; 政务公开</div>{info}<div class='content'>{paragraphs}</div>"
        "<div class='footer'>主办单位：某县人民政府 版权所有</div></body></html>"
    )
    path = tmp_path / "page.html"
    path.write_bytes(page.encode("gbk", errors="xmlcharrefreplace"))
    loaded = load_document(path)
    assert loaded.publish_date_hint is not None and loaded.publish_date_hint.isoformat() == "2025-01-20"
    assert "索引号" not in loaded.text and "431127" not in loaded.text
    first_paragraph = next(line for line in text.splitlines() if len(line.strip()) > 40).strip()
    assert first_paragraph[:30] in loaded.text
