"""Traditional script (mirror sites republish county pages in it) is read like simplified:
numerals, units, area keywords, headings and regions, while records keep its characters."""

from __future__ import annotations

import pytest

from extractor.core.script import to_simplified
from extractor.extract.meta import region_of
from extractor.extract.rules.areas import classify_area
from extractor.numbers.metrics import find_metrics
from extractor.numbers.stated import value_in_text
from extractor.segment.headings import classify_heading
from extractor.segment.model import SectionKind

TRADITIONAL = "全年受理行政覆議案件兩千餘件，辦理法律援助案件四十二萬元，調解矛盾糾紛326個。"


def test_mapping_keeps_every_offset() -> None:
    assert len(to_simplified(TRADITIONAL)) == len(TRADITIONAL)
    assert to_simplified("縣人民政府關於法治政府建設") == "县人民政府关于法治政府建设"


def test_a_single_traditional_character_anywhere_is_mapped() -> None:
    # The simplified-script fast path must not miss a lone traditional character, in the
    # Basic Multilingual Plane or outside it (OpenCC maps a few astral ones too).
    from extractor.core.script import _table

    astral = next(chr(cp) for cp in _table() if cp > 0xFFFF)
    for traditional in ("縣", astral):
        text = "全年受理案件120件" + traditional + "。"
        assert to_simplified(text) == "全年受理案件120件" + _table()[ord(traditional)] + "。"
    assert to_simplified("全年受理案件120件。") == "全年受理案件120件。"


def test_metrics_in_traditional_keep_the_reports_characters() -> None:
    found = {(m.value, m.unit) for m in find_metrics(TRADITIONAL)}
    assert {(2000, "件"), (420000, "元"), (326, "個")} <= found
    names = [m.name for m in find_metrics(TRADITIONAL) if m.value == 326]
    assert names and all("糾紛" in name for name in names)  # not 纠纷
    for m in find_metrics(TRADITIONAL):
        assert TRADITIONAL[m.evidence_start : m.evidence_end]  # offsets index the original


@pytest.mark.parametrize("value", [2000, 420000, 326])
def test_values_written_in_traditional_numerals_are_stated(value: int) -> None:
    assert value_in_text(value, TRADITIONAL)


def test_area_and_headings_read_traditional_words() -> None:
    simplified = "深化法律援助，办理法律援助案件120件，推进公证服务。"
    traditional = "深化法律援助，辦理法律援助案件120件，推進公證服務。"
    assert classify_area(traditional) == classify_area(simplified)
    assert classify_heading("二、存在的問題和不足") is SectionKind.PROBLEMS
    assert classify_heading("三、下一步工作計劃") is SectionKind.PLANS


def test_region_is_returned_as_written() -> None:
    assert region_of("東岩縣人民政府") == "東岩縣"
    assert region_of("东岩县人民政府") == "东岩县"
