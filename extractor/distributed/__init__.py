"""Distributed extraction: many worker processes, on any machines, sharing one PostgreSQL.

`enqueue_paths` stores each file once (by the sha256 of its bytes) and queues one job per
file in a new run; `extractor worker` (`worker.serve`) runs jobs through procrastinate, a
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
from typing import TYPE_CHECKING

from extractor.distributed.jobs import QueuedFile, RunStatus, run_status
from extractor.load import iter_report_files
from extractor.store import Store

if TYPE_CHECKING:
    from extractor.extract.llm import LLMSettings

__all__ = ["EnqueueResult", "QueuedFile", "RunStatus", "enqueue_paths", "run_status", "setup_key_for"]


@dataclass(frozen=True)
class EnqueueResult:
    run_id: int
    files: list[QueuedFile]

    @property
    def queued(self) -> list[QueuedFile]:
        return [f for f in self.files if f.status == "queued"]


def setup_key_for(backend: str, settings: LLMSettings | None = None) -> str:
    """What makes two extractions of the same bytes the same: the backend and, for the model,
    every setting that changes its answers (never the key)."""
    parts: list[object] = [backend]
    if backend == "llm" and settings is not None:
        parts += [
            settings.model,
            settings.mode.value,
            settings.temperature,
            settings.max_output_tokens,
            settings.max_retries,
            settings.base_url,
        ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def enqueue_paths(
    store: Store, paths: list[Path], *, backend: str = "rules", settings: LLMSettings | None = None
) -> EnqueueResult:
    """A new run with one job per report file under `paths` (see module doc). Files already
    extracted with the same setup in an earlier run are recorded done without a job."""
    from extractor.distributed.worker import conninfo_for, defer_jobs

    conninfo_for(store)  # PostgreSQL only: fail before anything is written
    files = iter_report_files(paths)
    model = settings.model if backend == "llm" and settings is not None else None
    run_id = store.start_run(backend=backend, model=model)
    from extractor.distributed.jobs import register_files

    queued = register_files(store, run_id, files, setup_key=setup_key_for(backend, settings))
    asyncio.run(defer_jobs(store, [f.job_id for f in queued if f.status == "queued"]))
    return EnqueueResult(run_id, queued)
