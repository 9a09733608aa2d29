"""`extractor db upgrade` and `extractor db current`: the database's schema revision.

The store upgrades a database whenever it opens one; these commands do it, or show where a
database stands, without doing anything else (e.g. before a deployment).
"""

from __future__ import annotations

from typing import Annotated

import typer

from extractor.core.errors import ExtractorError
from extractor.store import head_revision
from extractor.store.migrate import is_known_revision, revision_of_url, upgrade_url

#: This module's commands, registered by name in extractor.cli.app.COMMANDS.
commands = typer.Typer()

db_app = typer.Typer(help="Database: schema revision and upgrades.", no_args_is_help=True)
commands.add_typer(db_app, name="db")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $EXTRACTOR_DB_URL, else sqlite:///extractor.db)."),
]


@db_app.command("upgrade")
def upgrade(db: DbOption = None) -> None:
    """Bring the database to this version's schema (a new database is created)."""
    try:
        outcome = upgrade_url(db)
    except ExtractorError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=1) from e
    if not outcome.changed:
        typer.echo(f"already at {outcome.after} (head)")
    elif outcome.adopted:
        typer.echo(f"upgraded a database made before migrations to {outcome.after} (head)")
    else:
        typer.echo(f"upgraded from {outcome.before or 'an empty database'} to {outcome.after} (head)")


@db_app.command("current")
def current(db: DbOption = None) -> None:
    """Show the database's schema revision and whether it is this version's (head)."""
    try:
        revision = revision_of_url(db)
    except ExtractorError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=1) from e
    head = head_revision()
    if revision is None:
        typer.echo(f"none (empty, or made before migrations): `extractor db upgrade` brings it to {head}")
    elif revision == head:
        typer.echo(f"{revision} (head)")
    elif is_known_revision(revision):
        typer.echo(f"{revision} (head is {head}: `extractor db upgrade`)")
    else:
        typer.echo(
            f"{revision} (unknown here, head is {head}: the database was upgraded by a newer extractor)"
        )
        raise typer.Exit(code=1)
