"""The variant makers themselves (tests/variants.py): if these fail, the robustness cases in
test_variants.py measure nothing."""

from __future__ import annotations

import itertools

import pytest
from conftest import DOCS, SEED_IDS
from variants import (
    FOOTER_LINE,
    PLAN_HEADINGS,
    PROBLEM_HEADINGS,
    heading_kind,
    pdf_copy,
    reword_headings,
    swap_punctuation,
    to_encoding,
    to_html,
    web_chrome,
)

from extractor.core.normalise import matching_key

REWORD_SEEDS = range(6)  # between them, every wording in PROBLEM_HEADINGS and PLAN_HEADINGS


def seed_text(doc_id: str) -> str:
    return (DOCS / f"{doc_id}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("doc_id", SEED_IDS)
def test_pdf_copy_breaks_lines_numbers_and_pages(doc_id: str) -> None:
    text = seed_text(doc_id)
    copied = pdf_copy(text)
    lines = copied.split("\n")[:-1]
    body = [line for line in lines if not FOOTER_LINE.match(line)]
    assert all(line.strip() for line in lines), "no blank lines"
    assert max(len(line) for line in body) <= 36 + 3  # a closing mark may hang at the end
    assert any(a[-1:].isdigit() and b[:1].isdigit() for a, b in itertools.pairwise(body))
    assert sum(bool(FOOTER_LINE.match(line)) for line in lines) >= len(body) // 44
    assert matching_key("".join(body)) == matching_key(text)
    indented = pdf_copy(text, indent=True)
    assert indented.startswith("\u3000\u3000") and matching_key(indented) == matching_key(copied)


def test_web_chrome_wraps_the_report_in_page_furniture() -> None:
    text = seed_text("lanshan-2024")
    page = web_chrome(text, published="2025-03-01", site="蓝山县人民政府")
    head, tail = page.split(text.strip("\n"))
    for part in (
        "首页 > 政务公开",
        "索引号",
        "发布时间：2025-03-01",
        "来源",
        "浏览次数",
        "【字体：大 中 小】【打印】【关闭】",
    ):
        assert part in head
    for part in ("上一篇", "下一篇", "主办单位", "版权所有", "ICP备", "【打印本页】【关闭窗口】"):
        assert part in tail


def test_swap_punctuation_changes_only_punctuation_width() -> None:
    text = seed_text("lushan-2023") + "\n共1,200人，9:30开始（试点）！"
    half = swap_punctuation(text, "to_half")
    full = swap_punctuation(half, "to_full")
    assert len(half) == len(full) == len(text)
    assert not set("，：；（）！？") & set(half)
    assert "1,200" in full and "9:30" in full and "（试点）！" in full
    assert matching_key(half) == matching_key(full) == matching_key(text)
    with pytest.raises(ValueError):
        swap_punctuation(text, "sideways")


@pytest.mark.parametrize("doc_id", SEED_IDS)
def test_reword_headings_changes_only_problem_and_plan_headings(doc_id: str) -> None:
    text = seed_text(doc_id)
    for seed in REWORD_SEEDS:
        reworded = reword_headings(text, seed)
        before, after = text.split("\n"), reworded.split("\n")
        assert len(before) == len(after)
        for old, new in zip(before, after, strict=True):
            if old == new:
                continue
            kind = heading_kind(old)
            if kind is None:  # a run-in lead that introduces the plans
                assert old.rstrip()[-1] in "：:" and new.rstrip()[-1] in "：:"
                continue
            assert heading_kind(new) == kind
            for year in ("2022年", "2023年", "2024年", "2025年"):
                assert (year in old) == (year in new)
    assert reword_headings(text, 0) != text


def test_reword_headings_covers_every_wording() -> None:
    used: set[str] = set()
    for doc_id in SEED_IDS:
        for seed in REWORD_SEEDS:
            for line in reword_headings(seed_text(doc_id), seed).split("\n"):
                used.update(w for w in (*PROBLEM_HEADINGS, *PLAN_HEADINGS) if line.strip().endswith(w))
    assert used == set(PROBLEM_HEADINGS) | set(PLAN_HEADINGS)


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_to_encoding_round_trips(encoding: str) -> None:
    for doc_id in SEED_IDS:
        text = seed_text(doc_id)
        data = to_encoding(text, encoding, crlf=True)
        assert matching_key(data.decode(encoding)) == matching_key(text)
        assert b"\r\n" in data
    with pytest.raises(UnicodeEncodeError):
        to_encoding("法治\U00020bb7", "gbk")


def test_to_html_escapes_and_keeps_every_paragraph() -> None:
    text = "某县司法局2024年工作报告\n\n第一段<script>alert(1)</script>&。\n第二段。"
    page = to_html(text, "某县司法局2024年工作报告", site="某县人民政府", published="2025-01-02")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert '<div class="content">' in page and "<p>第二段。</p>" in page
    assert "发布时间：2025-01-02" in page and 'class="sidebar"' in page and 'class="nav"' in page
