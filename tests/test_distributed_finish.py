"""A job's finish on a real PostgreSQL: the record saved once per document and run, the job
done, the run closed by its last job, whatever the retries and duplicate files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pg import fresh_schema_url, pg_server  # noqa: F401  (pg_server: fixture, requested by name)
from queue_helpers import SEEDS, job_rows

from extractor.core.document import SourceDocument
from extractor.distributed import jobs
from extractor.pipeline.run import run_extraction
from extractor.store import Store
from extractor.store.models import RunInfo

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(request: pytest.FixtureRequest):
    with fresh_schema_url(request.getfixturevalue("pg_server")) as url, Store(url) as opened:
        yield opened


def _queued(store: Store, tmp_path: Path, files: dict[str, bytes]) -> tuple[int, list[jobs.QueuedFile]]:
    paths = []
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        paths.append(path)
    run_id = store.start_run(backend="rules", model=None)
    queued = jobs.register_files(store, run_id, paths, setup_key="rules")
    for file in queued:
        jobs.start_attempt(store, file.job_id, worker="test:1")
    return run_id, queued


def _run(store: Store, run_id: int) -> RunInfo:
    run = store.get_run(run_id)
    assert run is not None
    return run


def _doc(name: str, text: str) -> SourceDocument:
    return SourceDocument(doc_id=Path(name).stem, path=name, text=text)


def test_a_retried_finish_writes_nothing_and_the_last_job_closes_the_run(
    store: Store, tmp_path: Path
) -> None:
    texts = [seed.read_text(encoding="utf-8") for seed in SEEDS[:2]]
    run_id, queued = _queued(store, tmp_path, {"a.txt": texts[0].encode(), "b.txt": texts[1].encode()})
    docs = [_doc("a.txt", texts[0]), _doc("b.txt", texts[1])]
    records = [run_extraction(doc, backend="rules").record for doc in docs]

    assert jobs.finish_job(store, queued[0].job_id, docs[0], records[0]) == 1
    assert _run(store, run_id).status == "running"  # one job left
    # The worker finished but was lost before telling the queue: the retry writes nothing.
    assert jobs.finish_job(store, queued[0].job_id, docs[0], records[0]) is None
    assert jobs.finish_job(store, queued[1].job_id, docs[1], records[1]) == 1

    assert sorted(jobs.versions_per_document_and_run(store, run_id).values()) == [1, 1]
    assert {row.status for row in job_rows(store, run_id)} == {"done"}
    run = _run(store, run_id)
    assert run.status == "ok"
    assert run.stats == {"files": 2, "extracted": 2, "failed": 0}


def test_two_files_of_one_text_in_a_run_share_one_version(store: Store, tmp_path: Path) -> None:
    text = SEEDS[0].read_text(encoding="utf-8")
    # The same report as UTF-8 and as GBK: two files, two jobs, one document.
    run_id, queued = _queued(store, tmp_path, {"r.txt": text.encode(), "r-gbk.txt": text.encode("gb18030")})
    assert len(queued) == 2
    first, second = _doc("r.txt", text), _doc("r-gbk.txt", text)
    record = run_extraction(first, backend="rules").record

    assert jobs.finish_job(store, queued[0].job_id, first, record) == 1
    assert jobs.finish_job(store, queued[1].job_id, second, record) == 1

    assert list(jobs.versions_per_document_and_run(store, run_id).values()) == [1]
    rows = {row.id: row for row in job_rows(store, run_id)}
    assert rows[queued[0].job_id].note is None
    assert rows[queued[1].job_id].note == "same text as another file of this run"
    assert rows[queued[0].job_id].document_id == rows[queued[1].job_id].document_id
    assert _run(store, run_id).status == "ok"


def test_a_later_run_adds_a_version_of_a_document_an_earlier_run_changed(
    store: Store, tmp_path: Path
) -> None:
    text = SEEDS[0].read_text(encoding="utf-8")
    doc = _doc("r.txt", text)
    record = run_extraction(doc, backend="rules").record
    first_run, first = _queued(store, tmp_path, {"r.txt": text.encode()})
    assert jobs.finish_job(store, first[0].job_id, doc, record) == 1

    changed = record.model_copy(update={"achievements": record.achievements[1:]})
    later_run = store.start_run(backend="rules", model=None)
    later = jobs.register_files(store, later_run, [tmp_path / "r.txt"], setup_key="rules-v2")
    jobs.start_attempt(store, later[0].job_id, worker="test:1")
    assert jobs.finish_job(store, later[0].job_id, doc, changed) == 2

    assert list(jobs.versions_per_document_and_run(store, first_run).values()) == [1]
    assert list(jobs.versions_per_document_and_run(store, later_run).values()) == [1]
