"""The one label table (`extractor.core.labels`): every code a person can meet has Chinese words."""

from __future__ import annotations

import re

import pytest

from extractor.core.labels import (
    FLAG_LABELS,
    LIST_LABELS,
    LIST_SHORT_LABELS,
    PROMPT_SECTION_LABELS,
    STATUS_LABELS,
    VERSION_KIND_LABELS,
)
from extractor.core.schema import Flag, FlagCode, ListName
from extractor.review.labels import flag_reasons, status_from_label, status_label
from extractor.store.tables import REVIEW_STATUSES, VERSION_KINDS

_CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("code", list(FlagCode))
def test_every_flag_reads_as_a_chinese_reason(code: FlagCode) -> None:
    [reason] = flag_reasons([Flag(code=code), Flag(code=code, detail="again")])
    assert reason != code.value and _CJK.search(reason)


def test_a_fallback_flag_says_the_model_call_failed() -> None:
    # Emitted when the model gave no usable answer and the rules' items were kept instead.
    [reason] = flag_reasons([Flag(code=FlagCode.SECTION_FALLBACK, detail="model call failed: timeout")])
    assert "模型调用失败" in reason and "规则" in reason


def test_flag_codes_are_the_ones_with_labels() -> None:
    assert set(FLAG_LABELS) == set(FlagCode)


@pytest.mark.parametrize("table", [LIST_LABELS, LIST_SHORT_LABELS, PROMPT_SECTION_LABELS])
def test_every_list_has_a_label_in_each_table(table: dict[ListName | None, str]) -> None:
    assert set(ListName) <= set(table)
    assert len(set(table.values())) == len(table)  # no two lists read alike


def test_prompts_name_free_extraction_too() -> None:
    assert _CJK.search(PROMPT_SECTION_LABELS[None])


@pytest.mark.parametrize("status", REVIEW_STATUSES)
def test_every_stored_status_has_a_label_that_maps_back(status: str) -> None:
    assert status in STATUS_LABELS
    assert status_from_label(status_label(status)) == status


def test_every_version_kind_has_a_label() -> None:
    assert set(VERSION_KINDS) == set(VERSION_KIND_LABELS)
    assert len(set(VERSION_KIND_LABELS.values())) == len(VERSION_KINDS)
