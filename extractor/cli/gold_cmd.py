"""`extractor gold check`: validate the hand-labelled gold files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from extractor.core.paths import default_docs_dir, default_gold_dir
from extractor.evaluation.gold_check import check_gold

#: This module's commands, registered by name in extractor.cli.app.COMMANDS.
commands = typer.Typer()

gold_app = typer.Typer(help="Gold files: validate hand-labelled records.", no_args_is_help=True)
commands.add_typer(gold_app, name="gold")


@gold_app.command("check")
def check(
    gold: Annotated[
        Path | None,
        typer.Option(
            "--gold", help="A gold directory or one gold file; default $EXTRACTOR_GOLD_DIR, else eval/gold."
        ),
    ] = None,
    docs: Annotated[
        Path | None,
        typer.Option("--docs", help="Directory of the reports (<doc_id>.txt); default eval/docs."),
    ] = None,
) -> None:
    """Check shape, doc_id, areas, verbatim evidence and metric values; exit 1 on any failure."""
    gold = gold or default_gold_dir()
    docs = docs or default_docs_dir()
    problems = check_gold(gold, docs)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.echo(f"{len(problems)} problem(s) found", err=True)
        raise typer.Exit(1)
    count = len(list(gold.glob("*.json"))) if gold.is_dir() else 1
    typer.echo(f"{count} gold file(s) OK")
