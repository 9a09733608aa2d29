"""Measure how often each flag marks a wrong item, per backend, and set the review bar.

    python eval/calibrate_flags.py            # writes extractor/check/flag_calibration.json

Rules backend: every hand-labelled report in eval/gold, eval/holdout and tests/fixtures.
LLM backend: the recorded answers in eval/cassettes, replayed (eval/gold and eval/holdout); the
area classifier's flag is judged out of sample (see `area_model_out_of_sample`).
For each flag: wrong share = (wrong items with it + 1) / (items with it + 2); the prior is
the same share over all items, and an item's confidence combines its flags' shares against
it (`extractor/check/confidence.py`). The bar is the confidence below which items need
review, chosen on these documents: for the LLM path the highest recall with flag precision
>= 0.5, for the rules backend the highest recall flagging at most 30 % of items; where no bar
meets its target, the bar with the best F1 of flagging (recorded as target_met = false).
Extraction never reads gold; calibration reads it afterwards, as the eval does.

    python eval/calibrate_flags.py --loro     # also: leave one report out

With --loro the weights and the bar are also fitted once per report without it and applied
to it; the pooled precision, recall and rate on the held-out reports say how much of the
in-sample figures is owed to calibrating on the very reports measured (nothing is written
for them).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from extractor.check.confidence import CALIBRATION_FILE, Calibration, item_confidence  # noqa: E402
from extractor.core.schema import FlagCode, Item, ListName, Record  # noqa: E402
from extractor.evaluation.documents import find_document  # noqa: E402
from extractor.evaluation.scoring import judge_items  # noqa: E402
from extractor.extract.llm.disagree import flag_area_model  # noqa: E402
from extractor.load import load_document  # noqa: E402
from extractor.pipeline.run import LLMResources, extract_document  # noqa: E402

RULES_SETS = [
    (REPO / "eval" / "gold", REPO / "eval" / "docs"),
    (REPO / "eval" / "holdout", REPO / "eval" / "holdout"),
]
RULES_SETS += [(d, d) for d in sorted((REPO / "tests" / "fixtures").glob("synthetic*"))]
LLM_SETS = RULES_SETS[:2]


Judged = list[tuple[str, Item, bool]]  # (report, item, wrong)


def judged(sets: list[tuple[Path, Path]], backend: str, llm: LLMResources | None = None) -> Judged:
    out: Judged = []
    for gold_dir, docs_dir in sets:
        for gold_path in sorted(gold_dir.glob("*.json")):
            doc_path = find_document(docs_dir, gold_path.stem)
            if doc_path is None:
                continue
            doc = load_document(doc_path)
            pred = extract_document(doc, backend=backend, llm=llm)
            if backend == "llm":
                area_model_out_of_sample(pred, gold_path)
            gold = Record.model_validate_json(gold_path.read_text(encoding="utf-8"))
            report = str(gold_path.relative_to(REPO))
            out += [(report, item, wrong) for item, wrong in judge_items(pred, gold, doc.text)]
    return out


def area_model_out_of_sample(record: Record, gold_path: Path) -> None:
    """Re-judge AREA_MODEL_DISAGREES with a classifier trained without this report.

    The packaged area classifier was trained on eval/gold, so on those reports it knows the
    answers; a flag calibrated there would look better than it is on an unseen report. For a
    report in the training data the flag is recomputed with a model trained on the rest
    (leave one document out, as eval/train_area_model.py --cv does)."""
    from train_area_model import ROOT, load_examples, train

    examples = load_examples()
    held = str(gold_path.resolve().relative_to(ROOT)) if gold_path.resolve().is_relative_to(ROOT) else ""
    if not any(e.document == held for e in examples):
        return  # not in the training data: the packaged model is already out of sample
    _fitted, model, _data = train([e for e in examples if e.document != held])
    items = [item for name in ListName for item in record.items(name)]
    for item in items:
        item.flags = [f for f in item.flags if f.code is not FlagCode.AREA_MODEL_DISAGREES]
    flag_area_model(items, model)


def fit(items: list[tuple[Item, bool]]) -> Calibration:
    """Wrong-shares per flag, the base rate and the prior (Laplace-smoothed); no bar yet."""
    seen, wrong = Counter(), Counter()
    for item, is_wrong in items:
        for code in {f.code.value for f in item.flags}:
            seen[code] += 1
            wrong[code] += is_wrong
    unflagged = [w for item, w in items if not item.flags]
    return Calibration(
        wrong_share={code: round((wrong[code] + 1) / (seen[code] + 2), 4) for code in seen},
        base=round((sum(unflagged) + 1) / (len(unflagged) + 2), 4),
        prior=round((sum(w for _item, w in items) + 1) / (len(items) + 2), 4),
    )


def flag_counts(
    items: list[tuple[Item, bool]], calibration: Calibration, bar: float
) -> tuple[int, int, int, int]:
    """(items, flagged, wrong, flagged and wrong) with the review bar at `bar`."""
    flagged = [w for item, w in items if item_confidence(item, calibration) < bar]
    return len(items), len(flagged), sum(w for _item, w in items), sum(flagged)


def choose_bar(
    items: list[tuple[Item, bool]],
    calibration: Calibration,
    *,
    min_precision: float | None,
    max_rate: float | None,
) -> tuple[float, bool]:
    """(bar, target met): the highest recall within the target, else the best F1 of flagging.

    The bar sits halfway between the confidence of the last item it flags and the next one up,
    not just above the former: the same items are flagged here, and an unseen report's items,
    whose confidences come from slightly different data, are not split by a hair's breadth."""
    levels = sorted({item_confidence(item, calibration) for item, _ in items})
    best = (0.0, 0)  # (recall, level index) meeting the target
    best_f1 = (0.0, 0)  # (F1, level index): the fallback when no bar meets the target
    for index, level in enumerate(levels):
        n, flagged, wrong, hits = flag_counts(items, calibration, level + 1e-6)
        precision = hits / flagged if flagged else 0.0
        recall = hits / wrong if wrong else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best_f1[0]:
            best_f1 = (f1, index)
        if min_precision is not None and precision < min_precision:
            continue
        if max_rate is not None and flagged / n > max_rate:
            continue
        if recall > best[0]:
            best = (recall, index)
    met = best[0] > 0
    index = best[1] if met else best_f1[1]
    if not levels:
        return 0.0, met
    upper = levels[index + 1] if index + 1 < len(levels) else 1.0
    return round((levels[index] + upper) / 2, 6), met


