"""The `extractor` typer app. Commands are registered by name and imported only when run.

Start-up is part of every command's cost: registering all commands eagerly pulled scipy and
numpy (through `eval`) and openpyxl (through `export`) into `extractor extract --help`. So
`COMMANDS` below names each top-level command and the module that defines it, and the app's
click group imports that module only when the command is looked up.

To add a command (or a command group such as `db`):
1. write `extractor/cli/<name>_cmd.py` with a module-level `commands = typer.Typer()` and
   define the command on it (`@commands.command("name")`, or `commands.add_typer(sub, name=...)`
   for a group); import heavy libraries inside the function body when only some paths use them;
2. add one line `"name": "extractor.cli.<name>_cmd"` to `COMMANDS`.
Never import a command module from here or from another command module.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from extractor.core.collector import tune_for_batches

#: Top-level command name -> the module whose `commands` Typer defines it.
COMMANDS: dict[str, str] = {
    "extract": "extractor.cli.extract_cmd",
    "show": "extractor.cli.extract_cmd",
    "schema": "extractor.cli.extract_cmd",
    "export": "extractor.cli.export_cmd",
    "gold": "extractor.cli.gold_cmd",
    "eval": "extractor.cli.eval_cmd",
    "db": "extractor.cli.db_cmd",
    "analyse": "extractor.cli.analyse_cmd",
    # enqueue / worker / status: procrastinate is imported only when one of them runs.
    "enqueue": "extractor.cli.queue_cmd",
    "worker": "extractor.cli.queue_cmd",
    "status": "extractor.cli.queue_cmd",
}


class LazyCommandGroup(TyperGroup):
    """A click group that imports a command's module the first time the command is asked for."""

    # Typer ships its own copy of click; its Context and Command types are not public, hence Any.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(dict.fromkeys([*super().list_commands(ctx), *COMMANDS]))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        command = load_command(cmd_name)
        self.add_command(command, cmd_name)
        return command


def load_command(name: str) -> Any:
    """The click command `name` from its module's `commands` Typer (imports the module)."""
    module = importlib.import_module(COMMANDS[name])
    defined = typer.main.get_command(module.commands)
    if isinstance(defined, TyperGroup):
        found = defined.commands.get(name)
        if found is None:
            raise LookupError(f"{COMMANDS[name]}.commands defines no command {name!r}")
        return found
    # A Typer with a single command is turned into that command itself.
    defined.name = name
    return defined


app = typer.Typer(
    name="extractor",
    cls=LazyCommandGroup,
    help="Extract structured, grounded records from 法治政府建设 reports; review; evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    # A callback makes typer build a group even though no command is registered eagerly.
    pass


def register_commands() -> None:
    """Import every command module now (checks that each registered name resolves); running
    the app does not need this: commands load on demand."""
    for name in COMMANDS:
        load_command(name)


_own_process = False


def own_process() -> bool:
    """True once `main` runs: the process is the `extractor` command's own (not a test
    runner's or a notebook's), so a command may tune process-wide settings such as the
    garbage collector."""
    return _own_process


def main() -> None:
    global _own_process
    _own_process = True
    tune_for_batches()
    app()
