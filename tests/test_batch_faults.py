"""Faults contained: whatever goes wrong with one file fails that file, the batch goes on,
the exit status says so, and no run, record or JSON file is lost or left half-done."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from cli_helpers import cli_workdir, run_extract, runner  # noqa: F401  (cli_workdir: the workdir fixture)
from conftest import DOCS, REPO, SEED_IDS
from pg import fresh_schema_url, pg_server  # noqa: F401  (fixture, requested by name)

from extractor.core.document import SourceDocument
from extractor.core.errors import LoadError
from extractor.core.schema import Record
from extractor.load import find_report_files, load_document
from extractor.pipeline.batch import extract_batch
from extractor.pipeline.output import distinct_doc_ids, write_record_json
from extractor.store import Store

HUBIN = DOCS / "hubin-2024.txt"
EXIT_SOME_FAILED = 3


def _flat(output: str) -> str:
    return " ".join(output.split())


def _runs(db: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("select status, stats from runs order by id").fetchall()


# -- containment --------------------------------------------------------------------------------


def test_an_unexpected_exception_in_one_file_fails_that_file_and_the_batch_goes_on(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seen in the field: the HTML loader's dependency failed to import (an ImportError,
    # not a LoadError) and the whole batch ended with a traceback.
    monkeypatch.setitem(sys.modules, "extractor.load.html", None)
    (workdir / "in").mkdir()
    (workdir / "in" / "page.html").write_text("<html><body>法治政府建设</body></html>", encoding="utf-8")
    (workdir / "in" / "hubin-2024.txt").write_bytes(HUBIN.read_bytes())

    result = run_extract("in", "--out", "out")

    assert result.exit_code == EXIT_SOME_FAILED
    failures = [line for line in result.output.splitlines() if "page.html" in line and "✗" in line]
    assert len(failures) == 1 and "unexpected error (ModuleNotFoundError" in failures[0]
    assert "Traceback" not in result.output
    assert [p.name for p in (workdir / "out").glob("*.json")] == ["hubin-2024.json"]
    assert "1 extracted" in _flat(result.output) and "1 failed" in _flat(result.output)
    assert [status for status, _ in _runs(workdir / "extractor.db")] == ["ok"]


def test_verbose_shows_the_traceback_of_a_failed_file(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "extractor.load.html", None)
    (workdir / "page.html").write_text("<html><body>报告</body></html>", encoding="utf-8")
    result = run_extract("page.html", "--out", "out", "--verbose")
    assert result.exit_code == 1
    assert "Traceback" in result.output and "import_module" in result.output


def test_a_missing_path_is_one_line_and_the_rest_runs(workdir: Path) -> None:
    result = run_extract("no-such-report.txt", str(HUBIN), "--out", "out")
    assert result.exit_code == EXIT_SOME_FAILED
    assert "no-such-report.txt: no such file or folder" in _flat(result.output)
    assert [p.stem for p in (workdir / "out").glob("*.json")] == ["hubin-2024"]


def test_broken_and_looping_links_in_a_folder_are_reported(workdir: Path) -> None:
    folder = workdir / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "hubin-2024.txt").write_bytes(HUBIN.read_bytes())
    (folder / "sub" / "back-up").symlink_to(folder, target_is_directory=True)
    (folder / "gone.txt").symlink_to(workdir / "deleted.txt")

    found = find_report_files([folder])
    assert found.files == [folder / "sub" / "hubin-2024.txt"]
    reasons = {path.name: reason for path, reason in found.problems}
    assert set(reasons) == {"back-up", "gone.txt"}
    assert "loop" in reasons["back-up"] and "broken link" in reasons["gone.txt"]

    result = run_extract(str(folder), "--out", "out")
    assert result.exit_code == EXIT_SOME_FAILED
    out = _flat(result.output)
    assert "back-up" in out and "gone.txt" in out and "1 extracted" in out


# -- out/ JSON files ----------------------------------------------------------------------------


def test_same_file_name_in_different_folders_gives_two_records(workdir: Path) -> None:
    for folder, doc_id in (("a", "hubin-2024"), ("b", "lanshan-2024")):
        (workdir / folder).mkdir()
        (workdir / folder / "report.txt").write_bytes((DOCS / f"{doc_id}.txt").read_bytes())
    result = run_extract("a", "b", "--out", "out")
    assert result.exit_code == 0, result.output
    written = {
        p.name: Record.model_validate_json(p.read_text(encoding="utf-8"))
        for p in (workdir / "out").glob("*.json")
    }
    assert sorted(written) == ["a-report.json", "b-report.json"]
    assert written["a-report.json"].meta.issuer != written["b-report.json"].meta.issuer


def test_distinct_doc_ids_keep_unique_stems_and_tell_clashes_apart(tmp_path: Path) -> None:
    paths = [
        tmp_path / "x" / "r.txt",
        tmp_path / "y" / "r.txt",
        tmp_path / "x" / "r.docx",
        tmp_path / "s.txt",
    ]
    ids = distinct_doc_ids(paths)
    assert ids[tmp_path / "s.txt"] == "s"
    assert len(set(ids.values())) == len(paths)


def test_concurrent_writers_of_one_record_never_collide(tmp_path: Path) -> None:
    record = Record.model_validate_json(json.dumps({"doc_id": "shared", "meta": {}}))
    errors: list[BaseException] = []

    def write_many() -> None:
        try:
            for _ in range(50):
                write_record_json(record, tmp_path)
        except BaseException as e:  # collected for the assertion below
            errors.append(e)

    threads = [threading.Thread(target=write_many) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.json"]  # no temp file left
    assert (
        Record.model_validate_json((tmp_path / "shared.json").read_text(encoding="utf-8")).doc_id == "shared"
    )


def test_a_record_file_is_as_readable_as_any_other_output(tmp_path: Path) -> None:
    # Written under a private temporary name, but not left owner-only once in place.
    record = Record.model_validate_json(json.dumps({"doc_id": "shared", "meta": {}}))
    umask = os.umask(0o022)
    try:
        written = write_record_json(record, tmp_path / "out")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    assert written.read_text(encoding="utf-8") == record.to_json() + "\n"


# -- several processes, one fresh database, one out/ folder -------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with fresh_schema_url(request.getfixturevalue("pg_server")) as url:
        yield url


def test_processes_starting_together_on_a_fresh_database_and_one_out_folder(
    fresh_db: str, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "EXTRACTOR_DB_URL": fresh_db}
    command = [sys.executable, "-c", "from extractor.cli import main; main()", "extract", str(DOCS)]
    processes = [
        subprocess.Popen(
            [*command, "--out", str(tmp_path / "out")],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, [out[-800:] for out in outputs]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{d}.json" for d in SEED_IDS)
    with Store(fresh_db) as store:
        assert sorted(d.doc_id for d in store.list_documents()) == sorted(SEED_IDS)
        assert all(len(store.versions(doc_id)) == 1 for doc_id in SEED_IDS)


# -- bad input that reaches the database --------------------------------------------------------


def test_a_text_file_with_a_byte_order_mark_and_nul_bytes_is_refused(tmp_path: Path) -> None:
    for name, data in (
        ("bom8.txt", b"\xef\xbb\xbf" + "法治政府建设".encode() + b"\x00\x00\x00" + "报告".encode()),
        ("utf16.txt", "法治政府建设\x00报告\x00\x00".encode("utf-16")),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(LoadError) as refused:
            load_document(path)
        assert name in str(refused.value) and "binary" in str(refused.value)


@pytest.mark.postgres
def test_postgresql_refusing_one_document_fails_that_file_only(pg_server: str, tmp_path: Path) -> None:  # noqa: F811
    good = load_document(HUBIN)
    nul = SourceDocument(doc_id="nul", path=str(tmp_path / "nul.txt"), text=good.text + "\x00", format="txt")
    other = load_document(DOCS / "lanshan-2024.txt")
    with fresh_schema_url(pg_server) as url, Store(url) as store:
        result = extract_batch([good, nul, other], store=store, out_dir=tmp_path / "out")
        assert [o.error is None for o in result.outcomes] == [True, False, True]
        message = result.outcomes[1].error or ""
        assert message.startswith(str(tmp_path / "nul.txt")) and "\n" not in message
        assert sorted(d.doc_id for d in store.list_documents()) == ["hubin-2024", "lanshan-2024"]
        run = store.get_run(result.run_id or 0)
        assert run is not None and run.status == "ok"
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.json")) == ["hubin-2024", "lanshan-2024"]


def _docx_bytes(document_xml_size: int) -> bytes:
    """A .docx whose document.xml unpacks to `document_xml_size` bytes (compressing to little)."""
    body = b"<w:p/>" * (document_xml_size // 6)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", body)
    return buffer.getvalue()


def test_a_docx_that_unpacks_too_large_is_refused_before_parsing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(_docx_bytes(80 * 1024 * 1024))
    assert bomb.stat().st_size < 1024 * 1024
    # VmHWM: this process's own peak (ru_maxrss would include pytest's, inherited at exec).
    probe = (
        "import re, sys\n"
        "from extractor.load import load_document\n"
        "try:\n    load_document(sys.argv[1])\n"
        "except Exception as e:\n    print(e)\n"
        "status = open('/proc/self/status').read()\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(bomb)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
        check=True,
    )
    message, peak_mb = done.stdout.strip().splitlines()
    assert "bomb.docx" in message and "unpacks to" in message and "EXTRACTOR_MAX_UNPACKED_MB" in message
    # Refused from the zip directory: nothing near the 80 MB of XML was inflated, let alone parsed.
    assert int(peak_mb) < 100


# -- runs ----------------------------------------------------------------------------------------


_START_AND_DIE = """
import os, sys
from extractor.store import Store
Store(sys.argv[1]).start_run(backend="rules")
os._exit(0)  # a crash: the run is never finished
"""


def test_a_run_whose_process_died_is_marked_interrupted_at_the_next_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", _START_AND_DIE, url], env=env, check=True, timeout=120)
    with Store(url) as store:
        before = store.get_run(1)
        assert before is not None and before.status == "running"
        store.start_run(backend="rules")
        died, alive = store.get_run(1), store.get_run(2)
    assert died is not None and died.status == "interrupted" and died.finished_at is not None
    assert alive is not None and alive.status == "running"  # this process's own run


def test_a_batch_stopped_by_ctrl_c_saves_what_finished_and_marks_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import extractor.pipeline.batch as batch_module

    real = batch_module.run_extraction
    calls = []

    def interrupted_on_the_second(doc, **kwargs):
        calls.append(doc.doc_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(doc, **kwargs)

    monkeypatch.setattr(batch_module, "run_extraction", interrupted_on_the_second)
    with Store(f"sqlite:///{tmp_path / 'x.db'}") as store:
        with pytest.raises(KeyboardInterrupt):
            extract_batch([HUBIN, DOCS / "lanshan-2024.txt"], store=store, out_dir=tmp_path / "out")
        run = store.get_run(1)
        assert run is not None and run.status == "interrupted"
        assert [d.doc_id for d in store.list_documents()] == ["hubin-2024"]
    assert [p.stem for p in (tmp_path / "out").glob("*.json")] == ["hubin-2024"]


# -- the model path's console -------------------------------------------------------------------


def _llm_cli(server, workdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["extract", str(HUBIN), "--out", "out", "--backend", "llm", "--model", "unpriced-model"]
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from extractor.cli import main; main()",
            *args,
            "--base-url",
            server.base_url,
            *extra,
        ],
        cwd=workdir,
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "OPENAI_API_KEY": "sk-test-faults",
            "EXTRACTOR_CONFIG": str(workdir / "none.toml"),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_fully_cached_run_of_an_unpriced_model_says_cost_unknown(workdir: Path) -> None:
    from llm_server import ScriptedServer
    from test_llm_cli import gold_responder  # answers every seed correctly: all cacheable

    (workdir / "none.toml").write_text("", encoding="utf-8")
    with ScriptedServer(default=gold_responder) as server:
        first = _llm_cli(server, workdir)
        assert first.returncode == 0, first.stderr[-800:]
        requests = len(server.bodies)
        second = _llm_cli(server, workdir)
    assert second.returncode == 0, second.stderr[-800:]
    assert len(server.bodies) == requests  # every answer came from the cache
    assert "cost unknown" in second.stdout and "$0.0000" not in second.stdout


def test_model_server_bodies_stay_off_stderr_without_verbose(workdir: Path) -> None:
    from llm_server import Reply, ScriptedServer

    (workdir / "none.toml").write_text("", encoding="utf-8")
    marker = "RAW-BODY-7f3a"
    with ScriptedServer(
        default=lambda _request: Reply(status=400, body=json.dumps({"error": {"message": marker}}))
    ) as bad:
        quiet = _llm_cli(bad, workdir)
        loud = _llm_cli(bad, workdir, "--verbose")
    assert marker not in quiet.stderr and "API call failed" not in quiet.stderr
    assert "API call failed" in loud.stderr, loud.stderr[-2000:]  # shown when asked for


def test_a_long_batch_lists_its_failures_and_sums_up_the_rest(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import extractor.cli.extract_cmd as extract_cmd

    monkeypatch.setattr(extract_cmd, "SUMMARY_ROWS", 2)
    result = run_extract(
        str(DOCS / "hubin-2024.txt"), str(DOCS / "lanshan-2024.txt"), "missing.txt", "--out", "out"
    )
    assert result.exit_code == EXIT_SOME_FAILED
    rows = [line for line in result.output.splitlines() if line.startswith("│")]
    assert len(rows) == 2  # the failure, then one row for both extracted reports
    assert "missing.txt" in rows[0] and "2 extracted" in rows[1]
    assert "hubin-2024.txt" not in result.output.split("Extraction summary")[1]
