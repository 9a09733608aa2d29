"""`extractor eval` end to end on a tiny gold / docs / predictions set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

# Imported to register their commands on the app.
import extractor.cli.eval_cmd
import extractor.cli.gold_cmd  # noqa: F401
from extractor.cli.app import app
from extractor.core.document import SourceDocument
from extractor.core.schema import Achievement, Area, Meta, Metric, Period, Plan, Problem, Record
from extractor.evaluation import run as run_module
from extractor.evaluation.models import EvalResult

DOC_A = """甲县司法局2024年法治政府建设情况报告
一、主要成效
（一）受理行政复议案件37件，已结案31件。
（二）开展普法活动120场，发放宣传资料4万余份。
二、存在问题
一是执法队伍专业化建设不足。
三、下一步计划
一是深化法治宣传教育。
"""
DOC_B = """乙区司法局2024年法治政府建设情况报告
一、主要成效
（一）办理法律援助案件210件。
（二）化解矛盾纠纷560件。
二、存在问题
一是普法形式较为单一。
三、下一步计划
一是加强人民调解组织建设。
"""


def gold_a() -> Record:
    return Record(
        doc_id="jia-2024",
        meta=Meta(issuer="甲县司法局", region="甲县", report_year=2024, period=Period.ANNUAL, plan_year=2025),
        achievements=[
            Achievement(
                area=Area.RECONSIDERATION,
                text="受理复议案件37件",
                evidence="（一）受理行政复议案件37件，已结案31件。",
                metrics=[
                    Metric(name="受理行政复议案件", value=37, unit="件", evidence="受理行政复议案件37件")
                ],
            ),
            Achievement(
                area=Area.LEGAL_EDUCATION,
                text="开展普法活动120场",
                evidence="（二）开展普法活动120场，发放宣传资料4万余份。",
                metrics=[Metric(name="发放宣传资料", value=40000, unit="份", evidence="发放宣传资料4万余份")],
            ),
        ],
        problems=[
            Problem(area=Area.GRASSROOTS, text="执法队伍专业化不足", evidence="一是执法队伍专业化建设不足。")
        ],
        plans=[Plan(area=Area.LEGAL_EDUCATION, text="深化法治宣传教育", evidence="一是深化法治宣传教育。")],
    )


def gold_b() -> Record:
    return Record(
        doc_id="yi-2024",
        meta=Meta(issuer="乙区司法局", region="乙区", report_year=2024, period=Period.ANNUAL, plan_year=2025),
        achievements=[
            Achievement(
                area=Area.LEGAL_SERVICES, text="法律援助案件210件", evidence="（一）办理法律援助案件210件。"
            ),
            Achievement(area=Area.DISPUTES, text="化解矛盾纠纷560件", evidence="（二）化解矛盾纠纷560件。"),
        ],
        problems=[Problem(area=Area.LEGAL_EDUCATION, text="普法形式单一", evidence="一是普法形式较为单一。")],
        plans=[Plan(area=Area.DISPUTES, text="加强人民调解组织建设", evidence="一是加强人民调解组织建设。")],
    )


def imperfect_b() -> Record:
    """Misses 化解矛盾纠纷, gets one area wrong, quotes one plan that is not in the report."""
    pred = gold_b()
    pred.achievements = pred.achievements[:1]
    pred.achievements[0].area = Area.DISPUTES
    pred.plans = [Plan(area=Area.DISPUTES, text="加强调解组织", evidence="一是大力加强调解组织。")]
    pred.meta.region = "乙县"
    return pred


def write(path: Path, record: Record) -> None:
    path.write_text(record.to_json(internal=False), encoding="utf-8")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for name in ("gold", "docs", "pred_good", "pred_bad"):
        (tmp_path / name).mkdir()
    (tmp_path / "docs" / "jia-2024.txt").write_text(DOC_A, encoding="utf-8")
    (tmp_path / "docs" / "yi-2024.txt").write_text(DOC_B, encoding="utf-8")
    for record in (gold_a(), gold_b()):
        write(tmp_path / "gold" / f"{record.doc_id}.json", record)
        write(tmp_path / "pred_good" / f"{record.doc_id}.json", record)
    write(tmp_path / "pred_bad" / "jia-2024.json", gold_a())
    write(tmp_path / "pred_bad" / "yi-2024.json", imperfect_b())
    return tmp_path


def run(workspace: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["eval", "--gold", str(workspace / "gold"), "--docs", str(workspace / "docs"), *args]
    )
    return result.exit_code, result.output


def test_eval_prints_table_and_writes_json_and_markdown(workspace: Path) -> None:
    json_path, md_path = workspace / "out" / "bad.json", workspace / "out" / "bad.md"
    code, output = run(
        workspace, "--pred", str(workspace / "pred_bad"), "--json", str(json_path), "--markdown", str(md_path)
    )
    assert code == 0, output
    for label in ("jia-2024", "yi-2024", "OVERALL", "ach F1", "grounding"):
        assert label in output

    result = EvalResult.model_validate_json(json_path.read_text(encoding="utf-8"))
    overall = result.overall
    assert (overall.achievements.tp, overall.achievements.fp, overall.achievements.fn) == (3, 0, 1)
    assert overall.achievements.area_accuracy == pytest.approx(2 / 3)
    assert overall.plans.tp == 2  # the unverbatim plan quote still matches on its text
    assert overall.grounding.share == pytest.approx(8 / 9)
    dumped = json.loads(json_path.read_text(encoding="utf-8"))
    assert dumped["overall"]["achievements"]["f1"] == pytest.approx(6 / 7)

    markdown = md_path.read_text(encoding="utf-8")
    assert "化解矛盾纠纷560件" in markdown  # the miss, beside its text
    assert "| region | 乙区 | 乙县 |" in markdown
    assert "公共法律服务 | 矛盾纠纷化解" in markdown  # the area error, gold then predicted
    assert "一是大力加强调解组织。" in markdown  # ungrounded quote shown
    assert "## jia-2024" in markdown and "No differences." in markdown


def test_missing_prediction_is_a_warning_scored_as_empty(workspace: Path) -> None:
    (workspace / "pred_bad" / "yi-2024.json").unlink()
    code, output = run(workspace, "--pred", str(workspace / "pred_bad"), "--json", str(workspace / "r.json"))
    assert code == 0
    assert "no prediction; scored as empty" in output
    result = EvalResult.model_validate_json((workspace / "r.json").read_text(encoding="utf-8"))
    assert result.documents[1].achievements.recall == 0.0


def test_thresholds_met_exit_zero(workspace: Path) -> None:
    code, output = run(
        workspace,
        "--pred",
        str(workspace / "pred_good"),
        "--thresholds",
        str(Path("eval/thresholds.toml").resolve()),
    )
    assert code == 0, output
    assert "thresholds met" in output


def test_thresholds_failing_exit_two_and_name_each_figure(workspace: Path) -> None:
    code, output = run(
        workspace,
        "--pred",
        str(workspace / "pred_bad"),
        "--thresholds",
        str(Path("eval/thresholds.toml").resolve()),
    )
    assert code == 2
    failing = {line.split()[1] for line in output.splitlines() if line.startswith("FAIL")}
    assert failing == {"achievements_f1", "area_accuracy_min", "meta_accuracy", "grounding"}


def test_unknown_threshold_key_is_a_clear_error(workspace: Path) -> None:
    bars = workspace / "bars.toml"
    bars.write_text("achievments_f1 = 0.9\n", encoding="utf-8")
    code, output = run(workspace, "--pred", str(workspace / "pred_good"), "--thresholds", str(bars))
    assert code == 1
    assert f"{bars}: unknown figure 'achievments_f1'" in output


def test_pred_and_backend_are_exclusive(workspace: Path) -> None:
    code, output = run(workspace, "--pred", str(workspace / "pred_good"), "--backend", "rules")
    assert code == 1
    assert "exactly one of --pred" in output


def test_compare_shows_before_after_and_delta(workspace: Path) -> None:
    good, bad = workspace / "good.json", workspace / "bad.json"
    assert run(workspace, "--pred", str(workspace / "pred_good"), "--json", str(good))[0] == 0
    assert run(workspace, "--pred", str(workspace / "pred_bad"), "--json", str(bad))[0] == 0

    result = CliRunner().invoke(app, ["eval", "--compare", str(bad), str(good)])
    code, output = result.exit_code, result.output
    assert code == 0, output
    yi_rows = [line for line in output.splitlines() if "achievements_f1" in line and "0.667" in line]
    assert yi_rows and "+0.333 ▲" in yi_rows[0]  # yi-2024: 2/3 -> 1.0
    assert "regression" in output and "0 regression(s)" in output

    reverse = CliRunner().invoke(app, ["eval", "--compare", str(good), str(bad)])
    assert reverse.exit_code == 0
    assert "-0.333 ▼" in reverse.output
    assert "0 improvement(s)" in reverse.output


def test_compare_rejects_a_file_that_is_not_an_eval_result(workspace: Path) -> None:
    other = workspace / "gold" / "jia-2024.json"
    result = CliRunner().invoke(app, ["eval", "--compare", str(other), str(other)])
    assert result.exit_code == 1
    assert f"{other}: not an eval result" in result.output


def test_backend_eval_extracts_from_the_report_alone_before_reading_gold(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_read_record = run_module.read_record

    def logged_read_record(path: Path) -> Record:
        events.append(f"read {path.parent.name}/{path.name}")
        return real_read_record(path)

    def fake_extract(doc: SourceDocument, **options: object) -> Record:
        assert options == {"backend": "fake"}  # nothing but the loaded report and the backend
        events.append(f"extract {doc.doc_id}")
        return gold_a() if doc.doc_id == "jia-2024" else Record(doc_id=doc.doc_id)

    monkeypatch.setattr(run_module, "read_record", logged_read_record)
    result = run_module.evaluate_backend(
        gold_dir=workspace / "gold", docs_dir=workspace / "docs", backend="fake", extract=fake_extract
    )
    assert events == [
        "extract jia-2024",
        "extract yi-2024",
        "read gold/jia-2024.json",
        "read gold/yi-2024.json",
    ]
    assert [d.achievements.recall for d in result.documents] == [1.0, 0.0]
