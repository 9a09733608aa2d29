"""`extractor extract`, `extractor show`, `extractor schema`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from extractor.cli.app import own_process
from extractor.cli.logs import configure_logging
from extractor.core.collector import settle_startup_objects
from extractor.core.errors import ExtractorError
from extractor.core.labels import LIST_LABELS
from extractor.core.schema import Achievement, Problem, Record, record_json_schema
from extractor.pipeline.batch import FileOutcome, extract_batch
from extractor.pipeline.run import BACKENDS

if TYPE_CHECKING:
    from extractor.load.ocr_run import OcrSettings

#: This module's commands, registered by name in extractor.cli.app.COMMANDS.
commands = typer.Typer()

_LISTS = tuple(LIST_LABELS.items())
#: Rows of the summary table before extracted reports are summed up in one row.
SUMMARY_ROWS = 50
_SUMMED = ("achievements", "problems", "plans", "metrics", "flagged")
#: Exit status when some reports failed and the others were extracted (1: none extracted).
EXIT_SOME_FAILED = 3


def _console(stderr: bool = False) -> Console:
    # emoji=False: nothing here prints :emoji: codes, and a file or issuer name that happens
    # to contain one stays as written; it also spares loading rich's emoji table (~10 ms).
    return Console(stderr=stderr, width=None if sys.stdout.isatty() else 140, emoji=False)


def _open_store(db: str | None):
    from extractor.store import Store

    return Store(db)


@commands.command("extract")
def extract_command(
    paths: Annotated[list[Path], typer.Argument(help="Report files or folders (.txt .docx .pdf .html).")],
    backend: Annotated[str, typer.Option("--backend", help=f"One of: {', '.join(BACKENDS)}.")] = "rules",
    out: Annotated[Path, typer.Option("--out", help="Folder for one JSON record per report.")] = Path("out"),
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: EXTRACTOR_DB_URL or ./extractor.db).")
    ] = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Write JSON only; do not touch the database.")
    ] = False,
    model: Annotated[str | None, typer.Option("--model", help="LLM model name (llm backend).")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint (llm backend).")
    ] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="tools | json | md_json (llm backend).")] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, help="Reports extracted at once.")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Skip reports already extracted with the same backend, model and prompt."
        ),
    ] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Bypass the LLM response cache.")] = False,
    replay: Annotated[
        Path | None, typer.Option("--replay", help="LLM: answer from the cassettes in DIR (no network).")
    ] = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="LLM: call the provider and record cassettes in DIR.")
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Processes OCRing scanned pages in parallel.")
    ] = 1,
    ocr_rotated: Annotated[
        bool,
        typer.Option(
            "--ocr-rotated", help="OCR: also read lines upside down (slower; env EXTRACTOR_OCR_ROTATED)."
        ),
    ] = False,
    ocr_max_pages: Annotated[
        int | None,
        typer.Option(
            "--ocr-max-pages",
            min=1,
            help="Refuse a file with more scanned pages (default 200; EXTRACTOR_OCR_MAX_PAGES).",
        ),
    ] = None,
    ocr_time_limit: Annotated[
        float | None,
        typer.Option(
            "--ocr-time-limit",
            min=1,
            help="Seconds of OCR per file before it fails (default 900; EXTRACTOR_OCR_TIME_LIMIT).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
) -> None:
    """Extract one structured record per report; store it and write it as JSON.

    Exit status: 0 every report extracted (or skipped), 3 some failed, 1 none extracted."""
    configure_logging(verbose=verbose)
    console = _console()
    err = _console(stderr=True)
    try:
        llm = None
        if backend == "llm":
            from extractor.extract.llm import resolve_llm_settings

            llm = resolve_llm_settings(
                model=model,
                base_url=base_url,
                mode=mode,
                concurrency=concurrency,
                cache=False if no_cache else None,
                replay_dir=replay,
                record_dir=record,
            )
        store = None if no_store else _open_store(db)
        with Progress(
            # Plain text columns (no markup, hence no emoji codes), as names are shown verbatim.
            TextColumn("{task.fields[label]}", style="bold", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}", markup=False),
            console=err,
            transient=False,
            # Redrawn ten times a second on a terminal only: into a file or a pipe only the
            # final state is written, so redrawing it there is work nobody sees.
            auto_refresh=err.is_terminal,
        ) as progress:
            task = progress.add_task("", total=None, label="提取")

            def on_done(outcome: FileOutcome) -> None:
                if outcome.error:
                    progress.console.print(f"[red]✗[/red] {escape(outcome.error)}")
                    if verbose and outcome.traceback:
                        progress.console.print(escape(outcome.traceback.rstrip()))
                progress.update(task, advance=1, description=outcome.path.name)

            from extractor.load import find_report_files
            from extractor.load.ocr_run import ocr_session

            found = find_report_files(paths)
            progress.update(task, total=len(found.files) + len(found.problems))
            ocr = _ocr_settings(workers, ocr_rotated, ocr_max_pages, ocr_time_limit)
            if own_process():
                settle_startup_objects()
            with ocr_session(ocr, progress=_OcrPageBar(progress)):
                result = extract_batch(
                    found.files,
                    problems=found.problems,
                    backend=backend,
                    store=store,
                    out_dir=out,
                    concurrency=concurrency or 1,
                    resume=resume,
                    llm=llm,
                    on_done=on_done,
                    keep_records=False,  # the summary table needs only each record's summary
                )
    except ExtractorError as error:
        if verbose:
            raise
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(1) from None
    console.print(_summary_table(result.outcomes))
    if llm is not None:
        # A fully cached run costs nothing only if the model has a price at all.
        cost = result.cost_usd if llm.price() is not None else None
        console.print(
            f"model {llm.model}: {result.input_tokens} tokens in, {result.output_tokens} tokens out"
            + (f", estimated ${cost:.4f}" if cost is not None else ", cost unknown (no price for this model)")
            + " (retries included; cached calls cost nothing)"
        )
    console.print(
        f"{len(result.extracted)} extracted, {len(result.skipped)} skipped, {len(result.failed)} failed"
        + (f"; records in {out}/" if result.extracted else "")
    )
    if not result.extracted and not result.skipped:
        raise typer.Exit(1)
    if result.failed:
        raise typer.Exit(EXIT_SOME_FAILED)


def _ocr_settings(
    workers: int, rotated: bool, max_pages: int | None, time_limit: float | None
) -> OcrSettings:
    from dataclasses import replace

    from extractor.load.ocr_run import OcrSettings

    settings = OcrSettings.from_env()
    return replace(
        settings,
        workers=workers,
        rotated=rotated or settings.rotated,
        max_pages=max_pages or settings.max_pages,
        time_limit_s=time_limit or settings.time_limit_s,
    )


class _OcrPageBar:
    """One progress row per scanned file, advancing page by page, gone when the file is read."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def page_done(self, source: str, done: int, total: int) -> None:
        if source not in self.tasks:
            name = Path(source).name
            self.tasks[source] = self.progress.add_task(name, total=total, label="OCR 识别")
        self.progress.update(self.tasks[source], completed=done)

    def file_done(self, source: str) -> None:
        task = self.tasks.pop(source, None)
        if task is not None:
            self.progress.remove_task(task)


