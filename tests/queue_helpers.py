"""Helpers for the distributed-extraction tests and bench: report files, worker processes, polling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor.store import Store
from extractor.store.rows import QueueJobRow

REPO = Path(__file__).resolve().parent.parent
SEEDS = sorted((REPO / "eval" / "docs").glob("*.txt"))


def write_reports(folder: Path, count: int) -> list[Path]:
    """`count` distinct report files: the seed reports, each copy told apart by a closing line."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        seed = SEEDS[n % len(SEEDS)]
        path = folder / f"{seed.stem}-copy{n:03d}.txt"
        path.write_text(seed.read_text(encoding="utf-8") + f"\n（副本编号 {n}）\n", encoding="utf-8")
        paths.append(path)
    return paths


def cli(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run an `extractor` command in this process (workers get processes of their own)."""
    from typer.testing import CliRunner

    from extractor.cli.app import app, register_commands

    register_commands()
    result = CliRunner().invoke(app, list(args), env=dict(env))
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


@contextmanager
def workers(
    count: int, *args: str, env: Mapping[str, str], log_dir: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` `extractor worker` processes (stopped with SIGTERM, then killed, on exit)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = [start_worker(*args, env=env, log=log_dir / f"worker{n}.log") for n in range(count)]
    try:
        yield procs
    finally:
        stop(procs)


def start_worker(
    *args: str, env: Mapping[str, str], log: Path, own_session: bool = False
) -> subprocess.Popen[bytes]:
    """An `extractor worker` process; `own_session`: in a session of its own, as a service
    manager starts each worker (Linux then shares the CPU per session: see eval/bench_queue.py)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from extractor.cli import main; main()", "worker", *args],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=own_session,
        )


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def job_rows(store: Store, run_id: int) -> list[QueueJobRow]:
    with Session(store.engine) as session:
        return list(session.scalars(select(QueueJobRow).where(QueueJobRow.run_id == run_id)))


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def worker_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["EXTRACTOR_DB_URL"] = db_url
    env.update(extra)
    return env


def log_tails(log_dir: Path, lines: int = 25) -> str:
    """The last lines of every worker log (for a failing assertion's message)."""
    return "\n".join(
        f"== {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        for log in sorted(log_dir.glob("*.log"))
    )
