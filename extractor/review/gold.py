"""「设为金标准」: write a reviewed record as a gold file, only if it passes the gold validator.

Gold files are labelled from the text by people: only a record a reviewer approved is
promoted, in the spec's exact shape (pipeline-only fields dropped), after the same checks
`extractor gold check` runs (every evidence verbatim, every metric value in its evidence).
An existing gold file is never replaced unless the caller says so explicitly.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from extractor.check.record import record_problems
from extractor.core.errors import GoldError
from extractor.core.schema import Achievement, Metric, Record
from extractor.review.audit import describe_path
from extractor.review.locate import shorten
from extractor.store import StoredRecord

#: A doc_id becomes a file name: no path separators, no leading dot.
_SAFE_DOC_ID = re.compile(r"^[^\\/:*?\"<>|\s.][^\\/:*?\"<>|\s]*$")
_PROBLEMS_SHOWN = 5
_PATH_STEP = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def gold_path(gold_dir: Path, doc_id: str) -> Path:
    """Where the gold file of `doc_id` lives. Raises GoldError for a doc_id that is not a
    plain file name."""
    if not _SAFE_DOC_ID.match(doc_id) or ".." in doc_id:
        raise GoldError(f"报告编号「{doc_id}」不能用作文件名", source=doc_id)
    return gold_dir / f"{doc_id}.json"


def promote_to_gold(record: Record, source: str, *, gold_dir: Path, overwrite: bool = False) -> Path:
    """Write `record` to `<gold_dir>/<doc_id>.json` in the spec's shape and return the path.

    Raises GoldError (Chinese message, nothing written) if the gold validator finds a
    problem, or if the file exists and `overwrite` is False.
    """
    path = gold_path(gold_dir, record.doc_id)
    problems = record_problems(record, source)
    if problems:
        shown = "；".join(
            f"{describe_path(p.path)}：{_reason(record, p.path)}" for p in problems[:_PROBLEMS_SHOWN]
        )
        more = f"（另有 {len(problems) - _PROBLEMS_SHOWN} 处）" if len(problems) > _PROBLEMS_SHOWN else ""
        raise GoldError(f"金标准校验未通过，共 {len(problems)} 处问题：{shown}{more}", source=str(path))
    if path.exists() and not overwrite:
        raise GoldError("金标准文件已存在；如确需替换，请勾选「覆盖已有金标准」", source=str(path))
    text = record.to_json(internal=False) + "\n"
    Record.model_validate_json(text)  # the written file must be a valid record on its own
    gold_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    if overwrite:
        tmp.replace(path)
    else:
        try:
            # Link instead of rename: refuses (FileExistsError) if the file appeared meanwhile.
            os.link(tmp, path)
        except FileExistsError as e:
            raise GoldError("金标准文件已存在；如确需替换，请勾选「覆盖已有金标准」", source=str(path)) from e
        finally:
            tmp.unlink(missing_ok=True)
    return path


def _reason(record: Record, path: str) -> str:
    """The gold validator's finding at `path` in Chinese (its own reasons are English)."""
    value: Any = record.model_dump(mode="json")
    for name, index in _PATH_STEP.findall(path):
        value = value[name] if not index else value[name][int(index)]
    if path.endswith(".value"):
        metric = _metric_at(record, path)
        return f"数值 {metric.value:g} 没有出现在其证据「{shorten(metric.evidence, 40)}」中"
    if not str(value or "").strip():
        return "证据为空"
    return f"证据不是原文（须逐字摘自报告）：「{shorten(str(value), 40)}」"


def _metric_at(record: Record, path: str) -> Metric:
    (list_name, item_index), (_, metric_index) = _PATH_STEP.findall(path)[:2]
    item = record.items(list_name)[int(item_index)]
    assert isinstance(item, Achievement)  # only achievements carry metrics
    return item.metrics[int(metric_index)]


def promote_stored(stored: StoredRecord, source: str, *, gold_dir: Path, overwrite: bool = False) -> Path:
    """`promote_to_gold` for a stored record, which must be an approved review."""
    if stored.kind != "review" or stored.status != "approved":
        raise GoldError(
            "只有审核「已通过」的记录才能设为金标准；请先审核并以「已通过」保存",
            source=stored.document.doc_id,
        )
    return promote_to_gold(stored.record, source, gold_dir=gold_dir, overwrite=overwrite)
