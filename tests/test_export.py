"""Exports: what an analyst opens in Excel, and JSON Lines that load back as records."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from extractor.cli import export_cmd  # noqa: F401  (registers the command)
from extractor.cli.app import app
from extractor.core.document import SourceDocument
from extractor.core.errors import ExtractorError
from extractor.core.schema import (
    Achievement,
    Area,
    Flag,
    FlagCode,
    ListName,
    Meta,
    Metric,
    Plan,
    Problem,
    Provenance,
    Record,
    Span,
)
from extractor.store import Store
from extractor.store.export import HEADERS, display_width, export_records


def lanshan() -> Record:
    return Record(
        doc_id="lanshan-2024",
        meta=Meta(issuer="蓝山县司法局", region="蓝山县", report_year=2024, plan_year=2025),
        achievements=[
            Achievement(
                area=Area.RECONSIDERATION,
                text="受理行政复议案件37件，已结案31件",
                evidence="2024年，我县受理行政复议案件37件，其中，已结案31件。",
                span=Span(start=10, end=40),
                metrics=[
                    Metric(name="受理行政复议案件", value=37, unit="件", evidence="受理行政复议案件37件"),
                    Metric(name="已结案", value=31, unit="件", evidence="已结案31件"),
                ],
            ),
            Achievement(
                area=Area.LEGAL_SERVICES,
                text='=HYPERLINK("http://example.invalid")',  # untrusted text shaped like a formula
                evidence="办理法律援助案件86.5件，挽回损失约8万元。",
                metrics=[Metric(name="挽回损失", value=80000.0, unit="元", evidence="挽回损失约8万元")],
                flags=[Flag(code=FlagCode.METRIC_NOT_IN_EVIDENCE, detail="80000")],
            ),
        ],
        problems=[
            Problem(
                area=Area.GRASSROOTS,
                text="队伍专业化建设不足",
                evidence="一是法治保障工作队伍亟需加强专业化、职业化建设。",
                cause="人员编制少",
            )
        ],
        plans=[
            Plan(
                area=Area.LEGAL_EDUCATION,
                text="深挖普法精品",
                evidence="继续深挖本土法治与非遗融合的普法精品。",
            )
        ],
        provenance=Provenance(backend="rules"),
    )


def hubin() -> Record:
    return Record(
        doc_id="hubin-2024",
        meta=Meta(issuer="湖滨区司法局", region="湖滨区", report_year=2024),
        plans=[Plan(area=Area.DISPUTES, text="深化诉源治理", evidence="深化诉源治理。")],
        provenance=Provenance(backend="rules"),
    )


def test_jsonl_round_trips_to_records_in_the_spec_shape(tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    summary = export_records([lanshan(), hubin()], fmt="jsonl", out=out)

    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and summary.records == 2
    assert "蓝山县司法局" in lines[0]  # not \\u-escaped
    loaded = [Record.model_validate_json(line) for line in lines]
    assert loaded[0] == Record.model_validate_json(lanshan().to_json(internal=False))
    assert loaded[0].achievements[0].metrics[1].value == 31
    # Pipeline-only fields are not part of the exchange format.
    first = json.loads(lines[0])
    assert "provenance" not in first and "span" not in first["achievements"][0]


def test_csv_has_one_row_per_item_with_chinese_intact(tmp_path: Path) -> None:
    out = tmp_path / "items.csv"
    summary = export_records([lanshan(), hubin()], fmt="csv", out=out)

    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    with out.open(encoding="utf-8-sig", newline="") as stream:
        header = next(csv.reader(stream))
        stream.seek(0)
        rows = [by_key(row) for row in csv.DictReader(stream)]
    assert header[:4] == ["报告编号", "发布机关", "地区", "报告年度"]
    assert header[-4:] == ["审核人", "审核状态", "版本", "保存时间（北京时间）"]
    assert len(rows) == summary.items == 5
    assert [(r["doc_id"], r["list"], r["index"]) for r in rows] == [
        ("lanshan-2024", "成效", "1"),
        ("lanshan-2024", "成效", "2"),
        ("lanshan-2024", "不足", "1"),
        ("lanshan-2024", "计划", "1"),
        ("hubin-2024", "计划", "1"),
    ]
    first = rows[0]
    assert first["issuer"] == "蓝山县司法局" and first["area"] == "行政复议与应诉"
    assert first["evidence"] == "2024年，我县受理行政复议案件37件，其中，已结案31件。"
    assert first["metrics"] == "受理行政复议案件=37 件; 已结案=31 件" and first["metric_count"] == "2"
    assert rows[1]["metrics"] == "挽回损失=80000 元"
    assert rows[1]["flags"] == "指标数值不在其证据中"  # the reason in Chinese, not the code
    assert rows[1]["text"] == '\'=HYPERLINK("http://example.invalid")'  # kept as text, not a formula
    assert rows[2]["cause"] == "人员编制少" and rows[0]["cause"] == ""


def test_xlsx_has_a_sheet_per_list_and_one_per_metric(tmp_path: Path) -> None:
    out = tmp_path / "items.xlsx"
    export_records([lanshan(), hubin()], fmt="xlsx", out=out)

    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["成效", "不足", "计划", "指标"]
    achievements = list(book["成效"].iter_rows(values_only=True))
    assert achievements[0][:3] == ("报告编号", "发布机关", "地区") and "类别" not in achievements[0]
    assert len(achievements) == 1 + 2
    assert achievements[1][6] == "受理行政复议案件37件，已结案31件"
    assert len(list(book["不足"].iter_rows())) == 1 + 1
    assert [row[0] for row in book["计划"].iter_rows(min_row=2, values_only=True)] == [
        "lanshan-2024",
        "hubin-2024",
    ]
    formula_like = book["成效"].cell(row=3, column=7)
    assert formula_like.value.startswith("=HYPERLINK") and formula_like.data_type == "s"

    metrics = list(book["指标"].iter_rows(values_only=True))
    assert len(metrics) == 1 + 3
    assert metrics[1][7:10] == ("受理行政复议案件", 37, "件")
    assert metrics[3][4] == 2 and metrics[3][8] == 80000  # the second achievement's metric, as a number


def test_xlsx_columns_fit_their_content_within_limits(tmp_path: Path) -> None:
    out = tmp_path / "items.xlsx"
    long = lanshan()
    long.achievements[0].evidence = "开展普法活动" * 20
    export_records([long, hubin()], fmt="xlsx", out=out)
    sheet = openpyxl.load_workbook(out)["成效"]
    widths = {cell.value: sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]}
    # A short column fits its Chinese header (two units a character), a long text is capped and wraps.
    assert widths["序号"] >= display_width("序号") and widths["序号"] < 10
    assert widths["发布机关"] >= display_width("蓝山县司法局")
    assert widths["证据"] == 60 and sheet["H2"].value.startswith("开展") and sheet["H2"].alignment.wrap_text
    assert widths["摘要"] < 60
    assert widths["保存时间（北京时间）"] >= display_width("保存时间（北京时间）")


def test_text_keeps_the_reports_full_width_punctuation(tmp_path: Path) -> None:
    record = lanshan()
    record.achievements[0].text = "坚持问题导向，严抓整改落实；（一）"
    csv_out, xlsx_out = tmp_path / "items.csv", tmp_path / "items.xlsx"
    export_records([record], fmt="csv", out=csv_out)
    export_records([record], fmt="xlsx", out=xlsx_out)
    assert "坚持问题导向，严抓整改落实；（一）" in csv_out.read_text(encoding="utf-8-sig")
    assert openpyxl.load_workbook(xlsx_out)["成效"]["G2"].value == "坚持问题导向，严抓整改落实；（一）"


def test_unwritable_output_names_the_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    existing = tmp_path / "items.csv"
    existing.write_text("old export", encoding="utf-8")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")

    with pytest.raises(ExtractorError) as failed:
        export_records([lanshan()], fmt="csv", out=blocker / "items.csv")
    assert "not-a-dir" in str(failed.value)

    # A failure while writing leaves an earlier export in place.
    with pytest.raises(AttributeError):
        export_records([lanshan(), "not a record"], fmt="csv", out=existing)  # type: ignore[list-item]
    assert existing.read_text(encoding="utf-8") == "old export"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def by_key(row: dict[str, str]) -> dict[str, str]:
    """A CSV row keyed by column key instead of its Chinese header."""
    keys = {header: key for key, header in HEADERS.items()}
    return {keys[header]: value for header, value in row.items()}


def run_cli(*args: str) -> typer.testing.Result:
    # With only this command registered typer runs it without its name; with more, by name.
    command = typer.main.get_command(app)
    argv = ["export", *args] if isinstance(command, typer.core.TyperGroup) else list(args)
    return CliRunner().invoke(app, argv)


def test_export_command_writes_current_records(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'extractor.db'}"
    with Store(url) as store:
        for record in (lanshan(), hubin()):
            # The report states what the record quotes (a review save re-checks that).
            text = "\n".join(item.evidence for name in ListName for item in record.items(name))
            doc = SourceDocument(doc_id=record.doc_id, path=f"{record.doc_id}.txt", text=text)
            store.save_extraction(doc, record, run_id=None)
        reviewed = lanshan()
        reviewed.plans[0].text = "打造本土普法精品"
        store.save_review("lanshan-2024", reviewed, base_version=1, reviewer="张三", status="approved")

    out = tmp_path / "all.jsonl"
    result = run_cli("--out", str(out), "--db", url)
    assert result.exit_code == 0, result.output
    assert "exported 2 records (5 items, 3 metrics)" in result.output
    records = [Record.model_validate_json(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.doc_id for r in records] == ["hubin-2024", "lanshan-2024"]
    assert records[1].plans[0].text == "打造本土普法精品"  # the reviewed version, not the extraction

    approved = tmp_path / "approved.csv"
    result = run_cli("--format", "csv", "--out", str(approved), "--db", url, "--reviewed-only")
    assert result.exit_code == 0, result.output
    with approved.open(encoding="utf-8-sig", newline="") as stream:
        approved_rows = [by_key(row) for row in csv.DictReader(stream)]
    assert {row["doc_id"] for row in approved_rows} == {"lanshan-2024"}
    # Who approved it, how, which version and when travel with every row.
    assert {(r["reviewer"], r["status"], r["version"]) for r in approved_rows} == {("张三", "已通过", "2")}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["saved_at"]) for r in approved_rows)


def test_export_command_reports_a_bad_database_in_one_line(tmp_path: Path) -> None:
    result = run_cli("--out", str(tmp_path / "x.csv"), "--db", f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    assert result.exit_code == 1
    assert "cannot open database" in result.output
    assert "Traceback" not in result.output
