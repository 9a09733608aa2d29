"""CLI start-up: a command imports only what it needs (every run pays for its imports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli.app import COMMANDS, app, load_command

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "numpy", "openpyxl", "streamlit", "openai", "instructor")

_PROBE = """
import json, sys
sys.argv = ["extractor", *json.loads(sys.argv[1])]
from extractor.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_after(*args: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [("extract", "--help"), ("schema",), ("show", "--help")])
def test_extract_commands_do_not_import_heavy_libraries(args: tuple[str, ...]) -> None:
    loaded = _modules_after(*args)
    assert not {name for name in HEAVY if name in loaded}, f"{' '.join(args)} imported heavy libraries"


def test_extract_stores_its_batch_without_importing_the_orm(tmp_path: Path) -> None:
    # Importing SQLAlchemy's ORM costs every run a tenth of a second: opening the store, the
    # run and the batch inserts are SQLAlchemy Core (extractor.store.extractions, runs). A
    # batch of text reports has no use for OCR's worker processes either.
    from extractor.store import Store

    url = f"sqlite:///{tmp_path / 'x.db'}"
    Store(url).close()  # a database at head, as a user's is after its first run
    reports = tmp_path / "in"
    reports.mkdir()
    for seed in sorted((ROOT / "eval" / "docs").glob("*.txt"))[:2]:
        (reports / seed.name).write_bytes(seed.read_bytes())
    loaded = _modules_after("extract", str(reports), "--out", str(tmp_path / "out"), "--db", url)

    assert "sqlalchemy.orm" not in loaded
    assert "multiprocessing" not in loaded  # OCR worker processes: only for scanned pages
    assert "extractor.store.extractions" in loaded  # the probe saw the store being written
    with Store(url) as store:
        assert len(store.list_documents()) == len(list((tmp_path / "out").glob("*.json"))) == 2


def test_eval_command_still_loads_its_own_modules() -> None:
    # The probe can see imports at all: a command loads the modules it runs. (The scorer
    # itself loads scipy's solver only when a matching needs it.)
    assert "extractor.evaluation.scoring" in _modules_after("eval", "--help")


def test_every_registered_command_resolves_and_is_listed() -> None:
    for name in COMMANDS:
        assert load_command(name).name == name
    listed = CliRunner().invoke(app, ["--help"])
    assert listed.exit_code == 0
    for name in COMMANDS:
        assert name in listed.output