def _summary_table(outcomes: list[FileOutcome]) -> Table:
    """One row per report; past `SUMMARY_ROWS` rows, only the reports that were not
    extracted get a row of their own and the rest are summed up in a last row (a long batch
    would otherwise scroll its failures away, and rich takes a millisecond per row)."""
    table = Table(title="提取结果 Extraction summary")
    for column in ("file", "issuer", "year", "成效", "不足", "计划", "指标", "flagged", "status"):
        table.add_column(column, overflow="fold")
    listed = outcomes
    if len(outcomes) > SUMMARY_ROWS:
        listed = [o for o in outcomes if o.summary is None]
    for o in listed:
        r = o.summary
        if r is None:
            status = (
                "skipped (already extracted)" if o.skipped else f"[red]failed[/red]: {escape(o.error or '')}"
            )
            table.add_row(escape(o.path.name), "", "", "", "", "", "", "", status)
            continue
        table.add_row(
            escape(o.path.name),
            escape(r.issuer or "?"),
            str(r.report_year or "?"),
            *map(str, (r.achievements, r.problems, r.plans, r.metrics, r.flagged)),
            "[green]ok[/green]",
        )
    summed = [o.summary for o in outcomes if o.summary is not None] if listed is not outcomes else []
    if summed:
        totals = (sum(getattr(r, name) for r in summed) for name in _SUMMED)
        table.add_row(f"{len(summed)} extracted", "", "", *map(str, totals), "[green]ok[/green]")
    return table


@commands.command("show")
def show_command(
    target: Annotated[
        str, typer.Argument(help="A record JSON file, or a doc_id / content hash in the store.")
    ],
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
) -> None:
    """Print a readable summary of one record."""
    console = _console()
    try:
        path = Path(target)
        if path.suffix == ".json" and path.is_file():
            record = Record.model_validate_json(path.read_text(encoding="utf-8"))
        elif path.is_file():
            from extractor.load import load_document
            from extractor.pipeline.run import extract_document

            record = extract_document(load_document(path))
        else:
            stored = _open_store(db).current_record(target)
            if stored is None:
                raise ExtractorError(
                    "no such record in the store (give a doc_id, a hash or a file)", source=target
                )
            record = stored.record
    except ExtractorError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(1) from None
    except ValueError as error:
        console.print(
            f"[red]error:[/red] {escape(target)}: not a valid record ({escape(str(error).splitlines()[0])})"
        )
        raise typer.Exit(1) from None
    render_record(console, record)


def render_record(console: Console, record: Record) -> None:
    m = record.meta
    console.print(
        f"[bold]{escape(record.doc_id)}[/bold]  {escape(m.issuer or '?')} · {escape(m.region or '?')}"
    )
    console.print(
        f"报告年度 {m.report_year or '?'} · {'半年' if m.period and m.period.value == 'half_year' else '年度'}"
        f" · 计划年度 {m.plan_year or '—'} · 发布日期 {m.publish_date or '—'}"
    )
    for name, label in _LISTS:
        items = record.items(name)
        table = Table(title=f"{label} ({len(items)})", show_lines=False, expand=True)
        table.add_column("#", width=3)
        table.add_column("领域 area", width=14)
        table.add_column("摘要 text", ratio=2)
        table.add_column("指标 / 原因", ratio=2)
        for i, item in enumerate(items, 1):
            extra = ""
            if isinstance(item, Achievement):
                extra = "; ".join(f"{x.name} {x.value:.12g}{x.unit}" for x in item.metrics)
            elif isinstance(item, Problem) and item.cause:
                extra = "原因: " + item.cause
            flag = " [yellow]⚑[/yellow]" if item.flagged else ""
            table.add_row(str(i), item.area.value, escape(item.text) + flag, escape(extra))
        console.print(table)


@commands.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the record format."""
    typer.echo(json.dumps(record_json_schema(), ensure_ascii=False, indent=2))
