"""`locate_metric`: the phrase of an item that states a named metric (the model names metrics,
the program finds their evidence)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.core.normalise import matching_key
from extractor.numbers.locate import locate_metric

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("text", "name", "value", "unit", "expected"),
    [
        ("受理行政复议案件37件，已结案31件，正在审理6件。", "已结案", 31, "件", "已结案31件"),
        (
            "受理行政复议案件37件，已结案31件，正在审理6件。",
            "受理行政复议案件",
            37,
            "件",
            "受理行政复议案件37件",
        ),
        ("开展普法活动120场，发放资料4万余份。", "发放资料", 40000, "份", "发放资料4万余份"),
        ("参考率、合格率均达100%。", "合格率", 100, "%", "参考率、合格率均达100%"),
        (
            "办理法律援助案件兩千餘件。",
            "法律援助案件",
            2000,
            "件",
            "兩千餘件",
        ),  # traditional numerals
    ],
)
def test_locates_the_phrase_stating_the_metric(text, name, value, unit, expected) -> None:
    found = locate_metric(name=name, value=value, unit=unit, text=text)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert expected in text[found.start : found.end]


def test_a_value_the_text_does_not_state_is_not_located() -> None:
    assert locate_metric(name="受理案件", value=38, unit="件", text="受理行政复议案件37件。") is None


def test_every_hand_labelled_metric_is_located_at_its_own_phrase() -> None:
    """Given gold's name, value and unit, the located phrase overlaps gold's evidence."""
    gold_files = sorted((REPO / "eval" / "gold").glob("*.json"))
    gold_files += sorted((REPO / "tests" / "fixtures").glob("synthetic*/*.json"))
    total = overlapping = 0
    for path in gold_files:
        record = json.loads(path.read_text(encoding="utf-8"))
        for item in record["achievements"]:
            for metric in item["metrics"]:
                total += 1
                found = locate_metric(
                    name=metric["name"], value=metric["value"], unit=metric["unit"], text=item["evidence"]
                )
                if found is None:
                    continue
                item_key = matching_key(item["evidence"])
                got = matching_key(item["evidence"][found.start : found.end])
                want = matching_key(metric["evidence"])
                a, b = item_key.find(got), item_key.find(want)
                if a >= 0 and b >= 0 and a < b + len(want) and b < a + len(got):
                    overlapping += 1
    assert total > 1000
    assert overlapping / total >= 0.99, f"{overlapping} of {total} located at their own phrase"
