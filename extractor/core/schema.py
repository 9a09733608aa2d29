"""The record format: pydantic models are the single source of truth.

Extractor output, reviewed records and gold files share this shape (see
shared/spec/gold-format.md). Fields beyond the spec (`span`, `alignment`, `flags`,
`provenance`) are optional, so a plain gold file validates unchanged.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, model_validator
from pydantic_core import CoreSchema, core_schema

if TYPE_CHECKING:
    from pydantic.main import IncEx

SCHEMA_VERSION: Final = 1


class Area(StrEnum):
    """The closed list of policy areas."""

    LEADERSHIP = "统筹推进与党的领导"
    RULEMAKING = "制度建设与依法决策"
    ENFORCEMENT = "行政执法与监督"
    RECONSIDERATION = "行政复议与应诉"
    LEGAL_EDUCATION = "普法与法治宣传"
    LEGAL_SERVICES = "公共法律服务"
    DISPUTES = "矛盾纠纷化解"
    CORRECTIONS = "社区矫正与安置帮教"
    GRASSROOTS = "基层基础与队伍建设"
    OTHER = "其他"


class Period(StrEnum):
    ANNUAL = "annual"
    HALF_YEAR = "half_year"


class ListName(StrEnum):
    """The three item lists of a record."""

    ACHIEVEMENTS = "achievements"
    PROBLEMS = "problems"
    PLANS = "plans"


class AlignmentStatus(StrEnum):
    """How an evidence passage was located in the source (langextract style)."""

    EXACT = "exact"  # verbatim after NFKC + whitespace removal
    FUZZY = "fuzzy"  # located by character-level fuzzy alignment; needs review
    NONE = "none"  # not found in the source; needs review


class FlagCode(StrEnum):
    """Why a reviewer should look at an item."""

    UNALIGNED = "unaligned"
    FUZZY_ALIGNMENT = "fuzzy_alignment"
    METRIC_NOT_IN_EVIDENCE = "metric_not_in_evidence"
    SECTION_FALLBACK = "section_fallback"
    AREA_DISAGREES = "area_disagrees"
    #: The learned area classifier (trained on the labelled reports) reads another area.
    AREA_MODEL_DISAGREES = "area_model_disagrees"
    BOUNDARY_DISAGREES = "boundary_disagrees"
    METRICS_DISAGREE = "metrics_disagree"
    #: Two metrics of one item state the same value and unit: a number repeated for the same
    #: matter counts once (labelling rules), so one of them may be a double count.
    METRIC_REPEATED = "metric_repeated"
    #: A metric stated as an intention (拟/预计/力争…): a target, not a result achieved.
    METRIC_INTENDED = "metric_intended"
    #: A metric counting the parts the text is organised into (4个方面, 三项举措): a named set,
    #: which the labelling rules do not count as a metric.
    METRIC_COUNTS_A_SET = "metric_counts_a_set"
    VALIDATION_FAILED = "validation_failed"
    #: The model's structure outline moved or re-kinded this item's point (segmenter disagreed).
    OUTLINE_CHANGED = "outline_changed"
    #: The report gives a separate block of causes for this problems section, and the model
    #: gave none of them to any of its problems.
    CAUSE_BLOCK_UNUSED = "cause_block_unused"
    #: A cause the model gave that the report's text does not support.
    CAUSE_UNSUPPORTED = "cause_unsupported"
    #: Record level: a meta field the model gave that the text shown does not state.
    META_UNSUPPORTED = "meta_unsupported"
    #: The rules backend found this item; the model's answer left it out.
    MODEL_LEFT_OUT = "model_left_out"
    #: Rules backend: no area keyword matched, so the area is the default 其他.
    AREA_DEFAULT = "area_default"
    #: Rules backend: another area's keywords scored nearly as high as the chosen one's.
    AREA_UNCERTAIN = "area_uncertain"
    #: Rules backend: a long passage stating several figures (metrics most often go wrong there).
    METRICS_DENSE = "metrics_dense"
    #: Rules backend: the item's section was found without a heading (a run-in label or cue).
    NO_SECTION_HEADING = "no_section_heading"
    #: Rules backend: the item is a paragraph with no enumeration marker of its own.
    UNMARKED_POINT = "unmarked_point"


class _WrittenAsText:
    """Marks a StrEnum field to be written by pydantic's string serializer.

    Validation is the enum's own (only its values pass, giving its members). A member is a
    str whose text is its value, so the string serializer writes the same JSON as the enum
    serializer, and `model_dump(mode="json")` gives the same plain strings; only JSON output
    is cheaper: the enum serializer asks each member for `.value`, a Python-level property,
    some 130 times a record and twice per record (store and JSON file). `model_dump()`
    still gives the members themselves.
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return {**handler(source), "serialization": core_schema.simple_ser_schema("str")}


