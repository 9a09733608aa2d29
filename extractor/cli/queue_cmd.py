"""`extractor enqueue`, `extractor worker`, `extractor status`: extraction spread over workers.

Thin: the logic is extractor.distributed, imported when a command runs (it needs the
optional `procrastinate` package: `pip install 'extractor[queue]'`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from extractor.core.errors import ExtractorError

#: This module's commands, registered by name in extractor.cli.app.COMMANDS.
commands = typer.Typer()

_DB_HELP = "PostgreSQL URL (default: EXTRACTOR_DB_URL)."


def _fail(error: Exception) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {escape(str(error))}")
    return typer.Exit(1)


def _need_queue_package() -> None:
    try:
        import procrastinate  # noqa: F401
    except ImportError:
        raise ExtractorError(
            "the job queue needs the procrastinate package: pip install 'extractor[queue]'"
        ) from None


@commands.command("enqueue")
def enqueue_command(
    paths: Annotated[list[Path], typer.Argument(help="Report files or folders (.txt .docx .pdf .html).")],
    backend: Annotated[str, typer.Option("--backend", help="rules | llm.")] = "rules",
    db: Annotated[str | None, typer.Option("--db", help=_DB_HELP)] = None,
    model: Annotated[str | None, typer.Option("--model", help="LLM model name (llm backend).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint.")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="tools | json | md_json (llm backend).")] = None,
    ocr_batch_pages: Annotated[
        int,
        typer.Option(
            "--ocr-batch-pages",
            min=0,
            help="A scanned PDF with more pages than this is OCRed in batches of this many pages "
            "by any workers, then joined (0: one job per file).",
        ),
    ] = 2,
) -> None:
    """Store each report once and queue one extraction job per report (a long scan: one job per
    page batch, then a join), in a new run."""
    try:
        _need_queue_package()
        from extractor.distributed import enqueue_paths
        from extractor.pipeline.run import BACKENDS
        from extractor.store import Store

        if backend not in BACKENDS:
            raise ExtractorError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        settings = None
        if backend == "llm":
            from extractor.extract.llm import resolve_llm_settings

            settings = resolve_llm_settings(model=model, base_url=base_url, mode=mode)
        with Store(db) as store:
            result = enqueue_paths(
                store, paths, backend=backend, settings=settings, ocr_batch_pages=ocr_batch_pages
            )
    except ExtractorError as error:
        raise _fail(error) from None
    done = len(result.files) - len(result.queued)
    typer.echo(
        f"run {result.run_id}: {len(result.queued)} job(s) queued"
        + (f", {done} already extracted with the same setup" if done else "")
    )


@commands.command("worker")
def worker_command(
    db: Annotated[str | None, typer.Option("--db", help=_DB_HELP)] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Jobs run at once.")] = 1,
    tries: Annotated[
        int, typer.Option("--tries", min=1, help="Tries per job (a lost worker counts) before it fails.")
    ] = 3,
    lease: Annotated[
        float,
        typer.Option(
            "--lease", min=1.0, help="Seconds without a heartbeat before a worker's jobs are retried."
        ),
    ] = 30.0,
    rpm: Annotated[
        float | None,
        typer.Option("--rpm", help="Model requests per minute, shared by all workers (EXTRACTOR_MODEL_RPM)."),
    ] = None,
    tpm: Annotated[
        float | None,
        typer.Option("--tpm", help="Model tokens per minute, shared by all workers (EXTRACTOR_MODEL_TPM)."),
    ] = None,
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Stop when no job is left to start.")
    ] = False,
) -> None:
    """Run queued extraction jobs until stopped (Ctrl-C / SIGTERM lets running jobs finish)."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        _need_queue_package()
        from extractor.distributed.ratelimit import RPM_ENV, TPM_ENV, Budget, SharedRateLimit
        from extractor.distributed.worker import WorkerState, serve
        from extractor.store import Store

        budget = Budget(
            requests_per_minute=rpm if rpm is not None else _env_float(RPM_ENV),
            tokens_per_minute=tpm if tpm is not None else _env_float(TPM_ENV),
        )
        with Store(db) as store:
            if budget.limited:
                from extractor.extract.llm.client import set_request_gate

                set_request_gate(SharedRateLimit(store.engine, budget))
            serve(
                WorkerState(store=store, tries=tries),
                concurrency=concurrency,
                lease_s=lease,
                until_empty=until_empty,
            )
    except ExtractorError as error:
        raise _fail(error) from None


@commands.command("status")
def status_command(
    runs: Annotated[list[int] | None, typer.Argument(help="Run ids (default: every queued run).")] = None,
    db: Annotated[str | None, typer.Option("--db", help=_DB_HELP)] = None,
) -> None:
    """Jobs queued / running / done / failed per run, with the reason for each failure."""
    try:
        from extractor.distributed import run_status
        from extractor.store import Store

        with Store(db) as store:
            statuses = run_status(store, runs or None)
    except ExtractorError as error:
        raise _fail(error) from None
    console = Console(width=140)
    table = Table(title="队列 Queue")
    for column in ("run", "backend", "model", "queued", "running", "done", "failed"):
        table.add_column(column)
    for s in statuses:
        table.add_row(
            str(s.run_id),
            s.backend,
            s.model or "",
            *(str(s.counts.get(state, 0)) for state in ("queued", "running", "done", "failed")),
        )
    console.print(table)
    for s in statuses:
        for name, worker in s.running:
            console.print(f"run {s.run_id} running: {escape(name)} on {escape(worker)}")
        for name, reason in s.failures:
            console.print(f"run {s.run_id} [red]failed[/red]: {escape(name)}: {escape(reason)}")


def _env_float(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ExtractorError(f"{name} must be a number, not {value!r}") from None
