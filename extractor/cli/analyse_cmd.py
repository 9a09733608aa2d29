"""`extractor analyse`: indicators, common problems and plan follow-through across reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from extractor.core.errors import ExtractorError

#: This module's commands, registered by name in extractor.cli.app.COMMANDS.
commands = typer.Typer()


@commands.command("analyse")
def analyse_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output workbook (.xlsx).", dir_okay=False)],
    region: Annotated[
        list[str] | None, typer.Option("--region", help="Only this region (repeat for several).")
    ] = None,
    year: Annotated[
        list[int] | None, typer.Option("--year", help="Only this report year (repeat for several).")
    ] = None,
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="approved: only records a reviewer approved (default); all: every current record.",
        ),
    ] = "approved",
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: $EXTRACTOR_DB_URL, else sqlite:///extractor.db)."),
    ] = None,
) -> None:
    """Write 指标 / 问题主题 / 计划落实 (and summaries) for the stored records to an .xlsx file."""
    from extractor.core.collector import collector_paused

    # Paused from the imports on: they alone made the collector run some 250 times.
    with collector_paused():
        _analyse(out, region=region, year=year, status=status, db=db)


def _analyse(
    out: Path, *, region: list[str] | None, year: list[int] | None, status: str, db: str | None
) -> None:
    # Imported here: scipy and xlsxwriter are only needed when this command runs.
    from extractor.analysis import analyse, load_records, select_records
    from extractor.analysis.records import STATUS_FILTERS
    from extractor.analysis.workbook import write_workbook
    from extractor.store import Store

    try:
        if status not in STATUS_FILTERS:
            raise ExtractorError(f"--status must be approved or all, not {status!r}")
        if out.suffix.lower() != ".xlsx":
            raise ExtractorError(
                "the analysis is written as an Excel workbook: give --out a .xlsx name", source=str(out)
            )
        with Store(db) as store:
            records = select_records(load_records(store, status=status), regions=region, years=year)
        result = analyse(records, status=status)
        write_workbook(result, out)
    except ExtractorError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=1) from e
    typer.echo(result.caption)
    typer.echo(
        f"{len(result.mapped)} indicator values ({len(result.values) - len(result.mapped)} unmapped, "
        f"{len(result.ambiguous)} ambiguous), {len(result.themes)} problem themes, "
        f"{len(result.follow)} plans checked against the next year; written to {out}"
    )
