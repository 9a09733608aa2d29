"""`extractor eval`: score predictions or a backend against gold; compare two runs."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from extractor.cli.logs import configure_logging
from extractor.core.errors import ExtractorError
from extractor.core.paths import default_docs_dir, default_gold_dir
from extractor.evaluation.compare import compare_results, comparison_table, load_result
from extractor.evaluation.models import EvalResult
from extractor.evaluation.report import detail_table, flag_table, meta_table, render_markdown, summary_table
from extractor.evaluation.run import Extractor, evaluate_backend, evaluate_predictions, merge_results
from extractor.evaluation.thresholds import check_thresholds, figure_of, load_thresholds

#: This module's commands, registered by name in extractor.cli.app.COMMANDS.
commands = typer.Typer()

#: Exit code when a figure is below its bar (distinct from 1, bad input).
EXIT_BELOW_THRESHOLD = 2
#: Console width when output is not a terminal.
WIDE_OUTPUT = 160


@commands.command("eval")
def eval_command(
    pred: Annotated[
        Path | None, typer.Option("--pred", help="Directory of predictions <doc_id>.json.")
    ] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="Run this extraction backend on each document.")
    ] = None,
    gold: Annotated[
        list[Path] | None,
        typer.Option(
            "--gold",
            help="Directory of gold files; default $EXTRACTOR_GOLD_DIR, else eval/gold. Repeat to "
            "score several sets as one (each with the --docs at the same position).",
        ),
    ] = None,
    docs: Annotated[
        list[Path] | None,
        typer.Option("--docs", help="Directory of the reports; default eval/docs (repeatable, see --gold)."),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            help="With --backend llm: answer every model call from the cassettes in DIR (no network); "
            "requests with no recorded answer are listed and written to DIR/_tasks.",
        ),
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="With --backend llm: call the provider and record cassettes in DIR."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write every score and difference as JSON.")
    ] = None,
    markdown_out: Annotated[
        Path | None, typer.Option("--markdown", help="Write a markdown report of the differences.")
    ] = None,
    thresholds: Annotated[
        Path | None, typer.Option("--thresholds", help="TOML of minimum overall figures.")
    ] = None,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--compare", help="Compare two --json results (BEFORE AFTER) instead of scoring."),
    ] = None,
) -> None:
    """Score against gold. Exit 0 if fine, 1 on bad input, 2 if a figure is below its bar."""
    configure_logging(verbose=False)
    console = _console()
    try:
        if compare is not None:
            if pred is not None or backend is not None:
                _usage_error("--compare takes no --pred or --backend")
            _compare(console, *compare)
            return
        bars = load_thresholds(thresholds) if thresholds is not None else {}
        sets = _gold_sets(gold, docs)
        if (replay or record) is not None and backend != "llm":
            _usage_error("--replay and --record go with --backend llm")
        if pred is not None and backend is None:
            results = [evaluate_predictions(gold_dir=g, docs_dir=d, pred_dir=pred) for g, d in sets]
        elif backend is not None and pred is None:
            extract = _llm_extractor(replay=replay, record=record) if backend == "llm" else None
            results = [
                evaluate_backend(gold_dir=g, docs_dir=d, backend=backend, extract=extract) for g, d in sets
            ]
        else:
            _usage_error("give exactly one of --pred DIR or --backend NAME")
        result = merge_results(results)
        _print_result(console, result)
        if backend == "llm":
            _report_cassette_misses(console, replay or record)
        _write_outputs(result, json_out=json_out, markdown_out=markdown_out)
    except ExtractorError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    if bars:
        _apply_thresholds(console, result, bars, source=thresholds)


def _gold_sets(gold: list[Path] | None, docs: list[Path] | None) -> list[tuple[Path, Path]]:
    """(gold dir, docs dir) pairs: by position; one --docs (or none) serves every --gold."""
    golds = gold or [default_gold_dir()]
    docs_dirs = docs or [default_docs_dir()]
    if len(docs_dirs) == 1:
        docs_dirs = docs_dirs * len(golds)
    if len(docs_dirs) != len(golds):
        _usage_error("give one --docs, or one per --gold")
    return list(zip(golds, docs_dirs, strict=True))


def _llm_extractor(*, replay: Path | None, record: Path | None) -> Extractor:
    """extract_document on the llm backend with the settings (and cassettes) this run uses."""
    from extractor.extract.llm import resolve_llm_settings
    from extractor.pipeline.run import LLMResources, extract_document

    settings = resolve_llm_settings(replay_dir=replay, record_dir=record)
    return partial(extract_document, llm=LLMResources(settings=settings))


def _report_cassette_misses(console: Console, folder: Path | None) -> None:
    """Name every request that had no recorded answer (each written as a task file)."""
    if folder is None:
        return
    from extractor.extract.llm.client import cassette_misses

    misses = cassette_misses()
    if not misses:
        console.print(f"every model call was answered from the cassettes in {folder}", highlight=False)
        return
    console.print(
        f"[yellow]{len(misses)} request(s) had no recorded answer[/yellow] (their sections fell back to "
        f"the rules output); each is written as a task file to answer:",
        highlight=False,
    )
    for doc_id, call, path in misses:
        console.print(f"  {escape(doc_id)} | {escape(call)} -> {escape(str(path))}", highlight=False)


def _console() -> Console:
    # Piped output (CI logs) would otherwise wrap the wide tables at rich's default 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=WIDE_OUTPUT)


def _usage_error(message: str) -> NoReturn:
    # Exit 1, not click's usage code 2: exit 2 means "a figure is below its bar" to CI.
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _compare(console: Console, before_path: Path, after_path: Path) -> None:
    changes = compare_results(load_result(before_path), load_result(after_path))
    console.print(comparison_table(changes, before_label=str(before_path), after_label=str(after_path)))
    better = sum(c.direction > 0 for c in changes)
    worse = sum(c.direction < 0 for c in changes)
    console.print(f"{better} improvement(s), {worse} regression(s)")


def _print_result(console: Console, result: EvalResult) -> None:
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    console.print(summary_table(result))
    console.print(detail_table(result.overall))
    console.print(meta_table(result.overall))
    console.print(flag_table(result.overall))


def _write_outputs(result: EvalResult, *, json_out: Path | None, markdown_out: Path | None) -> None:
    try:
        if json_out is not None:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(result.model_dump_json(indent=2), encoding="utf-8")
        if markdown_out is not None:
            markdown_out.parent.mkdir(parents=True, exist_ok=True)
            markdown_out.write_text(render_markdown(result), encoding="utf-8")
    except OSError as e:
        raise ExtractorError(f"cannot write: {e.strerror}", source=e.filename) from e


def _apply_thresholds(
    console: Console, result: EvalResult, bars: dict[str, float], *, source: Path | None
) -> None:
    figures = result.overall.figures()
    for name in bars:
        if figures.get(figure_of(name)) is None:
            console.print(f"threshold {name}: nothing to measure, not checked", highlight=False)
    failures = check_thresholds(figures, bars)
    if failures:
        for failure in failures:
            console.print(f"[bold red]FAIL[/bold red] {failure}", highlight=False)
        raise typer.Exit(EXIT_BELOW_THRESHOLD)
    console.print(f"[green]all {len(bars)} thresholds met[/green] ({source})", highlight=False)