_AS_TEXT: Final = _WrittenAsText()


class Span(BaseModel):
    """Half-open character interval [start, end) into the original document text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} before start {self.start}")
        return self


class Flag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[FlagCode, _AS_TEXT]
    detail: str = ""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class Metric(_Strict):
    name: str
    value: int | float
    unit: str
    evidence: str
    span: Span | None = None
    alignment: Annotated[AlignmentStatus, _AS_TEXT] | None = None


class _Item(_Strict):
    area: Annotated[Area, _AS_TEXT]
    text: str
    evidence: str
    span: Span | None = None
    alignment: Annotated[AlignmentStatus, _AS_TEXT] | None = None
    flags: list[Flag] = Field(default_factory=list)
    #: How likely the item is right, from its flags weighted by how often each flag has
    #: marked a wrong item on the eval documents (`extractor.check.confidence`); None: not rated.
    confidence: float | None = None
    #: True when the confidence is below the calibrated bar: a reviewer should look first.
    needs_review: bool = False

    @property
    def flagged(self) -> bool:
        """Whether a reviewer should look first: the calibrated verdict where the item was
        rated, else any flag (records written before ratings existed)."""
        return self.needs_review if self.confidence is not None else bool(self.flags)


class Achievement(_Item):
    metrics: list[Metric] = Field(default_factory=list)


class Problem(_Item):
    cause: str | None = None


class Plan(_Item):
    pass


Item = Achievement | Problem | Plan


class Meta(_Strict):
    issuer: str | None = None
    region: str | None = None
    report_year: int | None = None
    period: Annotated[Period, _AS_TEXT] | None = None
    plan_year: int | None = None
    publish_date: dt.date | None = None


class Provenance(_Strict):
    """Where a record came from. Never holds secrets (no API keys, no headers)."""

    backend: str
    model: str | None = None
    prompt_hash: str | None = None
    source_path: str | None = None
    source_sha256: str | None = None
    source_format: str | None = None
    ocr: bool = False
    extracted_at: dt.datetime | None = None
    reviewed_by: str | None = None


class LeftOutItem(_Strict):
    """An item one backend found and the final record does not contain."""

    list_name: Annotated[ListName, _AS_TEXT]
    item: Achievement | Problem | Plan


class Record(_Strict):
    """One report's structured record."""

    schema_version: Literal[1] = SCHEMA_VERSION
    doc_id: str
    meta: Meta = Field(default_factory=Meta)
    achievements: list[Achievement] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    plans: list[Plan] = Field(default_factory=list)
    provenance: Provenance | None = None
    #: Record-level findings (e.g. a meta field the model gave that the text does not state).
    flags: list[Flag] = Field(default_factory=list)
    #: Items the rules backend found that the model's answer left out: not in the lists
    #: (not scored), kept for reviewers to confirm or dismiss, each flagged MODEL_LEFT_OUT.
    left_out: list[LeftOutItem] = Field(default_factory=list)

    def items(self, list_name: ListName | str) -> list[Achievement] | list[Problem] | list[Plan]:
        return getattr(self, ListName(list_name).value)

    def to_json(self, *, internal: bool = True) -> str:
        """JSON in the record format (`ensure_ascii=False` equivalent: pydantic keeps UTF-8).

        `internal=False` drops pipeline-only fields, giving exactly the spec's shape.
        """
        return self.to_json_bytes(internal=internal).decode("utf-8")

    def to_json_bytes(self, *, internal: bool = True) -> bytes:
        """`to_json` encoded as UTF-8, as pydantic writes it (a file writer needs no str)."""
        exclude = None if internal else _INTERNAL_FIELDS
        return self.__pydantic_serializer__.to_json(self, indent=2, exclude=exclude, exclude_none=False)


# What `to_json(internal=False)` leaves out: the pipeline's own fields on items and metrics.
_LOCATION_FIELDS: dict[str, bool] = {"span": True, "alignment": True}
_ITEM_INTERNAL: dict[str, IncEx | bool] = {
    **_LOCATION_FIELDS,
    "flags": True,
    "confidence": True,
    "needs_review": True,
}
_ACHIEVEMENT_INTERNAL: dict[str, IncEx | bool] = {**_ITEM_INTERNAL, "metrics": {"__all__": _LOCATION_FIELDS}}
_INTERNAL_FIELDS: dict[str, IncEx | bool] = {
    "provenance": True,
    "flags": True,
    "left_out": True,
    "achievements": {"__all__": _ACHIEVEMENT_INTERNAL},
    "problems": {"__all__": _ITEM_INTERNAL},
    "plans": {"__all__": _ITEM_INTERNAL},
}


def record_json_schema() -> dict:
    """JSON Schema of the record (what `extractor schema` prints)."""
    return Record.model_json_schema()
