"""The `extractor` typer app; each command group lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="extractor",
    help="Extract structured, grounded records from 法治政府建设 reports; review; evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def register_commands() -> None:
    # Imported for their side effect of adding commands to `app`.
    from extractor.cli import (  # noqa: F401
        db_cmd,
        eval_cmd,
        export_cmd,
        extract_cmd,
        gold_cmd,
        queue_cmd,  # enqueue / worker / status: imports procrastinate only when run
    )


def main() -> None:
    register_commands()
    app()