def calibrate(judged_items: Judged, *, min_precision: float | None, max_rate: float | None) -> dict:
    items = [(item, wrong) for _report, item, wrong in judged_items]
    calibration = fit(items)
    bar, met = choose_bar(items, calibration, min_precision=min_precision, max_rate=max_rate)
    return {
        "wrong_share": calibration.wrong_share,
        "base": calibration.base,
        "prior": calibration.prior,
        "threshold": bar,
        "target_met": met,
        "measured_on_items": len(items),
        "wrong_items": sum(w for _item, w in items),
    }


def describe(counts: tuple[int, int, int, int]) -> str:
    n, flagged, wrong, hits = counts
    precision = hits / flagged if flagged else 0.0
    recall = hits / wrong if wrong else 0.0
    return (
        f"{n} items, {flagged} flagged, {wrong} wrong, {hits} flagged & wrong: "
        f"precision {precision:.3f}, recall {recall:.3f}, rate {flagged / n if n else 0.0:.3f}"
    )


def in_sample(judged_items: Judged, entry: dict) -> str:
    """Flag figures on the calibration documents themselves, with the calibration written."""
    items = [(item, wrong) for _report, item, wrong in judged_items]
    calibration = Calibration(wrong_share=entry["wrong_share"], base=entry["base"], prior=entry["prior"])
    return describe(flag_counts(items, calibration, entry["threshold"]))


def leave_one_report_out(judged_items: Judged, *, min_precision: float | None, max_rate: float | None) -> str:
    """Pooled flag precision, recall and rate over reports each judged by a calibration
    (weights and bar) fitted without it."""
    totals = [0, 0, 0, 0]
    for report in sorted({r for r, _i, _w in judged_items}):
        train = [(i, w) for r, i, w in judged_items if r != report]
        held = [(i, w) for r, i, w in judged_items if r == report]
        calibration = fit(train)
        bar, _met = choose_bar(train, calibration, min_precision=min_precision, max_rate=max_rate)
        totals = [a + b for a, b in zip(totals, flag_counts(held, calibration, bar), strict=True)]
    n, flagged, wrong, hits = totals
    return describe((n, flagged, wrong, hits))


def main() -> None:
    from extractor.extract.llm import resolve_llm_settings

    loro = "--loro" in sys.argv[1:]
    targets = {
        "rules": {"min_precision": None, "max_rate": 0.3},
        "llm": {"min_precision": 0.5, "max_rate": None},
    }
    settings = resolve_llm_settings(replay_dir=REPO / "eval" / "cassettes")
    measured = {
        "rules": judged(RULES_SETS, "rules"),
        "llm": judged(LLM_SETS, "llm", LLMResources(settings=settings)),
    }
    data = {"backends": {name: calibrate(measured[name], **targets[name]) for name in measured}}
    CALIBRATION_FILE.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for name, entry in data["backends"].items():
        print(
            f"{name}: {entry['measured_on_items']} items, {entry['wrong_items']} wrong, bar {entry['threshold']}"
        )
        print(f"  in sample: {in_sample(measured[name], entry)}")
        if loro:
            print(f"  leave one report out: {leave_one_report_out(measured[name], **targets[name])}")
    print(f"wrote {CALIBRATION_FILE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
