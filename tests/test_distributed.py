"""Distributed extraction on a real PostgreSQL: enqueue, several worker processes, status.

The workers are real `extractor worker` processes; one is killed with SIGKILL while it holds
a job, and every report must still end up done exactly once.
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest
from llm_server import Reply, ScriptedServer
from pg import fresh_schema_url, pg_server  # noqa: F401  (pg_server: fixture, requested by name)
from queue_helpers import (
    cli,
    job_rows,
    log_tails,
    start_worker,
    wait_until,
    worker_env,
    workers,
    write_reports,
)
from sqlalchemy import text

from extractor.distributed.jobs import versions_per_document_and_run
from extractor.distributed.ratelimit import SEND_DELAY_SPREAD_S
from extractor.store import Store

pytestmark = pytest.mark.postgres


@pytest.fixture
def queue_url(request: pytest.FixtureRequest):
    with fresh_schema_url(request.getfixturevalue("pg_server")) as url:
        yield url


def _enqueue(*args: str, env: dict[str, str]) -> int:
    done = cli("enqueue", *args, env=env)
    assert done.returncode == 0, done.stderr
    found = re.search(r"run (\d+):", done.stdout)
    assert found, done.stdout
    return int(found.group(1))


def _procrastinate_statuses(store: Store) -> dict[str, int]:
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT status, count(*) FROM procrastinate_jobs GROUP BY status"))
        return {str(status): int(count) for status, count in rows}


def test_sixty_reports_three_workers_one_killed_mid_job_every_report_done_once(
    tmp_path: Path, queue_url: str
) -> None:
    env = worker_env(queue_url)
    write_reports(tmp_path / "reports", 60)
    run_id = _enqueue(str(tmp_path / "reports"), env=env)
    store = Store(queue_url)
    assert [r.status for r in job_rows(store, run_id)] == ["queued"] * 60

    # A short lease, so the test sees the retry soon; tries to spare, should a loaded machine
    # starve a live worker's heartbeat past it (the job then runs twice, and still saves once).
    lease = ("--lease", "3", "--tries", "5")
    with workers(3, *lease, env=env, log_dir=tmp_path / "logs") as procs:
        lost_job = None
        for victim in [procs[0], procs[1]]:
            name_suffix = f":{victim.pid}"

            def victim_busy(suffix: str = name_suffix) -> bool:
                return any(
                    r.status == "running" and (r.worker or "").endswith(suffix)
                    for r in job_rows(store, run_id)
                )

            assert wait_until(victim_busy, timeout=120, interval=0.01), log_tails(tmp_path / "logs")
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            # The process is gone: a job still marked running on it was cut off mid-job.
            held = [
                r
                for r in job_rows(store, run_id)
                if r.status == "running" and (r.worker or "").endswith(name_suffix)
            ]
            if held:
                lost_job, victim_name = held[0].id, held[0].worker
                break
            procs.append(start_worker(*lease, env=env, log=tmp_path / "logs" / "spare.log"))
        assert lost_job is not None, "no kill landed mid-job"

        assert wait_until(
            lambda: all(r.status == "done" for r in job_rows(store, run_id)), timeout=120, interval=0.2
        ), log_tails(tmp_path / "logs")

    rows = {r.id: r for r in job_rows(store, run_id)}
    assert len(rows) == 60 and all(r.status == "done" for r in rows.values())
    retried = rows[lost_job]
    assert retried.attempts >= 2 and retried.worker != victim_name
    assert "worker lost mid-job" in (retried.error or "")
    # Exactly once: each of the 60 documents has one version in this run, and 60 documents.
    per_document = versions_per_document_and_run(store, run_id)
    assert len(per_document) == 60 and set(per_document.values()) == {1}
    assert len({r.document_id for r in rows.values()}) == 60
    assert _procrastinate_statuses(store) == {"succeeded": 60}
    run = store.get_run(run_id)
    assert run is not None and run.status == "ok" and run.stats == {"files": 60, "extracted": 60, "failed": 0}
    status = cli("status", env=env)
    assert status.returncode == 0, status.stderr
    assert re.search(rf"│\s*{run_id}\s*│\s*rules\s*│\s*│\s*0\s*│\s*0\s*│\s*60\s*│\s*0\s*│", status.stdout), (
        status.stdout
    )
    store.close()


def test_status_names_why_a_report_failed_and_a_second_enqueue_skips_what_is_done(
    tmp_path: Path, queue_url: str
) -> None:
    env = worker_env(queue_url)
    folder = tmp_path / "reports"
    first, second = write_reports(folder, 2)
    (folder / "same-bytes-other-name.txt").write_bytes(first.read_bytes())
    (folder / "menu.txt").write_text("今日菜单：米饭、青菜、豆腐汤。\n" * 20, encoding="utf-8")
    run_id = _enqueue(str(folder), env=env)
    store = Store(queue_url)
    assert len(job_rows(store, run_id)) == 3  # the copy with the same bytes is one job

    worker = start_worker("--until-empty", env=env, log=tmp_path / "worker.log")
    assert worker.wait(timeout=180) == 0, (tmp_path / "worker.log").read_text()
    states = {Path(r.name).name: r.status for r in job_rows(store, run_id)}
    assert sorted(states.values()) == ["done", "done", "failed"] and states["menu.txt"] == "failed"
    status = cli("status", str(run_id), env=env)
    assert "menu.txt" in status.stdout and "not a" in status.stdout  # the loader's reason, kept

    again = _enqueue(str(folder), env=env)
    rows = {Path(r.name).name: r for r in job_rows(store, again)}
    assert rows["menu.txt"].status == "queued"
    assert {rows[p.name].status for p in (first, second)} == {"done"}
    assert all("already extracted in run" in (rows[p.name].note or "") for p in (first, second))
    store.close()


def _llm_env(url: str, server: ScriptedServer, *extra: str) -> dict[str, str]:
    return worker_env(
        url, OPENAI_API_KEY="sk-test-queue", OPENAI_BASE_URL=server.base_url, EXTRACTOR_MODEL="scripted"
    )


def test_workers_share_one_request_budget(tmp_path: Path, queue_url: str) -> None:
    rpm = 240  # four requests a second between all workers
    with ScriptedServer() as server:
        env = _llm_env(queue_url, server)
        write_reports(tmp_path / "reports", 3)
        run_id = _enqueue("--backend", "llm", str(tmp_path / "reports"), env=env)
        store = Store(queue_url)
        with workers(3, "--rpm", str(rpm), env=env, log_dir=tmp_path / "logs"):
            assert wait_until(
                lambda: all(r.status == "done" for r in job_rows(store, run_id)), timeout=120, interval=0.2
            ), log_tails(tmp_path / "logs")
        arrivals = sorted(r.at for r in server.requests)
    assert len(arrivals) >= 16  # enough requests that the budget, not the work, sets the pace
    # The limiter's promise: slots are `gap` apart, and a request reaches the server within
    # SEND_DELAY_SPREAD_S of its slot. So the requests arriving in any window of `window`
    # seconds had their slots within window + spread, at most (window + spread) / gap + 1 of
    # them. (Unshared, three workers would put about 24 in the window.)
    window, gap = 2.0, (60 + SEND_DELAY_SPREAD_S) / rpm
    most = max(sum(1 for t in arrivals if start <= t < start + window) for start in arrivals)
    assert most <= (window + SEND_DELAY_SPREAD_S) / gap + 1, most
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    assert rate <= rpm / 60 * 1.05, rate
    store.close()


def test_a_job_that_keeps_failing_stops_after_its_tries_with_the_error_kept(
    tmp_path: Path, queue_url: str
) -> None:
    with ScriptedServer(
        default=lambda _request: Reply(status=401, body='{"error": {"message": "bad key"}}')
    ) as server:
        env = _llm_env(queue_url, server)
        write_reports(tmp_path / "reports", 1)
        run_id = _enqueue("--backend", "llm", str(tmp_path / "reports"), env=env)
        store = Store(queue_url)
        with workers(1, "--tries", "2", env=env, log_dir=tmp_path / "logs"):
            assert wait_until(
                lambda: job_rows(store, run_id)[0].status == "failed", timeout=120, interval=0.2
            ), log_tails(tmp_path / "logs")
            time.sleep(3)  # long past the retry wait: no third try comes
        (row,) = job_rows(store, run_id)
        assert row.attempts == 2 and "authentication failed" in (row.error or "")
        # The second try may not reach the server: the worker's client remembers a bad key.
        assert 1 <= len(server.requests) <= 2
        assert _procrastinate_statuses(store) == {"failed": 1}
        store.close()
