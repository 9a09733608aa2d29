"""Eval harness: score records against gold, validate gold, report and compare runs.

`score_document` / `aggregate` are pure; `run.py` does the file handling around them.
"""

from __future__ import annotations

from extractor.evaluation.gold_check import GoldProblem, check_gold, check_record_against_source
from extractor.evaluation.models import DocumentScore, EvalResult, OverallScore
from extractor.evaluation.scoring import aggregate, score_document, score_record

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
