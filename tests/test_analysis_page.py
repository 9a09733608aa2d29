"""The 分析 page: its charts link every mark to the report page; the page renders in the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_data import gold_records, save, sourced
from streamlit.testing.v1 import AppTest

from extractor.analysis import analyse
from extractor.analysis.charts import (
    LINK,
    follow_frame,
    indicator_chart,
    indicator_frame,
    rate_chart,
    theme_chart,
)
from extractor.store import Store

APP = Path(__file__).resolve().parent.parent / "review_app.py"


@pytest.fixture(scope="module")
def result():
    return analyse(sourced(gold_records()), status="approved")


def _href_field(chart) -> str:
    return chart.to_dict()["encoding"]["href"]["field"]


def test_indicator_chart_links_each_bar_to_its_item(result) -> None:
    summary = next(s for s in result.summaries if s.indicator.name == "法律援助案件数")
    frame = indicator_frame(summary)
    assert len(frame) == len(summary.values) == 4  # 青溪县 and 云岭区, two years each
    row = frame[(frame["地区"] == "青溪县") & (frame["年度"] == "2023")].iloc[0]
    assert row["数值"] == 367 and row["证据"] == "办理法律援助案件367件"
    assert row[LINK] == "?report=qingxi-2023&list=achievements&item=4"
    assert _href_field(indicator_chart(summary)) == LINK


def test_theme_and_follow_through_charts_link_to_reports(result) -> None:
    spec = theme_chart(result.themes).to_dict()
    assert spec["encoding"]["href"]["field"] == LINK
    links = {row[LINK] for row in spec["datasets"][spec["data"]["name"]]}
    assert all(link.startswith("?report=") and "list=problems" in link for link in links)
    assert _href_field(rate_chart(result.rates, result.follow)) == LINK
    frame = follow_frame(result.follow)
    done = frame[frame["落实情况"] == "已落实"]
    assert done["匹配成效"].ne("").all() and done["成效链接"].str.contains("list=achievements").all()
    assert frame.loc[frame["落实情况"] == "未见提及", "匹配成效"].eq("").all()


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'review.db'}"
    with Store(url) as store:
        for record in gold_records():
            save(store, record, status=None if record.doc_id.endswith("2024") else "approved")
    monkeypatch.setenv("EXTRACTOR_DB_URL", url)
    monkeypatch.setenv("EXTRACTOR_ANALYSIS_CACHE", str(tmp_path / "kept"))
    return url


def test_analysis_page_follows_a_new_approval(app_db: str, tmp_path: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.sidebar.radio(key="app_page").set_value("分析").run()
    assert "仅已通过审核的记录；共 4 份报告" in at.info[0].value
    assert len(list((tmp_path / "kept").glob("*.analysis"))) == 1  # kept for a restarted server
    with Store(app_db) as store:
        current = store.current_record("qingxi-2024")
        assert current is not None
        store.save_review(
            "qingxi-2024", current.record, base_version=current.version, reviewer="审核员", status="approved"
        )
    at.run()
    assert not at.exception, at.exception
    assert "仅已通过审核的记录；共 5 份报告" in at.info[0].value
    # Another session shows the same, not the state before.
    restarted = AppTest.from_file(str(APP), default_timeout=90)
    restarted.run()
    restarted.sidebar.radio(key="app_page").set_value("分析").run()
    assert "仅已通过审核的记录；共 5 份报告" in restarted.info[0].value


def test_analysis_page_shows_the_status_used_and_filters(app_db: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.sidebar.radio(key="app_page").set_value("分析").run()
    assert not at.exception, at.exception
    assert "仅已通过审核的记录；共 4 份报告" in at.info[0].value
    # Only the 2023 reports are approved: no next year to check plans against.
    at.session_state["an_tab"] = "计划落实"
    at.run()
    assert any("没有可比对的计划" in m.value for m in at.markdown)
    at.session_state["an_tab"] = "指标"
    at.radio(key="an_status").set_value("all").run()
    assert "全部当前记录（含未审核）；共 8 份报告" in at.info[0].value
    # Only the open tab is built: the indicator chart first, the others when their tab opens.
    for tab, wanted in [
        ("指标", "list=achievements"),
        ("问题主题", "list=problems"),
        ("计划落实", "list=plans"),
    ]:
        at.session_state["an_tab"] = tab
        at.run()
        charts = at.get("vega_lite_chart")
        assert len(charts) == 1 and '"href"' in charts[0].proto.spec
        assert len(at.dataframe) == 1 and at.dataframe[0].value[LINK].str.contains(wanted).all()
    at.session_state["an_tab"] = "指标"
    at.run()
    assert len(at.dataframe) == 1  # the unmapped values' table waits until its expander opens
    at.session_state["an_unmapped"] = True
    at.run()
    assert len(at.dataframe) == 2 and "原文指标名" in at.dataframe[1].value.columns
    at.multiselect(key="an_regions").set_value(["白沙镇"]).run()
    assert "共 2 份报告" in at.info[0].value
    table = at.dataframe[0].value
    assert set(table["地区"]) == {"白沙镇"}
