"""The store writes a batch of documents per transaction, and a crash costs at most the
batch not yet committed, which --resume redoes; opening a database at head stays cheap."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import DOCS, REPO, SEED_IDS

from extractor.core.schema import Record
from extractor.load import load_document
from extractor.pipeline.batch import extract_batch, extract_paths
from extractor.pipeline.run import extract_document
from extractor.store import Store, head_revision
from extractor.store.migrate import shipped_head

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def test_the_head_read_without_alembic_is_alembics_head() -> None:
    assert shipped_head() == head_revision()


def test_opening_a_database_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    Store(url).close()
    probe = "import sys\nfrom extractor.store import Store\nStore(sys.argv[1]).close()\nprint('alembic' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe, url], env=ENV, capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "False"


def test_sqlite_runs_in_wal_mode_with_normal_sync(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'x.db'}") as store, store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_a_refused_document_does_not_cost_the_rest_of_its_batch(tmp_path: Path) -> None:
    docs = [load_document(DOCS / f"{doc_id}.txt") for doc_id in SEED_IDS[:3]]
    records = [extract_document(doc) for doc in docs]
    # No provenance and no run: the store cannot tell which backend made it, and refuses it.
    records[1] = records[1].model_copy(update={"provenance": None})
    with Store(f"sqlite:///{tmp_path / 'x.db'}") as store:
        saved = store.save_extractions(list(zip(docs, records, strict=True)), run_id=None)
        assert [isinstance(result, Exception) for result in saved] == [False, True, False]
        assert str(saved[1]).startswith(docs[1].path) and "backend" in str(saved[1])
        assert sorted(d.doc_id for d in store.list_documents()) == sorted([docs[0].doc_id, docs[2].doc_id])


_CRASH_AFTER_FIRST_COMMIT = """
import os, signal, sys
from pathlib import Path
import extractor.pipeline.batch as batch
from extractor.store import Store

batch.COMMIT_EVERY = 2
store = Store(sys.argv[1])
real = store.save_extractions

def save_then_die(*args, **kwargs):
    saved = real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # committed, JSON files not written yet
    return saved

store.save_extractions = save_then_die
batch.extract_paths([sys.argv[2]], store=store, out_dir=Path(sys.argv[3]))
"""


def test_a_crash_loses_only_the_uncommitted_batch_and_resume_completes_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    out = tmp_path / "out"
    crashed = subprocess.run(
        [sys.executable, "-c", _CRASH_AFTER_FIRST_COMMIT, url, str(DOCS), str(out)], env=ENV, timeout=300
    )
    assert crashed.returncode == -9
    with sqlite3.connect(tmp_path / "x.db") as connection:
        committed = connection.execute("select count(*) from documents").fetchone()[0]
    assert committed == 2  # the first batch is durable, the reports after it were never saved
    assert not out.exists() or not list(out.glob("*.json"))

    with Store(url) as store:
        result = extract_batch(sorted(DOCS.glob("*.txt")), store=store, out_dir=out, resume=True)
        assert len(result.skipped) == 2 and len(result.extracted) == 3
        assert all(len(store.versions(doc_id)) == 1 for doc_id in SEED_IDS)
        runs = [store.get_run(run_id) for run_id in (1, 2)]
    assert sorted(p.stem for p in out.glob("*.json")) == sorted(SEED_IDS)  # skipped ones rewritten
    assert [run.status for run in runs if run is not None] == ["interrupted", "ok"]
    for path in out.glob("*.json"):
        assert Record.model_validate(json.loads(path.read_text(encoding="utf-8"))).doc_id == path.stem


def test_the_store_keeps_exactly_the_record_each_json_file_holds(tmp_path: Path) -> None:
    # The batch serialises each record once and stores the parsed file text: it must be the
    # record's own JSON object, floats and non-ASCII text included.
    db = tmp_path / "x.db"
    with Store(f"sqlite:///{db}") as store:
        extract_paths([DOCS / f"{doc_id}.txt" for doc_id in SEED_IDS], store=store, out_dir=tmp_path / "out")
    with sqlite3.connect(db) as connection:
        stored = {
            doc_id: json.loads(record_json)
            for doc_id, record_json in connection.execute(
                "SELECT d.doc_id, v.record_json FROM record_versions v JOIN documents d ON d.id = v.document_id"
            )
        }
    assert sorted(stored) == sorted(SEED_IDS)
    assert any(
        isinstance(metric["value"], float)
        for record in stored.values()
        for a in record["achievements"]
        for metric in a["metrics"]
    )
    for doc_id, record_json in stored.items():
        in_file = json.loads((tmp_path / "out" / f"{doc_id}.json").read_text(encoding="utf-8"))
        assert record_json == in_file == Record.model_validate(in_file).model_dump(mode="json")
