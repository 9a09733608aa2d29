"""Eval harness: score records against gold, validate gold, report and compare runs.

`score_document` / `aggregate` are pure; `run.py` does the file handling around them.
The names below load their module on first use, so importing one submodule (the scorer,
say) does not import the others (the gold check pulls in the whole check stage).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from extractor.evaluation.gold_check import GoldProblem, check_gold, check_record_against_source
    from extractor.evaluation.models import DocumentScore, EvalResult, OverallScore
    from extractor.evaluation.scoring import aggregate, score_document, score_record

_MODULE_OF = {
    "DocumentScore": "models",
    "EvalResult": "models",
    "GoldProblem": "gold_check",
    "OverallScore": "models",
    "aggregate": "scoring",
    "check_gold": "gold_check",
    "check_record_against_source": "gold_check",
    "score_document": "scoring",
    "score_record": "scoring",
}

__all__ = [
    "DocumentScore",
    "EvalResult",
    "GoldProblem",
    "OverallScore",
    "aggregate",
    "check_gold",
    "check_record_against_source",
    "score_document",
    "score_record",
]


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
