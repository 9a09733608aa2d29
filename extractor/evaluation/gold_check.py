"""Gold file validation: shape, file naming, grounding and metric values.

A gold file must be a record (`extractor.core.schema.Record`, extra fields forbidden) whose
`doc_id` is its file name, whose report exists, whose every evidence passage is verbatim
in the report, and whose every metric value is stated in the metric's own evidence
(Arabic or Chinese numerals, with 万/亿 multipliers, 余/多 and thousands separators).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from extractor.check.record import record_problems
from extractor.core.errors import ExtractorError
from extractor.core.schema import Area, Record
from extractor.evaluation.documents import find_document, read_document

ROOT = "$"  # item path of a problem with the whole file


class GoldProblem(BaseModel):
    """One failure, printed as `file: item path: reason`."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.reason}"


def check_gold(gold_path: Path, docs_dir: Path) -> list[GoldProblem]:
    """Every problem of one gold file, or of every `*.json` in a gold directory.

    Never raises for bad gold content: each defect becomes a GoldProblem. An empty list means
    every file passed every check.
    """
    if gold_path.is_dir():
        files = sorted(gold_path.glob("*.json"))
        if not files:
            return [GoldProblem(file=str(gold_path), path=ROOT, reason="no gold files (*.json)")]
    elif gold_path.is_file():
        files = [gold_path]
    else:
        return [GoldProblem(file=str(gold_path), path=ROOT, reason="no such file or directory")]
    problems: list[GoldProblem] = []
    for path in files:
        problems.extend(check_gold_file(path, docs_dir))
    return problems


def check_gold_file(path: Path, docs_dir: Path) -> list[GoldProblem]:
    """Problems of one gold file (see `check_gold`)."""
    file = str(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return [GoldProblem(file=file, path=ROOT, reason="not UTF-8")]
    except json.JSONDecodeError as e:
        return [
            GoldProblem(
                file=file, path=ROOT, reason=f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}"
            )
        ]
    except OSError as e:
        return [GoldProblem(file=file, path=ROOT, reason=f"cannot read: {e.strerror}")]
    if not isinstance(raw, dict):
        return [GoldProblem(file=file, path=ROOT, reason="not a JSON object")]

    problems: list[GoldProblem] = []
    doc_id = raw.get("doc_id")
    if isinstance(doc_id, str) and doc_id != path.stem:
        problems.append(
            GoldProblem(
                file=file, path="doc_id", reason=f"'{doc_id}' does not match the file name '{path.stem}'"
            )
        )
    try:
        record = Record.model_validate(raw)
    except ValidationError as e:
        return problems + _shape_problems(file, e)

    doc_path = find_document(docs_dir, record.doc_id)
    if doc_path is None:
        problems.append(
            GoldProblem(file=file, path="doc_id", reason=f"no document '{record.doc_id}' in {docs_dir}")
        )
        return problems
    try:
        source = read_document(doc_path)
    except ExtractorError as e:
        problems.append(GoldProblem(file=file, path="doc_id", reason=str(e)))
        return problems
    return problems + check_record_against_source(record, source, file=file)


def check_record_against_source(record: Record, source: str, *, file: str = "") -> list[GoldProblem]:
    """Grounding and metric-value problems of a record against its report text.

    The check stage's verdict (`extractor.check.record_problems`): every item and metric
    evidence verbatim in `source` (NFKC, whitespace removed) and every metric value stated
    in its own evidence. `file` labels the problems.
    """
    label = file or record.doc_id
    return [GoldProblem(file=label, path=p.path, reason=p.reason) for p in record_problems(record, source)]


# Pydantic tags union branches in error locations (value -> int / float); they are not fields.
_UNION_TAG = re.compile(r"^(int|float|str|bool|none|Span|.*\[.*\])$")


def _shape_problems(file: str, error: ValidationError) -> list[GoldProblem]:
    problems: dict[str, GoldProblem] = {}
    for detail in error.errors():
        loc = list(detail["loc"])
        while len(loc) > 1 and isinstance(loc[-1], str) and _UNION_TAG.match(loc[-1]):
            loc.pop()
        path = _format_loc(loc)
        if path in problems:  # one line per field, not one per union branch
            continue
        if detail["type"] == "extra_forbidden":
            reason = "extra field (not in the record format)"
        elif loc and loc[-1] == "area":
            reason = (
                f"area '{detail.get('input')}' is not in the closed list ({'、'.join(a.value for a in Area)})"
            )
        else:
            reason = detail["msg"]
        problems[path] = GoldProblem(file=file, path=path, reason=reason)
    return list(problems.values())


def _format_loc(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or ROOT
