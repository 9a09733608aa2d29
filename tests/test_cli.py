"""The CLI end to end: extract, show, schema, re-runs, and bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from cli_helpers import cli_workdir, run_extract, runner  # noqa: F401  (cli_workdir: the workdir fixture)
from conftest import DOCS, SEED_IDS

from extractor.cli.app import app
from extractor.core.schema import Record
from extractor.store import Store


def test_extract_the_seed_reports_writes_one_record_each(workdir: Path) -> None:
    result = run_extract(str(DOCS), "--out", "out")
    assert result.exit_code == 0, result.output
    written = sorted(p.stem for p in (workdir / "out").glob("*.json"))
    assert written == sorted(SEED_IDS)
    for path in (workdir / "out").glob("*.json"):
        record = Record.model_validate_json(path.read_text(encoding="utf-8"))
        assert record.achievements and record.problems and record.plans
    assert "5 extracted" in result.output
    assert (workdir / "extractor.db").exists()


def test_rerun_duplicates_nothing_and_resume_skips(workdir: Path) -> None:
    run_extract(str(DOCS), "--out", "out")
    run_extract(str(DOCS), "--out", "out")
    store = Store(f"sqlite:///{workdir / 'extractor.db'}")
    assert len(store.list_documents()) == 5
    assert all(len(store.versions(doc_id)) == 1 for doc_id in SEED_IDS)
    store.close()
    result = run_extract(str(DOCS), "--out", "out", "--resume")
    assert "5 skipped" in result.output and result.exit_code == 0


def test_bad_files_are_reported_and_the_batch_goes_on(workdir: Path) -> None:
    folder = workdir / "in"
    folder.mkdir()
    shutil.copy(DOCS / "hubin-2024.txt", folder / "hubin-2024.txt")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (folder / "novel.txt").write_text(
        "第一章 春天\n\n小明走进花园，看见一只猫。猫在树下睡觉。\n" * 5, encoding="utf-8"
    )
    (folder / "huge.txt").write_text("法治" * 1_400_000, encoding="utf-8")  # ~8 MB
    (folder / "fake.pdf").write_bytes(b"%PDF-1.4\n% not really a pdf\n")
    result = run_extract(str(folder), "--out", "out")
    assert result.exit_code == 3  # some failed, the others were extracted
    out = " ".join(result.output.split())
    for name in ("empty.txt", "binary.txt", "novel.txt", "huge.txt", "fake.pdf"):
        assert name in out
    assert "1 extracted" in out and "5 failed" in out
    assert [p.stem for p in (workdir / "out").glob("*.json")] == ["hubin-2024"]


def test_exit_status_is_one_when_nothing_was_extracted(workdir: Path) -> None:
    (workdir / "empty.txt").write_text("   \n", encoding="utf-8")
    result = run_extract(str(workdir / "empty.txt"), "--out", "out")
    assert result.exit_code == 1
    assert "empty.txt" in result.output


def test_a_failed_file_never_touches_stored_records(workdir: Path) -> None:
    run_extract(str(DOCS / "lanshan-2024.txt"), "--out", "out")
    db = f"sqlite:///{workdir / 'extractor.db'}"
    store = Store(db)
    before = store.current_record("lanshan-2024").record
    store.close()
    broken = workdir / "lanshan-2024.txt"
    broken.write_bytes(b"\x00\x01\x02" * 100)  # same doc_id, unreadable
    run_extract(str(broken), "--out", "out")
    store = Store(db)
    assert store.current_record("lanshan-2024").record == before
    store.close()
    on_disk = Record.model_validate_json((workdir / "out" / "lanshan-2024.json").read_text(encoding="utf-8"))
    assert on_disk.achievements == before.achievements


def test_show_prints_a_readable_summary(workdir: Path) -> None:
    run_extract(str(DOCS / "heping-2024.txt"), "--out", "out")
    result = runner.invoke(app, ["show", "out/heping-2024.json"])
    assert result.exit_code == 0
    assert "和平县司法局" in result.output and "主要成效" in result.output
    by_id = runner.invoke(app, ["show", "heping-2024"])
    assert by_id.exit_code == 0 and "和平县司法局" in by_id.output
    missing = runner.invoke(app, ["show", "no-such-doc"])
    assert missing.exit_code == 1 and "no-such-doc" in missing.output


def test_schema_prints_the_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.output)
    assert "行政复议与应诉" in json.dumps(schema, ensure_ascii=False)
    assert "achievements" in schema["properties"]


def test_db_url_from_environment(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = workdir / "elsewhere.db"
    monkeypatch.setenv("EXTRACTOR_DB_URL", f"sqlite:///{target}")
    run_extract(str(DOCS / "hubin-2024.txt"), "--out", "out")
    assert target.exists() and not (workdir / "extractor.db").exists()
    assert os.environ["EXTRACTOR_DB_URL"].endswith("elsewhere.db")


def test_file_names_are_shown_as_written(workdir: Path) -> None:
    """Brackets and :emoji: codes in a file name are neither markup nor emoji."""
    folder = workdir / "in"
    folder.mkdir()
    name = "hubin[2024]:thumbs_up:.txt"
    shutil.copy(DOCS / "hubin-2024.txt", folder / name)
    result = run_extract(str(folder), "--out", "out")
    assert result.exit_code == 0, result.output
    assert "👍" not in result.output
    assert result.output.count(name) >= 2  # the progress row and the summary table
