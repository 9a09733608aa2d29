"""The record's enum fields are written by pydantic's string serializer (a speed-up,
core/schema.py `_WrittenAsText`): the JSON, the JSON-mode dump and the JSON Schema must be
exactly what the enum serializer gives, for every member, and validation must still refuse
what is not a member."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from extractor.core.schema import (
    Achievement,
    AlignmentStatus,
    Area,
    Flag,
    FlagCode,
    LeftOutItem,
    ListName,
    Meta,
    Metric,
    Period,
    Record,
    Span,
)


class _PlainFlag(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: FlagCode
    detail: str = ""


class _PlainMetric(BaseModel):
    name: str
    value: int | float
    unit: str
    evidence: str
    span: Span | None = None
    alignment: AlignmentStatus | None = None


class _PlainArea(BaseModel):
    area: Area
    alignment: AlignmentStatus | None = None


class _PlainPeriod(BaseModel):
    period: Period | None = None


class _PlainListName(BaseModel):
    list_name: ListName


def _same_output(ours: BaseModel, plain: BaseModel) -> None:
    assert ours.model_dump_json() == plain.model_dump_json()
    assert ours.model_dump_json(indent=2) == plain.model_dump_json(indent=2)
    dumped, expected = ours.model_dump(mode="json"), plain.model_dump(mode="json")
    assert dumped == expected
    # Plain strings, as the enum serializer gives (a JSON column or a YAML writer gets str).
    assert [type(v) for v in dumped.values()] == [type(v) for v in expected.values()]
    # Python mode keeps the members themselves.
    assert ours.model_dump() == plain.model_dump()


@pytest.mark.parametrize("code", list(FlagCode))
def test_flag_codes_are_written_as_the_enum_serializer_writes_them(code: FlagCode) -> None:
    _same_output(Flag(code=code, detail="说明"), _PlainFlag(code=code, detail="说明"))


@pytest.mark.parametrize("alignment", [*AlignmentStatus, None])
def test_metric_alignments_are_written_as_the_enum_serializer_writes_them(
    alignment: AlignmentStatus | None,
) -> None:
    fields = {
        "name": "办理案件",
        "value": 12.5,
        "unit": "件",
        "evidence": "办理案件12.5件",
        "alignment": alignment,
    }
    _same_output(
        Metric(**fields, span=Span(start=1, end=9)), _PlainMetric(**fields, span=Span(start=1, end=9))
    )


@pytest.mark.parametrize("area", list(Area))
def test_item_areas_and_alignments_are_written_as_the_enum_serializer_writes_them(area: Area) -> None:
    for alignment in (*AlignmentStatus, None):
        item = Achievement(area=area, text="t", evidence="e", alignment=alignment)
        written = json.loads(item.model_dump_json())
        assert (written["area"], written["alignment"]) == (area.value, alignment and alignment.value)
        plain = _PlainArea(area=area, alignment=alignment).model_dump_json()
        assert item.model_dump_json(include={"area", "alignment"}) == plain


@pytest.mark.parametrize("period", [*Period, None])
def test_periods_are_written_as_the_enum_serializer_writes_them(period: Period | None) -> None:
    assert (
        Meta(period=period).model_dump(mode="json")["period"]
        == _PlainPeriod(period=period).model_dump(mode="json")["period"]
    )
    assert (
        Meta(period=period).model_dump_json(include={"period"})
        == _PlainPeriod(period=period).model_dump_json()
    )


@pytest.mark.parametrize("list_name", list(ListName))
def test_left_out_list_names_are_written_as_the_enum_serializer_writes_them(list_name: ListName) -> None:
    item = Achievement(area=Area.OTHER, text="t", evidence="e")
    left = LeftOutItem(list_name=list_name, item=item)
    assert (
        left.model_dump_json(include={"list_name"}) == _PlainListName(list_name=list_name).model_dump_json()
    )
    assert left.model_dump(mode="json")["list_name"] == list_name.value


def test_a_record_read_back_from_its_json_is_the_same_record_with_members() -> None:
    record = Record(
        doc_id="r",
        meta=Meta(period=Period.HALF_YEAR),
        achievements=[
            Achievement(
                area=Area.DISPUTES,
                text="t",
                evidence="e",
                alignment=AlignmentStatus.FUZZY,
                flags=[Flag(code=FlagCode.AREA_DEFAULT)],
            )
        ],
        left_out=[
            LeftOutItem(list_name=ListName.PLANS, item=Achievement(area=Area.OTHER, text="x", evidence="y"))
        ],
    )
    again = Record.model_validate_json(record.to_json())
    assert again == record
    assert again.achievements[0].area is Area.DISPUTES
    assert again.achievements[0].flags[0].code is FlagCode.AREA_DEFAULT
    assert again.meta.period is Period.HALF_YEAR


def test_validation_still_takes_only_the_members() -> None:
    class _Other(StrEnum):
        A = "not an area"

    with pytest.raises(ValidationError):
        Achievement(area="not an area", text="t", evidence="e")
    with pytest.raises(ValidationError):
        Achievement(area=_Other.A, text="t", evidence="e")
    with pytest.raises(ValidationError):
        Flag(code="no such flag")
    assert Achievement(area="其他", text="t", evidence="e").area is Area.OTHER


def test_the_json_schema_still_lists_the_enum_values() -> None:
    schema = Record.model_json_schema()
    assert schema["$defs"]["Area"]["enum"] == [area.value for area in Area]
    assert schema["$defs"]["FlagCode"]["enum"] == [code.value for code in FlagCode]
    assert Record.model_json_schema(mode="serialization")["$defs"]["Area"]["enum"] == [a.value for a in Area]
