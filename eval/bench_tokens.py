"""Output tokens per report on the LLM path, before and after the leaner answer format
(replayed answers from eval/cassettes; no network).

    python eval/bench_tokens.py

"After" is what the recorded answers cost: every answer the replay of each report used (meta,
outline and section calls). "Before" is the same content in the previous answer format, rebuilt
from the record the replay produced: every item with all of its fields written out (null ones
included) and every metric written out with name, value, unit and its evidence phrase copied
from the report, and no outline call. Tokens are estimated from characters (no tokenizer is
available offline): one token per CJK character and per four other characters, the usual rule
of thumb for GPT-4-class tokenizers on Chinese text; the ratio, not the absolute count, is the
figure to read. Bar (issue 10): after <= 0.5 x before.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from extractor.core.schema import Achievement, ListName, Problem, Record  # noqa: E402
from extractor.evaluation.documents import find_document  # noqa: E402
from extractor.extract.llm import resolve_llm_settings  # noqa: E402
from extractor.load import load_document  # noqa: E402
from extractor.pipeline.run import LLMResources, extract_document  # noqa: E402

CASSETTES = REPO / "eval" / "cassettes"
DOC_DIRS = [REPO / "eval" / "docs", REPO / "eval" / "holdout"]
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def estimated_tokens(text: str) -> float:
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk) / 4


def old_format(record: Record) -> str:
    """The record's meta and items as the previous format's answers would have written them."""
    answers = [json.dumps(record.meta.model_dump(mode="json", exclude={"source"}), ensure_ascii=False)]
    for list_name in ListName:
        items = []
        for number, item in enumerate(record.items(list_name), start=1):
            metrics = (
                [
                    {"name": m.name, "value": m.value, "unit": m.unit, "evidence": m.evidence}
                    for m in item.metrics
                ]
                if isinstance(item, Achievement)
                else []
            )
            cause = item.cause if isinstance(item, Problem) else None
            items.append(
                {
                    "passages": [number],
                    "quote": None,
                    "area": item.area.value,
                    "text": item.text,
                    "metrics": metrics,
                    "cause": cause,
                    "kind": None,
                }
            )
        answers.append(json.dumps({"items": items}, ensure_ascii=False))
    return "\n".join(answers)


def used_answers(doc_id: str, record: Record) -> str:
    """The recorded answers of this report (pruned cassettes hold only the ones replay uses)."""
    data = json.loads((CASSETTES / f"{doc_id}.json").read_text(encoding="utf-8"))
    return "\n".join(interaction["answer"] for interaction in data["interactions"])


def main() -> None:
    settings = resolve_llm_settings(replay_dir=CASSETTES)
    rows = []
    for path in sorted(CASSETTES.glob("*.json")):
        doc_id = path.stem
        doc_path = next((p for d in DOC_DIRS if (p := find_document(d, doc_id)) is not None), None)
        if doc_path is None:
            continue
        record = extract_document(load_document(doc_path), backend="llm", llm=LLMResources(settings=settings))
        rows.append(
            (doc_id, estimated_tokens(old_format(record)), estimated_tokens(used_answers(doc_id, record)))
        )
    for doc_id, before, after in rows:
        print(f"{doc_id:18s} before {before:7.0f}  after {after:7.0f}  ratio {after / before:.2f}")
    total_before = sum(r[1] for r in rows)
    total_after = sum(r[2] for r in rows)
    n = len(rows)
    print(
        f"output tokens per report (estimated): before {total_before / n:.0f}, after {total_after / n:.0f}, "
        f"ratio {total_after / total_before:.2f} (bar <= 0.50)"
    )


if __name__ == "__main__":
    main()
