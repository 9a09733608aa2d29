"""File handling around the pure scorer: read gold, predictions and reports; score them all.

The documents scored are those with a gold file. Gold is read only after every prediction
exists, and nothing from a gold file ever reaches the extractor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from extractor.core.errors import ConfigError, ExtractorError, GoldError
from extractor.core.schema import Record
from extractor.evaluation.documents import find_document, read_document
from extractor.evaluation.models import EvalResult
from extractor.evaluation.scoring import aggregate, score_document
from extractor.load import load_document


def gold_ids(gold_dir: Path) -> list[str]:
    """Document ids of the gold files (`<doc_id>.json`), sorted; GoldError if there are none."""
    if not gold_dir.is_dir():
        raise GoldError("no such gold directory", source=str(gold_dir))
    ids = sorted(p.stem for p in gold_dir.glob("*.json"))
    if not ids:
        raise GoldError("no gold files (*.json)", source=str(gold_dir))
    return ids


def read_record(path: Path) -> Record:
    """A record file; raises ExtractorError naming the file and the problem."""
    try:
        return Record.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except OSError as e:
        raise ExtractorError(f"cannot read: {e.strerror}", source=str(path)) from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ExtractorError(f"invalid JSON: {e}", source=str(path)) from e
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "record"
        raise ExtractorError(
            f"not a record ({e.error_count()} errors; first at {where}: {first['msg']})", source=str(path)
        ) from e


def _source_for(docs_dir: Path, doc_id: str) -> str:
    path = find_document(docs_dir, doc_id)
    if path is None:
        raise GoldError(f"no document '{doc_id}' in {docs_dir}", source=doc_id)
    return read_document(path)


def _score_all(
    ids: list[str],
    gold_dir: Path,
    docs_dir: Path,
    predictions: dict[str, Record],
    sources: dict[str, str],
    warnings: list[str],
) -> EvalResult:
    scores = []
    for doc_id in ids:
        gold_path = gold_dir / f"{doc_id}.json"
        try:
            gold = read_record(gold_path)
        except ExtractorError as e:
            raise GoldError(f"{e.message} (run `extractor gold check`)", source=str(gold_path)) from e
        source = sources[doc_id] if doc_id in sources else _source_for(docs_dir, doc_id)
        scores.append(score_document(predictions[doc_id], gold, source))
    return EvalResult(documents=scores, overall=aggregate(scores), warnings=warnings)


def merge_results(results: list[EvalResult]) -> EvalResult:
    """One result over the documents of several (gold, docs) sets, micro-averaged as one."""
    documents = [doc for result in results for doc in result.documents]
    warnings = [warning for result in results for warning in result.warnings]
    return EvalResult(documents=documents, overall=aggregate(documents), warnings=warnings)


def evaluate_predictions(*, gold_dir: Path, docs_dir: Path, pred_dir: Path) -> EvalResult:
    """Score `<pred_dir>/<doc_id>.json` against each gold file.

    A missing or unreadable prediction is scored as an empty record and reported in
    `warnings` (the run goes on); a bad gold file or a missing report raises GoldError.
    """
    if not pred_dir.is_dir():
        raise ExtractorError("no such prediction directory", source=str(pred_dir))
    ids = gold_ids(gold_dir)
    warnings: list[str] = []
    predictions: dict[str, Record] = {}
    for doc_id in ids:
        path = pred_dir / f"{doc_id}.json"
        if not path.is_file():
            warnings.append(f"{path}: no prediction; scored as empty")
            predictions[doc_id] = Record(doc_id=doc_id)
            continue
        try:
            predictions[doc_id] = read_record(path)
        except ExtractorError as e:
            warnings.append(f"{e}; scored as empty")
            predictions[doc_id] = Record(doc_id=doc_id)
            continue
        if predictions[doc_id].doc_id != doc_id:
            warnings.append(f"{path}: doc_id '{predictions[doc_id].doc_id}' differs from the file name")
    return _score_all(ids, gold_dir, docs_dir, predictions, {}, warnings)


Extractor = Callable[..., Record]


def evaluate_backend(
    *, gold_dir: Path, docs_dir: Path, backend: str, extract: Extractor | None = None
) -> EvalResult:
    """Run the extractor (`backend`) on each gold document's report, then score.

    The extractor sees only the loaded report; gold files are opened after all extraction.
    A per-document extraction failure is scored as empty and reported in `warnings`; a
    configuration error (unknown backend, missing key) aborts. `extract` replaces
    `extractor.pipeline.run.extract_document` (same signature), for callers that wrap it.
    """
    if extract is None:
        from extractor.pipeline.run import extract_document

        extract = extract_document
    ids = gold_ids(gold_dir)
    warnings: list[str] = []
    predictions: dict[str, Record] = {}
    sources: dict[str, str] = {}
    for doc_id in ids:
        path = find_document(docs_dir, doc_id)
        if path is None:
            raise GoldError(f"no document '{doc_id}' in {docs_dir}", source=doc_id)
        doc = load_document(path)
        sources[doc_id] = doc.text  # score against exactly the text the extractor saw
        try:
            predictions[doc_id] = extract(doc, backend=backend)
        except ConfigError:
            raise
        except ExtractorError as e:
            warnings.append(f"{path}: extraction failed ({e}); scored as empty")
            predictions[doc_id] = Record(doc_id=doc_id)
    return _score_all(ids, gold_dir, docs_dir, predictions, sources, warnings)
