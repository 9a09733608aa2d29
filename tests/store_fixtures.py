"""The sample report and its record shared by the store's tests."""

from __future__ import annotations

import datetime as dt

from extractor.check import check_record
from extractor.core.document import SourceDocument
from extractor.core.schema import (
    Achievement,
    Area,
    Flag,
    FlagCode,
    Meta,
    Metric,
    Plan,
    Problem,
    Provenance,
    Record,
)

TEXT = (
    "蓝山县2024年法治政府建设年度报告\n"
    "一、主要成效\n（一）行政复议。2024年，我县受理行政复议案件37件，其中，已结案31件。\n"
    "（二）普法宣传。开展普法活动120场，发放资料4万余份。\n"
    "二、存在的不足\n一是法治保障工作队伍亟需加强专业化、职业化建设。\n"
    "三、下一步工作计划\n继续深挖本土法治与非遗融合的普法精品。\n"
)


def make_doc(
    *, path: str = "/reports/lanshan-2024.txt", text: str = TEXT, doc_id: str = "lanshan-2024"
) -> SourceDocument:
    return SourceDocument(doc_id=doc_id, path=path, text=text)


def make_record(
    doc_id: str = "lanshan-2024",
    *,
    backend: str = "rules",
    model: str | None = None,
    extracted_at: dt.datetime | None = None,
    source_path: str = "/reports/lanshan-2024.txt",
) -> Record:
    """The sample report's record: 2 achievements (3 metrics, 1 flag), 1 problem, 1 plan."""
    reconsideration = Achievement(
        area=Area.RECONSIDERATION,
        text="受理行政复议案件37件，已结案31件",
        evidence="2024年，我县受理行政复议案件37件，其中，已结案31件。",
        metrics=[
            Metric(name="受理行政复议案件", value=37, unit="件", evidence="受理行政复议案件37件"),
            Metric(name="已结案", value=31, unit="件", evidence="已结案31件"),
        ],
    )
    education = Achievement(
        area=Area.LEGAL_EDUCATION,
        text="开展普法活动120场",
        evidence="开展普法活动120场，发放资料4万余份。",
        metrics=[Metric(name="普法活动", value=120, unit="场", evidence="开展普法活动120场")],
        flags=[Flag(code=FlagCode.METRICS_DISAGREE)],
    )
    problem = Problem(area=Area.GRASSROOTS, text="队伍专业化、职业化建设不足", evidence="一是法治保障工作队伍亟需加强专业化、职业化建设。")  # fmt: skip
    plan = Plan(
        area=Area.LEGAL_EDUCATION, text="深挖普法精品", evidence="继续深挖本土法治与非遗融合的普法精品。"
    )
    extracted_at = extracted_at or dt.datetime.now(dt.UTC)
    # Located and judged as the pipeline leaves every record (a save re-checks it the same way).
    return check_record(
        Record(
            doc_id=doc_id,
            meta=Meta(issuer="蓝山县司法局", region="蓝山县", report_year=2024),
            achievements=[reconsideration, education],
            problems=[problem],
            plans=[plan],
            provenance=Provenance(
                backend=backend, model=model, source_path=source_path, extracted_at=extracted_at
            ),
        ),
        TEXT,
    )


def edited(record: Record, *, area: Area = Area.OTHER, issuer: str | None = None) -> Record:
    """A reviewer's edit: the first achievement's area (and optionally the issuer)."""
    new = record.model_copy(deep=True)
    new.achievements[0].area = area
    if issuer is not None:
        new.meta.issuer = issuer
    return new
