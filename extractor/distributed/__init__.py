"""Distributed extraction: many worker processes, on any machines, sharing one PostgreSQL.

`enqueue_paths` stores each file once (by the sha256 of its bytes) and queues one job per
file in a new run (a long scan: one job per page batch, then a join: `batches`); `extractor worker` (`worker.serve`) runs jobs through procrastinate, a
PostgreSQL task queue (no other server); `jobs.run_status` says what each run's files are
doing and why any failed. Model calls from every worker share one budget
(`ratelimit.SharedRateLimit`) and one answer cache (the store's `llm_cache` table).

The single-machine `extractor extract` does not use any of this.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractor.core.paths import PROMPTS_DIR
from extractor.distributed.batches import DEFAULT_BATCH_PAGES, plan_batches, register_batches
from extractor.distributed.jobs import QueuedFile, RunStatus, run_status
from extractor.load import iter_report_files
from extractor.store import Store

if TYPE_CHECKING:
    from extractor.extract.llm import LLMSettings

__all__ = [
    "EnqueueResult",
    "QueuedFile",
    "RunStatus",
    "enqueue_paths",
    "model_settings_of",
    "run_status",
    "setup_key_for",
]


@dataclass(frozen=True)
class EnqueueResult:
    run_id: int
    files: list[QueuedFile]

    @property
    def queued(self) -> list[QueuedFile]:
        return [f for f in self.files if f.status == "queued"]


def model_settings_of(settings: LLMSettings) -> dict[str, Any]:
    """The settings that change a model's answers, as a job carries them (never the key)."""
    return {
        "model": settings.model,
        "mode": settings.mode.value,
        "temperature": settings.temperature,
        "max_output_tokens": settings.max_output_tokens,
        "max_retries": settings.max_retries,
        "base_url": settings.base_url,
    }


def setup_key_for(backend: str, settings: LLMSettings | None = None) -> str:
    """What makes two extractions of the same bytes the same: the backend and, for the model,
    every setting that changes its answers."""
    parts: dict[str, Any] = {"backend": backend}
    if backend == "llm" and settings is not None:
        parts.update(model_settings_of(settings))
        # The prompt templates as the enqueuing checkout has them (few-shot examples are
        # chosen per document from the gold files, which a re-run may change: not keyed).
        parts["prompts"] = _folder_digest(PROMPTS_DIR)
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def enqueue_paths(
    store: Store,
    paths: list[Path],
    *,
    backend: str = "rules",
    settings: LLMSettings | None = None,
    ocr_batch_pages: int = DEFAULT_BATCH_PAGES,
) -> EnqueueResult:
    """A new run with one job per report file under `paths` (see module doc). Files already
    extracted with the same setup in an earlier run are recorded done without a job. A PDF
    with more than `ocr_batch_pages` scanned pages is queued as page batches of that many
    pages, OCRed by any workers, and a join (`extractor.distributed.batches`); 0: never split."""
    from extractor.distributed.worker import conninfo_for, defer_jobs

    conninfo_for(store)  # PostgreSQL only: fail before anything is written
    files = iter_report_files(paths)
    model = settings.model if backend == "llm" and settings is not None else None
    run_id = store.start_run(backend=backend, model=model)
    from extractor.distributed.jobs import register_files

    queued = register_files(store, run_id, files, setup_key=setup_key_for(backend, settings))
    carried = model_settings_of(settings) if backend == "llm" and settings is not None else None
    to_run = [f for f in queued if f.status == "queued"]
    page_batches = {}
    for file in to_run:
        split = plan_batches(Path(file.name).read_bytes(), file.name, batch_pages=ocr_batch_pages)
        if split:
            register_batches(store, file.job_id, split)
            page_batches[file.job_id] = split
    asyncio.run(
        defer_jobs(store, [f.job_id for f in to_run], model_settings=carried, page_batches=page_batches)
    )
    return EnqueueResult(run_id, queued)
