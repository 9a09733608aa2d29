"""A model provider's budget (requests and tokens per minute) shared by every worker process.

The budget is one row of `rate_limits`: `next_request_at` is the earliest time the next
request may be sent, `next_token_at` the time by which the tokens already granted have been
paid for. A worker takes a slot in a short transaction under the row's lock (SELECT … FOR
UPDATE) only when it is due, and sends at once; otherwise it sleeps until it is due and tries
again. So workers on any number of machines send at most one request per
`60 / requests_per_minute` seconds between them: in any minute, no more requests than the
budget. Tokens are paid the same way, with the tokens a request may use (prompt characters
plus its answer limit, the count providers reserve); within any minute they stay under the
budget by at most one request's tokens.

Time comes from the database (`clock_timestamp()` on PostgreSQL), so the machines' clocks
need not agree. A worker killed while waiting holds nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from extractor.core.errors import ConfigError
from extractor.store.engine import WRITE_OPTION, store_error
from extractor.store.tables import RateLimitRow, utc_now

logger = logging.getLogger(__name__)

#: Environment variables of `extractor worker` (a worker without them sends as fast as it can).
RPM_ENV = "EXTRACTOR_MODEL_RPM"
TPM_ENV = "EXTRACTOR_MODEL_TPM"


@dataclass(frozen=True)
class Budget:
    """Requests and tokens per minute (None: no limit of that kind)."""

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("requests", self.requests_per_minute), ("tokens", self.tokens_per_minute)):
            if value is not None and value <= 0:
                raise ConfigError(f"the {name} per minute budget must be positive, not {value}")

    @property
    def limited(self) -> bool:
        return self.requests_per_minute is not None or self.tokens_per_minute is not None


class SharedRateLimit:
    """The budget named `name` in the database behind `engine` (see module doc). Thread-safe."""

    def __init__(self, engine: Engine, budget: Budget, *, name: str = "default") -> None:
        self.engine, self.budget, self.name = engine, budget, name
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._postgres = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()  # SQLite ignores FOR UPDATE: threads queue here too
        self._row_made = False  # rows are never deleted: looked for once per process
        self.waited_s = 0.0

    def acquire(self, tokens: int = 0) -> float:
        """Wait until a request of `tokens` tokens fits the budget; returns the seconds waited.

        The slot is taken at the moment the request may go, not booked ahead and slept on: a
        thread woken late then only sends late, never closer to the next one than the budget.
        """
        if not self.budget.limited:
            return 0.0
        waited = 0.0
        while True:
            try:
                with self._lock:
                    delay = self._take(max(tokens, 0))
            except SQLAlchemyError as e:
                raise store_error("cannot take from the shared model budget", e, self.engine.url) from e
            if delay <= 0:
                self.waited_s += waited
                return waited
            time.sleep(delay)
            waited += delay

    def __call__(self, tokens: int) -> None:
        self.acquire(tokens)

    def _take(self, tokens: int) -> float:
        """Take the budget's next slot if it is due (returns 0), else the seconds until it is."""
        self._ensure_row()
        with Session(self._writer) as session, session.begin():
            row = session.get(RateLimitRow, self.name, with_for_update=True)
            assert row is not None  # made by _ensure_row; rows are never deleted
            now = self._now(session)
            due = max(_aware(row.next_request_at), _aware(row.next_token_at))
            if now < due:
                return (due - now).total_seconds()
            rpm, tpm = self.budget.requests_per_minute, self.budget.tokens_per_minute
            if rpm is not None:
                row.next_request_at = now + dt.timedelta(seconds=60.0 / rpm)
            if tpm is not None:
                row.next_token_at = now + dt.timedelta(seconds=60.0 * tokens / tpm)
            return 0.0

    def _ensure_row(self) -> None:
        if self._row_made:
            return
        with Session(self.engine) as session:
            if session.get(RateLimitRow, self.name) is not None:
                self._row_made = True
                return
        try:
            with Session(self._writer) as session, session.begin():
                epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
                session.add(RateLimitRow(name=self.name, next_request_at=epoch, next_token_at=epoch))
        except IntegrityError:
            pass  # another worker made it first
        self._row_made = True

    def _now(self, session: Session) -> dt.datetime:
        if self._postgres:
            now = session.scalar(select(func.clock_timestamp()))
            if now is not None:
                return _aware(now)

        return utc_now()


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes (stored as UTC).
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
