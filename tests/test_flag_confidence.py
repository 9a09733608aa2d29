"""How flags become a confidence and the review bar (check/confidence.py, eval/calibrate_flags.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from extractor.check.confidence import Calibration, item_confidence, rate_item
from extractor.core.schema import Achievement, Area, Flag, FlagCode

ROOT = Path(__file__).resolve().parent.parent


def _item(*codes: FlagCode) -> Achievement:
    return Achievement(area=Area.OTHER, text="t", evidence="e", flags=[Flag(code=code) for code in codes])


COMBINED = Calibration(
    wrong_share={"area_disagrees": 0.25, "area_model_disagrees": 0.15, "metric_repeated": 0.8},
    base=0.005,
    prior=0.04,
    threshold=0.6,
)


def test_one_flag_gives_its_wrong_share_and_no_flag_the_base_rate() -> None:
    assert item_confidence(_item(), COMBINED) == 0.995
    assert item_confidence(_item(FlagCode.AREA_DISAGREES), COMBINED) == 0.75
    assert item_confidence(_item(FlagCode.METRIC_REPEATED), COMBINED) == 0.2


def test_two_readers_disagreeing_with_the_model_weigh_more_than_either() -> None:
    rules_only = _item(FlagCode.AREA_DISAGREES)
    both = _item(FlagCode.AREA_DISAGREES, FlagCode.AREA_MODEL_DISAGREES)
    for item in (rules_only, both):
        rate_item(item, COMBINED)
    assert both.confidence is not None and rules_only.confidence is not None
    assert both.confidence < min(0.75, 0.85)
    assert (rules_only.needs_review, both.needs_review) == (False, True)


def test_a_flag_repeated_or_never_calibrated_adds_no_evidence() -> None:
    once = item_confidence(_item(FlagCode.AREA_DISAGREES), COMBINED)
    assert item_confidence(_item(FlagCode.AREA_DISAGREES, FlagCode.AREA_DISAGREES), COMBINED) == once
    assert item_confidence(_item(FlagCode.AREA_DISAGREES, FlagCode.OUTLINE_CHANGED), COMBINED) == once


def test_without_a_prior_the_worst_flag_decides() -> None:
    worst = Calibration(wrong_share=COMBINED.wrong_share, base=0.005, prior=None)
    both = _item(FlagCode.AREA_DISAGREES, FlagCode.AREA_MODEL_DISAGREES)
    assert item_confidence(both, worst) == 0.75


@pytest.fixture(scope="module")
def calibrate_flags():
    spec = importlib.util.spec_from_file_location("calibrate_flags", ROOT / "eval" / "calibrate_flags.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_calibration_learns_that_two_signals_together_mark_wrong_items(calibrate_flags) -> None:
    # 40 items, 4 wrong: both area signals on 3 items (2 wrong), each alone on 6 (1 wrong
    # between them), the rest unflagged and right but one.
    a, m = FlagCode.AREA_DISAGREES, FlagCode.AREA_MODEL_DISAGREES
    items = [(_item(a, m), True), (_item(a, m), True), (_item(a, m), False)]
    items += [(_item(a), i == 0) for i in range(6)] + [(_item(m), False) for _ in range(6)]
    items += [(_item(), i == 0) for i in range(25)]
    calibration = calibrate_flags.fit(items)
    bar, met = calibrate_flags.choose_bar(items, calibration, min_precision=0.5, max_rate=None)
    assert met
    n, flagged, wrong, hits = calibrate_flags.flag_counts(items, calibration, bar)
    assert (n, flagged, wrong, hits) == (40, 3, 4, 2)  # the pairs; single signals stay below the bar
    # The bar sits between the last flagged confidence and the next, not a hair above it.
    both = item_confidence(_item(a, m), calibration)
    one = item_confidence(_item(a), calibration)
    assert both < bar < one and bar == pytest.approx((both + one) / 2, abs=1e-6)


def test_leave_one_report_out_judges_each_report_by_a_calibration_without_it(calibrate_flags) -> None:
    repeated = FlagCode.METRIC_REPEATED
    judged = [("a", _item(repeated), True), ("a", _item(), False)]
    judged += [("b", _item(repeated), True), ("b", _item(), False), ("b", _item(), False)]
    judged += [("c", _item(FlagCode.METRIC_INTENDED), True), ("c", _item(), False)]
    line = calibrate_flags.leave_one_report_out(judged, min_precision=0.5, max_rate=None)
    # The intention flag is seen only in report c: held out, it is unknown and not flagged.
    assert line.startswith("7 items, 2 flagged, 3 wrong, 2 flagged & wrong")


def test_a_calibration_changed_by_replace_rates_afresh() -> None:
    # Ratings are memoised per calibration; a replaced one must not reuse the old verdicts.
    from dataclasses import replace

    strict = COMBINED
    item = _item(FlagCode.AREA_DISAGREES)
    rate_item(item, strict)
    assert (item.confidence, item.needs_review) == (0.75, False)
    lenient = replace(strict, threshold=0.8)
    again = _item(FlagCode.AREA_DISAGREES)
    rate_item(again, lenient)
    assert (again.confidence, again.needs_review) == (0.75, True)
    rate_item(item, strict)  # the first calibration's verdict is unchanged
    assert item.needs_review is False
