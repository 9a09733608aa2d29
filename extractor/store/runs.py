"""Run liveness: a run that was killed or crashed does not stay "running" forever.

A running run's stats carry the process that owns it (host and pid) and a heartbeat (the
time of its last batch commit). When a run starts, every other run still marked running
whose owner is gone is marked "interrupted": on this host when its process no longer
exists, elsewhere when its heartbeat is older than `STALE_AFTER`. A run that crashed before
this scheme (no owner recorded) is judged by its start time alone.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from extractor.core.errors import StoreError
from extractor.store.tables import RUNS, utc_now

RUNNING = "running"
INTERRUPTED = "interrupted"
#: A run elsewhere whose heartbeat is older than this is taken as dead (a live run beats
#: at every batch commit, i.e. at least once per document).
STALE_AFTER = dt.timedelta(hours=6)


def owner_stats() -> dict[str, Any]:
    """The stats a running run starts with: who owns it, and a first heartbeat."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "heartbeat": utc_now().isoformat()}


def beat(connection: Connection, run_id: int) -> None:
    """Record that the run's process is alive (called inside a write transaction; an ORM
    session passes `session.connection()`)."""
    stats = connection.execute(select(RUNS.c.stats).where(RUNS.c.id == run_id)).scalar()
    heartbeat = {**(stats or {}), "heartbeat": utc_now().isoformat()}
    connection.execute(update(RUNS).where(RUNS.c.id == run_id).values(stats=heartbeat))


def mark_stale_runs(connection: Connection, *, now: dt.datetime | None = None) -> list[int]:
    """Mark every running run whose process is gone as interrupted; returns their ids."""
    now = now or utc_now()
    host = socket.gethostname()
    marked = []
    for run in connection.execute(select(RUNS).where(RUNS.c.status == RUNNING)).mappings().all():
        if _is_alive(run, host=host, now=now):
            continue
        stats = {**(run["stats"] or {}), "interrupted": "its process ended without finishing the run"}
        connection.execute(
            update(RUNS)
            .where(RUNS.c.id == run["id"])
            .values(status=INTERRUPTED, finished_at=now, stats=stats)
        )
        marked.append(run["id"])
    return marked


def _is_alive(run: RowMapping, *, host: str, now: dt.datetime) -> bool:
    stats = run["stats"] or {}
    pid = stats.get("pid")
    if stats.get("host") == host and isinstance(pid, int):
        return pid == os.getpid() or _process_exists(pid)
    last = _parse_time(stats.get("heartbeat")) or _as_utc(run["started_at"])
    return now - last < STALE_AFTER


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


def _parse_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _as_utc(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


def _as_utc(moment: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes (stored as UTC).
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def start(connection: Connection, *, backend: str, model: str | None, prompt_hash: str | None) -> int:
    """Add a running run owned by this process, after marking the stale ones; its id."""
    mark_stale_runs(connection)
    started = connection.execute(
        insert(RUNS).values(
            backend=backend, model=model, prompt_hash=prompt_hash, status=RUNNING, stats=owner_stats()
        )
    )
    key = started.inserted_primary_key
    assert key is not None, "an INSERT of one row has its primary key"
    return int(key[0])


def finish(connection: Connection, run_id: int, *, status: str, stats: dict[str, Any]) -> None:
    """Mark the run finished with `status` and `stats`; StoreError if there is no such run."""
    finished = connection.execute(
        update(RUNS).where(RUNS.c.id == run_id).values(status=status, stats=stats, finished_at=utc_now())
    )
    if finished.rowcount == 0:
        raise StoreError(f"no run with id {run_id}")
