"""Measure how often each flag marks a wrong item, per backend, and set the review bar.

    python eval/calibrate_flags.py            # writes extractor/check/flag_calibration.json

Rules backend: every hand-labelled report in eval/gold, eval/holdout and tests/fixtures.
LLM backend: the recorded answers in eval/cassettes, replayed (eval/gold and eval/holdout); the
area classifier's flag is judged out of sample (see `area_model_out_of_sample`).
For each flag: wrong share = (wrong items with it + 1) / (items with it + 2). The bar is the
confidence below which items need review, chosen on these documents: for the LLM path the
highest recall with flag precision >= 0.5, for the rules backend the highest recall flagging
at most 30 % of items; where no bar meets its target, the bar with the best F1 of flagging
(recorded as target_met = false). Extraction never reads gold; calibration reads it afterwards, as the
eval does.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from extractor.check.confidence import CALIBRATION_FILE, Calibration, item_confidence  # noqa: E402
from extractor.core.schema import FlagCode, ListName, Record  # noqa: E402
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


def judged(sets: list[tuple[Path, Path]], backend: str, llm: LLMResources | None = None) -> list[tuple]:
    out = []
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
            out += judge_items(pred, gold, doc.text)
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


def calibrate(items: list[tuple], *, min_precision: float | None, max_rate: float | None) -> dict:
    seen, wrong = Counter(), Counter()
    base_wrong = sum(w for _item, w in items)
    for item, is_wrong in items:
        for code in {f.code.value for f in item.flags}:
            seen[code] += 1
            wrong[code] += is_wrong
    unflagged = [w for item, w in items if not item.flags]
    base = (sum(unflagged) + 1) / (len(unflagged) + 2)
    shares = {code: round((wrong[code] + 1) / (seen[code] + 2), 4) for code in seen}
    calibration = Calibration(wrong_share=shares, base=round(base, 4))
    confidences = sorted({item_confidence(item, calibration) for item, _ in items})
    best = (0.0, 0.0)  # (recall, threshold) meeting the target
    best_f1 = (0.0, 0.0)  # (F1, threshold): the fallback when no bar meets the target
    for bar in [c + 1e-6 for c in confidences]:
        flagged = [w for item, w in items if item_confidence(item, calibration) < bar]
        hits = sum(flagged)
        precision = hits / len(flagged) if flagged else 0.0
        recall = hits / base_wrong if base_wrong else 0.0
        rate = len(flagged) / len(items)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best_f1[0]:
            best_f1 = (f1, round(bar, 6))
        if min_precision is not None and precision < min_precision:
            continue
        if max_rate is not None and rate > max_rate:
            continue
        if recall > best[0]:
            best = (recall, round(bar, 6))
    met = best[0] > 0
    return {
        "wrong_share": shares,
        "base": round(base, 4),
        "threshold": best[1] if met else best_f1[1],
        "target_met": met,
        "measured_on_items": len(items),
        "wrong_items": base_wrong,
    }


def main() -> None:
    from extractor.extract.llm import resolve_llm_settings

    rules = calibrate(judged(RULES_SETS, "rules"), min_precision=None, max_rate=0.3)
    settings = resolve_llm_settings(replay_dir=REPO / "eval" / "cassettes")
    llm = calibrate(
        judged(LLM_SETS, "llm", LLMResources(settings=settings)), min_precision=0.5, max_rate=None
    )
    data = {"backends": {"rules": rules, "llm": llm}}
    CALIBRATION_FILE.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for name, entry in data["backends"].items():
        print(
            f"{name}: {entry['measured_on_items']} items, {entry['wrong_items']} wrong, bar {entry['threshold']}"
        )
    print(f"wrote {CALIBRATION_FILE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
