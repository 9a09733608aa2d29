"""Gold validation: each failure kind is reported with its file and item path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

# Imported to register their commands on the app (typer needs two or more to keep names).
import extractor.cli.eval_cmd
import extractor.cli.gold_cmd  # noqa: F401
from extractor.cli.app import app
from extractor.core.schema import Record
from extractor.evaluation.gold_check import check_gold, check_record_against_source
from extractor.numbers.metrics import parse_chinese_number
from extractor.numbers.stated import value_in_text

DOC = """和平县司法局2024年法治政府建设年度报告
一、主要成效
一是全年发放普法宣传资料4万余份，开展活动86场。
二是办理法律援助案件，为群众挽回经济损失约8万元。
三是调解矛盾纠纷，涉及金额340余万元，调解成功率达到百分之九十。
二、存在不足
基层法治力量仍然薄弱。
三、下一步计划
持续深化普法宣传。
"""


def valid_gold() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "doc_id": "heping-demo",
        "meta": {
            "issuer": "和平县司法局",
            "region": "和平县",
            "report_year": 2024,
            "period": "annual",
            "plan_year": 2025,
            "publish_date": None,
        },
        "achievements": [
            {
                "area": "普法与法治宣传",
                "text": "发放普法资料4万余份",
                "evidence": "一是全年发放普法宣传资料4万余份，开展活动86场。",
                "metrics": [
                    {
                        "name": "发放普法宣传资料",
                        "value": 40000,
                        "unit": "份",
                        "evidence": "发放普法宣传资料4万余份",
                    },
                    {"name": "开展活动", "value": 86, "unit": "场", "evidence": "开展活动86场"},
                ],
            },
            {
                "area": "公共法律服务",
                "text": "挽回经济损失约8万元",
                "evidence": "二是办理法律援助案件，为群众挽回经济损失约8万元。",
                "metrics": [
                    {"name": "挽回经济损失", "value": 80000, "unit": "元", "evidence": "挽回经济损失约8万元"}
                ],
            },
            {
                "area": "矛盾纠纷化解",
                "text": "调解涉及金额340余万元",
                # full-width vs half-width and a line break: still verbatim by the spec's rule
                "evidence": "三是调解矛盾纠纷,涉及金额340余万元,\n调解成功率达到百分之九十。",
                "metrics": [
                    {"name": "涉及金额", "value": 3400000, "unit": "元", "evidence": "涉及金额340余万元"},
                    {"name": "调解成功率", "value": 90, "unit": "%", "evidence": "调解成功率达到百分之九十"},
                ],
            },
        ],
        "problems": [
            {
                "area": "基层基础与队伍建设",
                "text": "基层法治力量薄弱",
                "cause": None,
                "evidence": "基层法治力量仍然薄弱。",
            }
        ],
        "plans": [{"area": "普法与法治宣传", "text": "深化普法宣传", "evidence": "持续深化普法宣传。"}],
    }


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    gold_dir, docs_dir = tmp_path / "gold", tmp_path / "docs"
    gold_dir.mkdir()
    docs_dir.mkdir()
    (docs_dir / "heping-demo.txt").write_text(DOC, encoding="utf-8")
    return gold_dir, docs_dir


def write_gold(gold_dir: Path, data: dict[str, Any], name: str = "heping-demo") -> Path:
    path = gold_dir / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def test_valid_gold_passes(dirs: tuple[Path, Path]) -> None:
    gold_dir, docs_dir = dirs
    write_gold(gold_dir, valid_gold())
    assert check_gold(gold_dir, docs_dir) == []


def _set(path: list[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "item_path", "reason"),
    [
        pytest.param(
            _set(["achievements", 1, "area"], "法律服务"),
            "achievements[1].area",
            "closed list",
            id="bad-area",
        ),
        pytest.param(
            _set(["plans", 0, "evidence"], "全面推进依法行政。"),
            "plans[0].evidence",
            "not verbatim",
            id="evidence-not-in-doc",
        ),
        pytest.param(
            _set(["achievements", 0, "metrics", 1, "evidence"], "开展活动96场"),
            "achievements[0].metrics[1].evidence",
            "not verbatim",
            id="metric-evidence-not-in-doc",
        ),
        pytest.param(
            _set(["achievements", 0, "metrics", 1, "value"], 68),
            "achievements[0].metrics[1].value",
            "not stated in its evidence",
            id="metric-value-not-in-evidence",
        ),
        pytest.param(
            _set(["achievements", 2, "metrics", 0, "value"], 340000),
            "achievements[2].metrics[0].value",
            "not stated in its evidence",
            id="metric-multiplier-wrong",
        ),
        pytest.param(
            _set(["problems", 0, "note"], "待复核"), "problems[0].note", "extra field", id="extra-item-field"
        ),
        pytest.param(_set(["labeller"], "张三"), "labeller", "extra field", id="extra-top-level-field"),
        pytest.param(
            _set(["doc_id"], "hubin-2024"), "doc_id", "does not match the file name", id="wrong-doc-id"
        ),
        pytest.param(_set(["meta", "period"], "quarterly"), "meta.period", "annual", id="bad-period"),
    ],
)
def test_each_failure_is_reported_with_file_and_item_path(
    dirs: tuple[Path, Path], mutate: Callable[[dict[str, Any]], None], item_path: str, reason: str
) -> None:
    gold_dir, docs_dir = dirs
    data = valid_gold()
    mutate(data)
    path = write_gold(gold_dir, data)
    problems = check_gold(gold_dir, docs_dir)
    assert any(p.path == item_path and reason in p.reason for p in problems), [str(p) for p in problems]
    assert all(str(p).startswith(f"{path}: {p.path}: ") for p in problems)


def test_invalid_json_and_missing_document_are_reported(dirs: tuple[Path, Path]) -> None:
    gold_dir, docs_dir = dirs
    (gold_dir / "broken.json").write_text('{"doc_id": "broken",', encoding="utf-8")
    data = valid_gold()
    data["doc_id"] = "nodoc"
    write_gold(gold_dir, data, name="nodoc")
    problems = {Path(p.file).name: p for p in check_gold(gold_dir, docs_dir)}
    assert problems["broken.json"].path == "$" and "invalid JSON" in problems["broken.json"].reason
    assert problems["nodoc.json"].path == "doc_id" and "no document 'nodoc'" in problems["nodoc.json"].reason


@pytest.mark.parametrize(
    ("value", "evidence"),
    [
        (40000, "发放宣传资料4万余份"),
        (80000, "挽回经济损失约8万元"),
        (3400000, "涉案金额340余万元"),
        (90, "调解成功率达百分之九十"),
        (12000, "服务群众一万二千人次"),
        (1002, "办理公证1,002件"),
        (1002, "办理公证１，００２件"),
        (86, "满意率86％"),
        (15000, "挽回损失1.5万元"),
        (2, "开展两次培训"),
        (15, "十五个司法所"),
    ],
)
def test_value_forms_accepted(value: float, evidence: str) -> None:
    assert value_in_text(value, evidence)


@pytest.mark.parametrize(
    ("value", "evidence"),
    [
        (50000, "发放宣传资料4万余份"),
        (91, "调解成功率达百分之九十"),
        (1003, "办理公证1,002件"),
        (100, "百分之九十"),
    ],
)
def test_value_forms_rejected(value: float, evidence: str) -> None:
    assert not value_in_text(value, evidence)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("九十", 90),
        ("一万二千", 12000),
        ("十五", 15),
        ("一千零五", 1005),
        ("三亿五千万", 350_000_000),
        ("二〇二三", 2023),
    ],
)
def test_parse_chinese_numeral(token: str, expected: int | None) -> None:
    assert parse_chinese_number(token) == expected


def test_check_record_against_source_for_a_reviewed_record() -> None:
    record = Record.model_validate(valid_gold())
    assert check_record_against_source(record, DOC) == []
    record.plans[0].evidence = "全面推进依法行政。"
    problems = check_record_against_source(record, DOC, file="eval/gold/heping-demo.json")
    assert [str(p) for p in problems] == [
        "eval/gold/heping-demo.json: plans[0].evidence: evidence not verbatim in the document: 「全面推进依法行政。」"
    ]


def test_cli_gold_check(dirs: tuple[Path, Path]) -> None:
    gold_dir, docs_dir = dirs
    path = write_gold(gold_dir, valid_gold())
    runner = CliRunner()
    ok = runner.invoke(app, ["gold", "check", "--gold", str(gold_dir), "--docs", str(docs_dir)])
    assert ok.exit_code == 0, ok.output
    assert "1 gold file(s) OK" in ok.output

    data = valid_gold()
    data["achievements"][1]["area"] = "法律服务"
    write_gold(gold_dir, data)
    bad = runner.invoke(app, ["gold", "check", "--gold", str(gold_dir), "--docs", str(docs_dir)])
    assert bad.exit_code == 1
    assert f"{path}: achievements[1].area: area '法律服务' is not in the closed list" in bad.output
