"""`extractor analyse` over stored records, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_data import gold_records, save
from openpyxl import load_workbook
from pg import pg_server, sqlite_and_postgres_db_url  # noqa: F401  (fixtures: pg_server, db_url)
from typer.testing import CliRunner

from extractor.analysis import load_records
from extractor.cli.app import app, register_commands
from extractor.store import Store

register_commands()
runner = CliRunner()


@pytest.fixture
def filled(db_url: str) -> str:
    """All eight reports approved, except 白沙镇 2024: only extracted, not reviewed."""
    with Store(db_url) as store:
        for record in gold_records():
            save(store, record, status=None if record.doc_id == "baisha-2024" else "approved")
    return db_url


def test_only_approved_records_count_by_default(filled: str) -> None:
    with Store(filled) as store:
        approved = load_records(store)
        everything = load_records(store, status="all")
    assert len(approved) == 7 and "baisha-2024" not in {r.doc_id for r in approved}
    assert {r.status for r in approved} == {"approved"}
    assert len(everything) == 8 and {r.status for r in everything} == {"approved", "pending"}


def test_analyse_writes_the_three_sheets_with_sources_and_says_which_status(
    filled: str, tmp_path: Path
) -> None:
    out = tmp_path / "分析.xlsx"
    result = runner.invoke(app, ["analyse", "--db", filled, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "仅已通过审核的记录" in result.output
    book = load_workbook(out)
    assert {"指标", "问题主题", "计划落实"} <= set(book.sheetnames)
    assert "仅已通过审核的记录；共 7 份报告" in book["说明"]["B1"].value
    indicators = book["指标"]
    header = [c.value for c in indicators[1]]
    assert header[:6] == ["指标", "领域", "地区", "年度", "数值", "单位"]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in indicators.iter_rows(min_row=2)]
    court = [
        r
        for r in rows
        if r["指标"] == "行政机关负责人出庭应诉率" and r["地区"] == "云岭区" and r["年度"] == 2023
    ]
    assert court == [court[0]] and court[0]["数值"] == 98 and court[0]["指标证据"] == "出庭率98%"
    assert court[0]["报告"] == "yunling-2023" and court[0]["条目"] == "成效第4条"
    assert indicators.column_dimensions["L"].width > 10  # evidence column widened to its text
    follow = book["计划落实"]
    plans = [
        dict(zip([c.value for c in follow[1]], (c.value for c in row), strict=True))
        for row in follow.iter_rows(min_row=2)
    ]
    # 白沙镇 2024 is not approved, so its 2023 plans have nothing to be checked against.
    assert {p["地区"] for p in plans} == {"青溪县", "云岭区", "桐川县"}
    assert {p["落实情况"] for p in plans} <= {"已落实", "部分", "未见提及"}


def test_status_all_and_region_filters(filled: str, tmp_path: Path) -> None:
    out = tmp_path / "a.xlsx"
    result = runner.invoke(
        app, ["analyse", "--db", filled, "--status", "all", "--region", "白沙镇", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "全部当前记录" in result.output
    book = load_workbook(out)
    regions = {row[2].value for row in book["指标"].iter_rows(min_row=2)}
    assert regions == {"白沙镇"}
    statuses = {row[-1].value for row in book["计划落实"].iter_rows(min_row=2)}
    assert statuses == {
        "已通过"
    }  # the 2023 plans were approved; the 2024 report they are checked against is not
    assert book["计划落实"].max_row == 5


def test_bad_options_are_one_line_errors(filled: str, tmp_path: Path) -> None:
    bad_status = runner.invoke(
        app, ["analyse", "--db", filled, "--status", "reviewed", "--out", str(tmp_path / "a.xlsx")]
    )
    assert bad_status.exit_code == 1 and "approved or all" in bad_status.output
    bad_suffix = runner.invoke(app, ["analyse", "--db", filled, "--out", str(tmp_path / "a.csv")])
    assert bad_suffix.exit_code == 1 and "a.csv" in bad_suffix.output


def test_data_version_changes_when_a_record_is_saved_so_the_page_cache_is_not_stale(filled: str) -> None:
    with Store(filled) as store:
        before = store.data_version()
        assert before == store.data_version()  # nothing saved: the cached analysis stays
        current = store.current_record("baisha-2024")
        assert current is not None
        store.save_review(
            "baisha-2024", current.record, base_version=current.version, reviewer="测试", status="approved"
        )
        after = store.data_version()
        assert after != before and after[0] == before[0] and after[1] == before[1] + 1
        assert "baisha-2024" in {r.doc_id for r in load_records(store)}
