"""`extractor export`: write the stored current records to CSV, XLSX or JSON Lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from extractor.core.errors import ExtractorError
from extractor.store import Store
from extractor.store.export import ExportFormat, export_records

#: This module's commands, registered by name in extractor.cli.app.COMMANDS.
commands = typer.Typer()


@commands.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file.", dir_okay=False)],
    fmt: Annotated[
        ExportFormat | None,
        typer.Option("--format", "-f", help="csv, xlsx or jsonl (default: from the --out suffix)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: $EXTRACTOR_DB_URL, else sqlite:///extractor.db)."),
    ] = None,
    reviewed_only: Annotated[
        bool,
        typer.Option("--reviewed-only", help="Only records whose current version a reviewer approved."),
    ] = False,
) -> None:
    """Export each document's current record (reviewed if reviewed, else extracted)."""
    try:
        chosen = fmt or _format_from_suffix(out)
        with Store(db) as store:
            stored = store.current_records(approved_only=reviewed_only)
        summary = export_records(stored, fmt=chosen, out=out)
    except ExtractorError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=1) from e
    which = "approved records" if reviewed_only else "records"
    typer.echo(
        f"exported {summary.records} {which} ({summary.items} items, {summary.metrics} metrics) "
        f"as {summary.fmt.value} to {summary.out}"
    )


def _format_from_suffix(out: Path) -> ExportFormat:
    try:
        return ExportFormat(out.suffix.lstrip(".").lower())
    except ValueError:
        raise ExtractorError(
            "cannot tell the export format from the file name; pass --format csv|xlsx|jsonl", source=str(out)
        ) from None
