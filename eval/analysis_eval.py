"""Score the cross-report analysis against the hand labels of eval/analysis.

    python eval/analysis_eval.py

Prints indicator mapping precision/recall (bars: P >= 0.95, R >= 0.85), plan follow-through
agreement (bar: >= 85 %) with the shipped thresholds and with thresholds re-calibrated on the
calibration issuers only (agreement reported on all plans and on the held-out issuers), and
the problem-theme pairwise precision/recall. Exits 1 when a bar is missed with the shipped
settings. Runs on the gold records (hand-labelled), never on extractor output, so it measures
the analysis alone.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

from extractor.analysis.followthrough import FollowSettings, calibrate, follow_through
from extractor.analysis.indicators import map_metrics
from extractor.analysis.records import ItemRef, SourcedRecord
from extractor.analysis.themes import find_themes
from extractor.core.schema import ListName, Record

HERE = Path(__file__).resolve().parent / "analysis"
MAPPING_PRECISION_BAR, MAPPING_RECALL_BAR, FOLLOW_BAR = 0.95, 0.85, 0.85


def load() -> tuple[list[SourcedRecord], dict]:
    records = [
        SourcedRecord(Record.model_validate_json(p.read_text(encoding="utf-8")), status="gold")
        for p in sorted((HERE / "gold").glob("*.json"))
    ]
    return records, json.loads((HERE / "labels.json").read_text(encoding="utf-8"))


def mapping_scores(
    records: list[SourcedRecord], labels: dict, regions: set[str] | None = None
) -> tuple[float, float, int]:
    expected = {(m["doc_id"], m["achievement"], m["metric"]): m["indicator"] for m in labels["metrics"]}
    got = {
        (v.ref.doc_id, v.ref.index, v.metric_index): v.indicator
        for v in map_metrics(records)
        if regions is None or v.source.region in regions
    }
    mapped = [k for k, v in got.items() if v is not None]
    labelled = [k for k in got if expected[k] is not None]
    correct = [k for k in mapped if got[k] == expected[k]]
    return len(correct) / max(1, len(mapped)), len(correct) / max(1, len(labelled)), len(got)


def follow_agreement(
    records: list[SourcedRecord], expected: dict[ItemRef, str], settings: FollowSettings
) -> tuple[int, int]:
    results = [r for r in follow_through(records, settings=settings) if r.match.ref in expected]
    return sum(r.verdict == expected[r.match.ref] for r in results), len(expected)


def theme_scores(records: list[SourcedRecord], labels: dict) -> tuple[float, float]:
    expected = {(p["doc_id"], p["problem"]): p["theme"] for p in labels["problems"]}
    predicted = {(p.ref.doc_id, p.ref.index): t.number for t in find_themes(records) for p in t.problems}
    pairs = list(itertools.combinations(sorted(expected), 2))
    same_gold = {pair for pair in pairs if expected[pair[0]] == expected[pair[1]]}
    same_pred = {pair for pair in pairs if predicted[pair[0]] == predicted[pair[1]]}
    both = len(same_gold & same_pred)
    return both / max(1, len(same_pred)), both / max(1, len(same_gold))


def main() -> int:
    records, labels = load()
    calibration = set(labels["calibration_regions"])
    held_out = {r.region for r in records} - calibration
    precision, recall, count = mapping_scores(records, labels)
    print(f"indicator mapping, all {count} metrics: precision {precision:.3f}, recall {recall:.3f}")
    hp, hr, hcount = mapping_scores(records, labels, held_out)
    print(
        f"indicator mapping, held-out issuers ({'、'.join(sorted(held_out))}, {hcount} metrics): precision {hp:.3f}, recall {hr:.3f}"
    )

    region_of = {ItemRef(p["doc_id"], ListName.PLANS, p["plan"]): p["region"] for p in labels["plans"]}
    expected = {ItemRef(p["doc_id"], ListName.PLANS, p["plan"]): p["verdict"] for p in labels["plans"]}
    held = {k: v for k, v in expected.items() if region_of[k] in held_out}
    shipped = FollowSettings()
    agree, total = follow_agreement(records, expected, shipped)
    print(f"follow-through, shipped thresholds {shipped}: {agree}/{total} plans agree ({agree / total:.1%})")
    fitted, fit_agreement = calibrate(
        records, {k: v for k, v in expected.items() if region_of[k] in calibration}
    )
    all_agree, _ = follow_agreement(records, expected, fitted)
    held_agree, held_total = follow_agreement(records, held, fitted)
    print(
        f"follow-through, calibrated on {'、'.join(sorted(calibration))} ({fit_agreement:.1%} there) -> {fitted}: "
        f"all {all_agree}/{total} ({all_agree / total:.1%}), held-out {held_agree}/{held_total} ({held_agree / held_total:.1%})"
    )
    tp, tr = theme_scores(records, labels)
    print(f"problem themes, same-theme pairs vs hand labels: precision {tp:.3f}, recall {tr:.3f}")
    met = precision >= MAPPING_PRECISION_BAR and recall >= MAPPING_RECALL_BAR and agree / total >= FOLLOW_BAR
    print("bars met" if met else "BARS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
