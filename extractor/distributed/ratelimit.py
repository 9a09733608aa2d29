"""A model provider's budget (requests and tokens per minute) shared by every worker process.

The budget is one row of `rate_limits`: `next_request_at` is the earliest time the next
request may be sent, `next_token_at` the time by which the tokens already granted have been
paid for. A worker takes a slot only when it is due, in one atomic statement on PostgreSQL
(UPDATE … WHERE due RETURNING: one round trip, no transaction held open), and sends at once;
otherwise it sleeps until it is due and tries again. So workers on any number of machines
send at most one request per `(60 + SEND_DELAY_SPREAD_S) / requests_per_minute` seconds
between them: in any minute, no more requests than the budget, as sent and as the provider
receives them. Tokens are paid the same way, with the tokens a request may use (prompt
characters plus its answer limit, the count providers reserve); within any minute they stay
under the budget by at most one request's tokens.

Time comes from the database (`clock_timestamp()` on PostgreSQL), so the machines' clocks
need not agree. A worker killed while waiting holds nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    DateTime,
    Engine,
    Interval,
    Select,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.sql.dml import ReturningUpdate

from extractor.core.errors import ConfigError
from extractor.store.engine import WRITE_OPTION, store_error
from extractor.store.tables import RATE_LIMITS, utc_now

logger = logging.getLogger(__name__)

#: A request reaches the provider some time after its slot is granted (the thread must be
#: scheduled, the HTTP request built and sent), and that delay varies: on a loaded machine a
#: request sent late and the one sent `budget` slots later on time would put budget + 1
#: requests in one minute as the provider counts them (measured: 61 of 60 in a 60 s window
#: under load average 4). Slots are spaced as if a minute were this much longer, so any
#: minute of arrivals stays within the budget while the delays differ by less than this;
#: it costs 1/60 of the throughput a binding budget allows.
SEND_DELAY_SPREAD_S = 1.0
#: Sleep before trying again when the slot came due between the two statements (it is taken
#: at once next time, unless another worker took it first).
_RETRY_AT_ONCE_S = 1e-6

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
        # PostgreSQL: the slot is taken by one statement, its own transaction (no BEGIN/COMMIT
        # round trips). The pool resets the connection's isolation level on return.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
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
                self._ensure_row()
                if self._postgres:
                    delay = self._take_postgres(max(tokens, 0))
                else:
                    with self._lock:
                        delay = self._take_locked(max(tokens, 0))
            except SQLAlchemyError as e:
                raise store_error("cannot take from the shared model budget", e, self.engine.url) from e
            if delay <= 0:
                self.waited_s += waited
                return waited
            time.sleep(delay)
            waited += delay

    def __call__(self, tokens: int) -> None:
        self.acquire(tokens)

    def _gaps(self, tokens: int) -> dict[str, dt.timedelta]:
        """How far a request of `tokens` tokens moves each limited schedule on."""
        rpm, tpm = self.budget.requests_per_minute, self.budget.tokens_per_minute
        minute = 60.0 + SEND_DELAY_SPREAD_S  # see SEND_DELAY_SPREAD_S
        gaps: dict[str, dt.timedelta] = {}
        if rpm is not None:
            gaps["next_request_at"] = dt.timedelta(seconds=minute / rpm)
        if tpm is not None:
            gaps["next_token_at"] = dt.timedelta(seconds=minute * tokens / tpm)
        return gaps

    @functools.cached_property
    def _postgres_statements(self) -> tuple[ReturningUpdate[Any], Select[Any]]:
        """(take, wait), built once: the slot if due, else how many seconds until it is."""
        table = RATE_LIMITS
        due = func.greatest(table.c.next_request_at, table.c.next_token_at)
        now = func.clock_timestamp(type_=DateTime(timezone=True))
        take = (
            update(table)
            .where(table.c.name == self.name, due <= now)
            .values({column: now + bindparam(f"gap_{column}", type_=Interval()) for column in self._gaps(0)})
            .returning(table.c.name)
        )
        wait = select(func.extract("epoch", due - now)).where(table.c.name == self.name)
        return take, wait

    def _take_postgres(self, tokens: int) -> float:
        """Take the slot if it is due (returns 0), else the seconds until it is.

        The fast path is one atomic UPDATE … WHERE due RETURNING, timed by the server's
        `clock_timestamp()`: of two workers updating at once, the second waits on the row's
        lock and then re-checks the condition against the row the first wrote, which is no
        longer due. Only a request that is not due pays a second statement, to learn how long
        to sleep."""
        take, wait = self._postgres_statements
        with self._autocommit.connect() as connection:
            gaps = {f"gap_{column}": gap for column, gap in self._gaps(tokens).items()}
            if connection.execute(take, gaps).first() is not None:
                return 0.0
            seconds = connection.execute(wait).scalar()
        # Due again by now (another worker's slot passed meanwhile): try at once.
        return max(float(seconds or 0.0), 0.0) or _RETRY_AT_ONCE_S

    def _take_locked(self, tokens: int) -> float:
        """SQLite: the same decision in a write transaction (BEGIN IMMEDIATE serialises
        processes), timed by this machine's clock."""
        table = RATE_LIMITS
        with self._writer.begin() as connection:
            row = connection.execute(
                select(table.c.next_request_at, table.c.next_token_at).where(table.c.name == self.name)
            ).one()
            now = utc_now()
            due = max(_aware(row.next_request_at), _aware(row.next_token_at))
            if now < due:
                return (due - now).total_seconds()
            advanced = {column: now + gap for column, gap in self._gaps(tokens).items()}
            connection.execute(update(table).where(table.c.name == self.name).values(advanced))
            return 0.0

    def _ensure_row(self) -> None:
        if self._row_made:
            return
        table = RATE_LIMITS
        with self.engine.connect() as connection:
            found = connection.execute(select(table.c.name).where(table.c.name == self.name)).first()
        if found is None:
            epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            try:
                with self._writer.begin() as connection:
                    connection.execute(
                        insert(table).values(name=self.name, next_request_at=epoch, next_token_at=epoch)
                    )
            except IntegrityError:
                pass  # another worker made it first
        self._row_made = True


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes (stored as UTC).
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
