"""A small stored report for the review tests (built by hand, grounded like the pipeline's)."""

from __future__ import annotations

from pathlib import Path

from extractor.check import ground_record
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
from extractor.store import Store

DOC_ID = "lanshan-2024"
TEXT = (
    "蓝山县2024年法治政府建设年度报告\n"
    "一、主要成效\n"
    "（一）行政复议。2024年，我县受理行政复议案件37件，其中，已结案31件。\n"
    "（二）普法宣传。开展普法活动120场，发放资料4万余份。\n"
    "（三）公共法律服务。办理法律援助案件86件，挽回经济损失约8万元。\n"
    "二、存在的不足\n"
    "一是法治保障工作队伍亟需加强专业化、职业化建设。\n"
    "二是部分执法人员<script>alert('x')</script>执法能力不足<img src=x onerror=alert(1)>。\n"
    "三、下一步工作计划\n"
    "继续深挖本土法治与非遗融合的普法精品，使普法宣传更接地气。\n"
    "蓝山县司法局\n"
)


def sample_record() -> Record:
    record = Record(
        doc_id=DOC_ID,
        meta=Meta(issuer="蓝山县司法局", region="蓝山县", report_year=2024, plan_year=2025),
        achievements=[
            Achievement(
                area=Area.RECONSIDERATION,
                text="受理行政复议案件37件，已结案31件",
                evidence="2024年，我县受理行政复议案件37件，其中，已结案31件。",
                metrics=[
                    Metric(name="受理行政复议案件", value=37, unit="件", evidence="受理行政复议案件37件"),
                    Metric(name="已结案", value=31, unit="件", evidence="已结案31件"),
                ],
            ),
            Achievement(
                area=Area.OTHER,
                text="开展普法活动120场",
                evidence="开展普法活动120场，发放资料4万余份。",
                metrics=[Metric(name="普法活动", value=120, unit="场", evidence="开展普法活动120场")],
                flags=[Flag(code=FlagCode.AREA_DISAGREES, detail="rules: 普法与法治宣传")],
            ),
        ],
        problems=[
            Problem(
                area=Area.GRASSROOTS,
                text="法治保障工作队伍专业化、职业化建设不足",
                evidence="一是法治保障工作队伍亟需加强专业化、职业化建设。",
            )
        ],
        plans=[
            Plan(
                area=Area.LEGAL_EDUCATION,
                text="深挖本土法治与非遗融合的普法精品",
                evidence="继续深挖本土法治与非遗融合的普法精品，使普法宣传更接地气。",
            )
        ],
        provenance=Provenance(backend="rules"),
    )
    return ground_record(record, TEXT)


def fill_store(db_path: Path) -> str:
    """Create a SQLite store at `db_path` with the sample report extracted; returns its URL."""
    url = f"sqlite:///{db_path}"
    with Store(url) as store:
        doc = SourceDocument(doc_id=DOC_ID, path=f"/reports/{DOC_ID}.txt", text=TEXT)
        store.save_extraction(doc, sample_record(), run_id=None)
    return url


LONG_DOC_ID = "long-report"
#: A sentence that is in no item and appears twice in the long report (a selection of the
#: second one must be located there, not at the first).
REPEATED_SENTENCE = "全年开展专项执法检查12次。"


def long_report(paragraphs: int = 40) -> tuple[str, Record]:
    """A report taller than the source pane: one achievement per paragraph, each with a
    distinct summary, and REPEATED_SENTENCE (in no item) near the start and near the end."""
    lines = ["某市2024年法治政府建设年度报告", REPEATED_SENTENCE, "一、主要成效"]
    achievements = []
    for n in range(1, paragraphs + 1):
        paragraph = f"（{n}）第{n}项工作。全年办理第{n}类行政执法案件{100 + n}件，组织第{n}批执法人员培训，依法规范执法行为，提升执法质量。"
        lines.append(paragraph)
        achievements.append(
            Achievement(area=Area.OTHER, text=f"第{n}项工作办理案件{100 + n}件", evidence=paragraph)
        )
        if n == paragraphs - 5:
            lines.append(REPEATED_SENTENCE)
    lines.append("某市司法局")
    text = "\n".join(lines) + "\n"
    record = Record(
        doc_id=LONG_DOC_ID,
        meta=Meta(issuer="某市司法局", region="某市", report_year=2024),
        achievements=achievements,
        provenance=Provenance(backend="rules"),
    )
    return text, ground_record(record, text)


def fill_long_store(db_path: Path) -> str:
    """A SQLite store at `db_path` holding `long_report()`; returns its URL."""
    url = f"sqlite:///{db_path}"
    text, record = long_report()
    with Store(url) as store:
        store.save_extraction(
            SourceDocument(doc_id=LONG_DOC_ID, path=f"/reports/{LONG_DOC_ID}.txt", text=text),
            record,
            run_id=None,
        )
    return url


def fill_many_store(db_path: Path, count: int) -> str:
    """A SQLite store with `count` extracted copies of the sample report (doc ids
    `many-000`, `many-001`, …; each text told apart by a closing line); returns its URL."""
    url = f"sqlite:///{db_path}"
    with Store(url) as store:
        for n in range(count):
            doc_id = f"many-{n:03d}"
            doc = SourceDocument(doc_id=doc_id, path=f"/reports/{doc_id}.txt", text=f"{TEXT}\n（副本 {n}）")
            store.save_extraction(doc, sample_record().model_copy(update={"doc_id": doc_id}), run_id=None)
    return url
