"""The review app's server settings and the repository's ignore rules (issue 12): the app
sends no usage statistics and shows no Deploy button or English main menu; the SQLite side
files of the default database are never committed."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_streamlit_config_keeps_the_app_offline_and_its_toolbar_minimal() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    # "minimal": no Deploy button, and no main menu since the app adds no entries to it.
    assert config["client"]["toolbarMode"] == "minimal"


def test_the_default_databases_side_files_are_ignored() -> None:
    names = ["extractor.db", "extractor.db-wal", "extractor.db-shm", "extractor.db-journal"]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *names], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert ignored.stdout.split() == names, ignored.stderr
