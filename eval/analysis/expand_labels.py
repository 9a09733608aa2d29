"""Expand the hand labels (hand_labels.py) into the gold records (gold/*.json, the spec's
format) and the analysis expectations (labels.json).

    python eval/analysis/expand_labels.py

The only mechanical step is copying an item's evidence: an item is labelled by the opening
words of its point, and the evidence is that point's whole paragraph, copied verbatim.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hand_labels import CALIBRATION_REGIONS, DOCS, HERE


def paragraph(text: str, opening: str, doc_id: str) -> str:
    """The whole paragraph (line) that starts with `opening`, verbatim."""
    hits = [line.strip() for line in text.splitlines() if line.strip().startswith(opening)]
    if len(hits) != 1:
        raise SystemExit(f"{doc_id}: opening {opening!r} matches {len(hits)} paragraphs")
    return hits[0]


def build() -> None:
    labels: dict[str, list] = {"metrics": [], "problems": [], "plans": []}
    for doc_id, doc in DOCS.items():
        text = (HERE / "docs" / f"{doc_id}.txt").read_text(encoding="utf-8")
        issuer, region, year, plan_year, published = doc["meta"]
        record = {
            "schema_version": 1,
            "doc_id": doc_id,
            "meta": {
                "issuer": issuer,
                "region": region,
                "report_year": year,
                "period": "annual",
                "plan_year": plan_year,
                "publish_date": published,
            },
            "achievements": [],
            "problems": [],
            "plans": [],
        }
        for a_index, (area, summary, opening, metrics) in enumerate(doc["achievements"]):
            evidence = paragraph(text, opening, doc_id)
            record["achievements"].append(
                {
                    "area": area,
                    "text": summary,
                    "evidence": evidence,
                    "metrics": [
                        {"name": n, "value": v, "unit": u, "evidence": e} for n, v, u, e, _ in metrics
                    ],
                }
            )
            for m_index, (name, value, unit, metric_evidence, indicator) in enumerate(metrics):
                if metric_evidence not in evidence:
                    raise SystemExit(f"{doc_id}: metric evidence {metric_evidence!r} not in its item")
                labels["metrics"].append(
                    {
                        "doc_id": doc_id,
                        "achievement": a_index,
                        "metric": m_index,
                        "name": name,
                        "value": value,
                        "unit": unit,
                        "indicator": indicator,
                    }
                )
        for p_index, (area, summary, opening, theme) in enumerate(doc["problems"]):
            record["problems"].append(
                {"area": area, "text": summary, "cause": None, "evidence": paragraph(text, opening, doc_id)}
            )
            labels["problems"].append({"doc_id": doc_id, "problem": p_index, "text": summary, "theme": theme})
        next_id = f"{doc_id.rsplit('-', 1)[0]}-{year + 1}"
        for p_index, (area, summary, opening, verdict, achieved) in enumerate(doc["plans"]):
            record["plans"].append(
                {"area": area, "text": summary, "evidence": paragraph(text, opening, doc_id)}
            )
            if verdict is None:
                continue  # no report of the next year to check against
            openings = [a[2] for a in DOCS[next_id]["achievements"]]
            labels["plans"].append(
                {
                    "doc_id": doc_id,
                    "plan": p_index,
                    "region": region,
                    "text": summary,
                    "verdict": verdict,
                    "next_doc_id": next_id,
                    "achievement": None if achieved is None else openings.index(achieved),
                }
            )
        out = HERE / "gold" / f"{doc_id}.json"
        out.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    labels["calibration_regions"] = CALIBRATION_REGIONS
    (HERE / "labels.json").write_text(
        json.dumps(labels, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(
        f"{len(DOCS)} gold records, {len(labels['metrics'])} metric labels, "
        f"{len(labels['problems'])} problem labels, {len(labels['plans'])} plan labels"
    )


if __name__ == "__main__":
    build()
