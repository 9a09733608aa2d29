"""Output tokens per report on the LLM path, before and after the model stopped copying
metric evidence (replayed answers from eval/cassettes; no network).

    python eval/bench_tokens.py

"After" is what the recorded answers cost: the outline, meta and section answers as given.
"Before" is the same answers in the previous answer format, where every metric also carried
its evidence phrase copied from the report (rebuilt here from the phrase the program now
locates for it) and there was no outline call. Tokens are estimated from characters (no
tokenizer is available offline): one token per CJK character and per four other characters,
the usual rule of thumb for GPT-4-class tokenizers on Chinese text; the ratio, not the
absolute count, is the figure to read. Bar (issue 10): after <= 0.5 x before.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from extractor.extract.llm.grounding import metric_evidence  # noqa: E402

CASSETTES = REPO / "eval" / "cassettes"
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def estimated_tokens(text: str) -> float:
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk) / 4


def _passages(user_text: str) -> dict[int, str]:
    return {int(n): body for n, body in re.findall(r"\[P(\d+)\](.*?)\[/P\1\]", user_text, flags=re.S)}


def old_format(answer: dict, user_text: str) -> dict:
    """The section answer as the previous format had it: each metric with its evidence."""
    passages = _passages(user_text)
    items = []
    for item in answer.get("items", []):
        text = item.get("quote") or "".join(passages.get(n, "") for n in item.get("passages", []))
        metrics = [
            {**m, "evidence": metric_evidence(m["name"], float(m["value"]), m["unit"], text)}
            for m in item.get("metrics", [])
        ]
        items.append({**item, "metrics": metrics})
    return {"items": items}


def main() -> None:
    rows = []
    for path in sorted(CASSETTES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        before = after = 0.0
        for interaction in data["interactions"]:
            answer_text = interaction["answer"]
            after += estimated_tokens(answer_text)
            kind = interaction["call"].split(" ", 1)[0]
            if kind == "outline":
                continue  # the previous format had no outline call
            if kind == "items":
                user = interaction["messages"][1]["content"]
                answer_text = json.dumps(old_format(json.loads(answer_text), user), ensure_ascii=False)
            before += estimated_tokens(answer_text)
        rows.append((data["doc_id"], before, after))
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
