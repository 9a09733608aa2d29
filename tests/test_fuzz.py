"""Property tests: whatever text comes in, the offline pipeline either refuses it with a
clear error or gives a record whose every evidence passage is a verbatim slice of the text."""

from __future__ import annotations

from conftest import DOCS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractor.core.document import SourceDocument
from extractor.core.errors import ExtractorError
from extractor.core.normalise import is_verbatim, normalise
from extractor.core.schema import ListName
from extractor.pipeline.run import extract_document

# Pieces of the genre: markers, headings, punctuation, numbers, chrome, line breaks.
PIECES = [
    "一、",
    "二、",
    "（一）",
    "(二)",
    "1.",
    "2、",
    "（1）",
    "①",
    "一是",
    "二是",
    "五是",
    "第一，",
    "存在的问题和不足",
    "下一步工作计划",
    "主要举措和成效",
    "原因分析：",
    "究其原因，",
    "第一责任人",
    "2025年工作重点",
    "不足之处：",
    "产生问题的原因：",
    "主要是：",
    "工作计划：",
    "关于2024年法治政府建设情况的报告",
    "受理行政复议案件37件",
    "4万余份",
    "百分之九十五",
    "1,002人",
    "一万二千余人",
    "〔2023〕7号",
    "第二期",
    "。",
    "，",
    "；",
    "：",
    "\n",
    "\n\n",
    "　　",
    " ",
    "— 3 —",
    "发布时间：2025-02-05",
    "【打印】",
    "法治",
    "依法行政",
    "人民调解",
    "社区矫正",
    "普法宣传",
    "律师",
    "行政执法",
    "“两个确立”",
    "《民法典》",
]


@st.composite
def report_like_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=120))
    return "".join(parts)


def _check(text: str) -> None:
    doc = SourceDocument(doc_id="fuzz", path="fuzz.txt", text=text)
    try:
        record = extract_document(doc)
    except ExtractorError:
        return  # refused with a clear message: fine
    for name in ListName:
        for item in record.items(name):
            assert is_verbatim(item.evidence, text)
            assert item.span is not None and 0 <= item.span.start < item.span.end <= len(text)
            for metric in getattr(item, "metrics", []):
                assert is_verbatim(metric.evidence, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report_like_text())
def test_any_report_like_text_is_refused_or_grounded(text: str) -> None:
    _check(text)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=4), st.integers(min_value=0), st.integers(min_value=1, max_value=400)
)
def test_a_damaged_seed_is_refused_or_grounded(which: int, cut: int, length: int) -> None:
    seeds = sorted(DOCS.glob("*.txt"))
    text = seeds[which].read_text(encoding="utf-8")
    start = cut % max(1, len(text))
    _check(text[:start] + text[start + length :])


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalisation_maps_every_character_back(text: str) -> None:
    for drop in (False, True):
        norm = normalise(text, drop_whitespace=drop)
        assert len(norm.origin) == len(norm.text)
        assert all(0 <= i < len(text) for i in norm.origin)
        assert list(norm.origin) == sorted(norm.origin)
