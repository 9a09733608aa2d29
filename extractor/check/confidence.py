"""How far to trust each item: a confidence from its flags, and whether a reviewer should look.

Every flag is a signal, but signals differ in how often they mark a wrong item: a failed
grounding nearly always does, a disagreement between the rules and the model often does not.
`flag_calibration.json` holds, per backend, the share of items carrying each flag that were
wrong on the eval documents (Laplace-smoothed; measured by `eval/calibrate_flags.py`), the
share of all items that were wrong (the prior) and the confidence below which an item
`needs_review`.

An item's confidence is one minus the chance that it is wrong given its flags. With no flag
that is the base rate; with one flag, that flag's wrong-share; with several, their evidence
adds up (naive Bayes): each flag multiplies the prior odds of a wrong item by the odds its
wrong-share has over the prior, so two independent readers disagreeing with the model (the
rules' area and the classifier's) weigh more than either alone. A calibration without a prior
falls back to the worst single flag. Grounding failures always need review, whatever the
calibration says.
"""

from __future__ import annotations

import json
import math
from collections.abc import Set
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from extractor.core.schema import FlagCode, Item, Record

CALIBRATION_FILE = Path(__file__).with_name("flag_calibration.json")
#: Findings a reviewer must always see: the evidence or a value is not where it should be,
#: the model failed, or it gave a reason the text does not support.
ALWAYS_REVIEW = frozenset(
    {
        FlagCode.UNALIGNED,
        FlagCode.METRIC_NOT_IN_EVIDENCE,
        FlagCode.SECTION_FALLBACK,
        FlagCode.VALIDATION_FAILED,
        FlagCode.CAUSE_UNSUPPORTED,
        FlagCode.MODEL_LEFT_OUT,
    }
)


@dataclass(frozen=True)
class Calibration:
    """One backend's calibration: wrong-share per flag, the base rate (items with no flag),
    the prior (all items; None: the worst flag alone decides), the review bar."""

    wrong_share: dict[str, float] = field(default_factory=dict)
    base: float = 0.05
    threshold: float = 0.5
    prior: float | None = None
    #: Ratings already worked out, by flag codes: a batch's items share a few combinations
    #: of codes, and a rating depends on the codes and this calibration alone (not changed
    #: once made). Not an init field: `dataclasses.replace` gives a new calibration a new memo.
    ratings: dict[frozenset[FlagCode], tuple[float, bool]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )


@lru_cache(maxsize=1)
def _calibrations() -> dict[str, Calibration]:
    if not CALIBRATION_FILE.is_file():
        return {}
    data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    return {
        backend: Calibration(
            wrong_share=dict(entry.get("wrong_share", {})),
            base=float(entry.get("base", 0.05)),
            threshold=float(entry.get("threshold", 0.5)),
            prior=float(entry["prior"]) if entry.get("prior") is not None else None,
        )
        for backend, entry in data.get("backends", {}).items()
    }


def calibration_for(backend: str) -> Calibration:
    return _calibrations().get(backend, Calibration())


def _log_odds(share: float) -> float:
    share = min(max(share, 1e-6), 1 - 1e-6)
    return math.log(share / (1 - share))


def item_confidence(item: Item, calibration: Calibration) -> float:
    """One minus the chance the item is wrong given its flags (each code counted once): the
    base rate with no flag, the flag's wrong-share with one, the flags' combined evidence with
    several (see the module doc). A flag the calibration never saw adds no evidence."""
    return _confidence({flag.code for flag in item.flags}, calibration)


def _confidence(codes: Set[FlagCode], calibration: Calibration) -> float:
    if not codes:
        return round(1.0 - calibration.base, 4)
    prior = calibration.prior
    values = {code.value for code in codes}
    if prior is None:
        return round(1.0 - max(calibration.wrong_share.get(code, calibration.base) for code in values), 4)
    log_odds = _log_odds(prior) + sum(
        _log_odds(calibration.wrong_share.get(code, prior)) - _log_odds(prior) for code in values
    )
    return round(1.0 - 1.0 / (1.0 + math.exp(-log_odds)), 4)


def _rating(codes: frozenset[FlagCode], calibration: Calibration) -> tuple[float, bool]:
    """(confidence, needs_review) of an item carrying the flag codes `codes`."""
    confidence = _confidence(codes, calibration)
    return confidence, not ALWAYS_REVIEW.isdisjoint(codes) or confidence < calibration.threshold


_NO_CODES: frozenset[FlagCode] = frozenset()


def rate_item(item: Item, calibration: Calibration) -> None:
    """Set `item`'s confidence and needs_review."""
    flags = item.flags
    codes = frozenset([flag.code for flag in flags]) if flags else _NO_CODES
    ratings = calibration.ratings
    rating = ratings.get(codes)
    if rating is None:
        rating = ratings[codes] = _rating(codes, calibration)
    item.confidence, needs_review = rating
    if item.needs_review is not needs_review:  # assigning a pydantic field costs more than asking
        item.needs_review = needs_review


def rate_record(record: Record, backend: str) -> Record:
    """Set every item's confidence and needs_review (left-out items always need review)."""
    calibration = calibration_for(backend)
    for items in (record.achievements, record.problems, record.plans):
        for item in items:
            rate_item(item, calibration)
    for left in record.left_out:
        rate_item(left.item, calibration)
    return record
