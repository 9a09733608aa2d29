"""What the CLI tests share: a working folder with no database configured, and `extract`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from extractor.cli.app import app, register_commands

register_commands()
runner = CliRunner()


@pytest.fixture(name="workdir")
def cli_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`workdir`: the test's own folder as the current one, with no EXTRACTOR_DB_URL (so the
    CLI uses its default database there); a test module that imports this gets the fixture."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EXTRACTOR_DB_URL", raising=False)
    return tmp_path


def run_extract(*args: str) -> Result:
    return runner.invoke(app, ["extract", *args], catch_exceptions=False)
