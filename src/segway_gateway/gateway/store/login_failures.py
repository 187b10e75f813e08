"""Failed token requests, counted per source address and client id and per address alone.

One row per (source, client id) and one per source (`client_id` ''). A row counts the
failures of a fixed window that the first failure opens; the failure that reaches the
row's limit blocks it for `lockout` from then on. Every instance on the database reads
and writes the same rows, so an attacker alternating between instances gets no more
attempts than against one (see gateway/throttle.py and docs/security.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from segway_gateway.gateway.store.engine import Engine
from segway_gateway.gateway.store.tables import login_failures

ADDRESS_ROW = ""
"""The `client_id` of a source address's own row (no platform code is empty)."""


@dataclass(frozen=True)
class FailureRow:
    """One counter as stored (times in epoch ms; `blocked_until` 0: never blocked)."""

    client_id: str
    failures: int
    window_end: int
    blocked_until: int


class LoginFailureRepo:
    def __init__(self, engine: Engine, autocommit_reads: bool = False) -> None:
        """`autocommit_reads`: read without a transaction (one round trip to PostgreSQL
        instead of three; on SQLite through aiosqlite it costs more than it saves)."""
        self._engine = engine
        self._autocommit_reads = autocommit_reads

    async def read(self, source: str, client_id: str | None) -> list[FailureRow]:
        """The address's row and, with a client id, the pair's row (those that exist)."""
        ids = [ADDRESS_ROW] if client_id is None else [ADDRESS_ROW, client_id]
        t = login_failures.c
        query = select(t.client_id, t.failures, t.window_end, t.blocked_until).where(
            t.source == source, t.client_id.in_(ids)
        )
        reading = self._engine.reading_one if self._autocommit_reads else self._engine.connect
        async with reading() as conn:
            rows = await conn.execute(query)
            return [FailureRow(*row) for row in rows]

    async def record(
        self,
        source: str,
        limits: Sequence[tuple[str, int, int]],
        now: int,
        window: int,
        lockout: int,
    ) -> list[FailureRow]:
        """Count failures in each row `limits` names (client id, limit, how many: 1, or 0
        to block a row that has reached its limit without counting again), in one
        transaction, rows in client-id order (two instances never wait on each other in a
        circle); the rows as they are then.

        In a row whose window is over the count starts again at 1 with a new window; the
        failure that brings the count to the limit blocks the row until `now + lockout`;
        a block under way is never moved, so a Retry-After once given stays true.
        """
        counted: list[FailureRow] = []
        async with self._engine.begin() as conn:
            for client_id, limit, added in sorted(limits):
                statement = _upsert(
                    conn.dialect.name, source, client_id, limit, added, now, window, lockout
                )
                result = await conn.execute(statement)
                counted.append(FailureRow(*result.one()))
        return counted

    async def clear(self, source: str, client_id: str) -> None:
        """Forget the pair's failures (its secret was right)."""
        t = login_failures.c
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(login_failures).where(t.source == source, t.client_id == client_id)
            )

    async def prune(self, now: int) -> int:
        """Delete the rows whose window and block are both over; how many."""
        t = login_failures.c
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(login_failures).where(t.window_end <= now, t.blocked_until <= now)
            )
        return result.rowcount


def _upsert(
    dialect: str,
    source: str,
    client_id: str,
    limit: int,
    added: int,
    now: int,
    window: int,
    lockout: int,
) -> Any:
    """INSERT … ON CONFLICT DO UPDATE … RETURNING: one failure counted in one statement, so
    two instances counting at once both count (the row is locked by the update)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    t = login_failures.c
    over = t.window_end <= now
    failures = case((over, added), else_=t.failures + added)
    statement = insert(login_failures).values(
        source=source,
        client_id=client_id,
        failures=added,
        window_end=now + window,
        blocked_until=now + lockout if limit <= added else 0,
    )
    return statement.on_conflict_do_update(
        index_elements=[t.source, t.client_id],
        set_={
            "failures": failures,
            "window_end": case((over, now + window), else_=t.window_end),
            "blocked_until": case(
                (t.blocked_until > now, t.blocked_until),
                (failures >= limit, now + lockout),
                else_=t.blocked_until,
            ),
        },
    ).returning(t.client_id, t.failures, t.window_end, t.blocked_until)
