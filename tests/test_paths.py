"""Default data directories: one definition, honoured by every command whatever the cwd."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli.app import app, register_commands
from extractor.core.paths import REPO_DOCS_DIR, REPO_GOLD_DIR, default_docs_dir, default_gold_dir

register_commands()
runner = CliRunner()


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no eval/ folder, and no gold directory configured."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EXTRACTOR_GOLD_DIR", raising=False)
    return tmp_path


def test_gold_dir_is_the_repositorys_unless_configured(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_gold_dir() == REPO_GOLD_DIR
    assert default_docs_dir() == REPO_DOCS_DIR
    assert any(REPO_GOLD_DIR.glob("*.json")) and REPO_DOCS_DIR.is_dir()
    monkeypatch.setenv("EXTRACTOR_GOLD_DIR", str(elsewhere / "reviewed"))
    assert default_gold_dir() == elsewhere / "reviewed"  # read at each call, not at import


def test_gold_check_finds_the_repository_gold_from_any_directory(elsewhere: Path) -> None:
    result = runner.invoke(app, ["gold", "check"])
    assert result.exit_code == 0, result.output
    assert f"{len(list(REPO_GOLD_DIR.glob('*.json')))} gold file(s) OK" in result.output


def test_eval_uses_the_configured_gold_dir(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configured = elsewhere / "reviewed"
    monkeypatch.setenv("EXTRACTOR_GOLD_DIR", str(configured))
    result = runner.invoke(app, ["eval", "--backend", "rules"])
    assert result.exit_code == 1
    assert f"{configured}: no such gold directory" in result.output
