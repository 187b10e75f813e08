"""The push outbox: pushes accepted with the state change that caused them, then delivered."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from segway_gateway.gateway.store.tables import push_attempts, push_outbox

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True)
class NewPush:
    """A push to send: its stable event id, platform, kind and form (without signature)."""

    event_id: str
    platform_code: str
    kind: str
    form: dict[str, str]
    created_at: int


@dataclass(frozen=True)
class OutboxPush:
    """A push waiting in the outbox."""

    id: int
    event_id: str
    platform_code: str
    kind: str
    form: dict[str, str]
    attempts: int


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt, as the delivery log keeps it."""

    at: int
    http_status: int | None
    latency_ms: int
    excerpt: str


async def enqueue(conn: AsyncConnection, pushes: Sequence[NewPush]) -> None:
    """Add pushes inside the caller's transaction (the one writing their cause)."""
    if pushes:
        await conn.execute(
            insert(push_outbox),
            [
                {
                    "event_id": p.event_id,
                    "platform_code": p.platform_code,
                    "kind": p.kind,
                    "form": p.form,
                    "created_at": p.created_at,
                    "due_at": p.created_at,
                    "attempts": 0,
                    "state": PENDING,
                }
                for p in pushes
            ],
        )


class OutboxRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def due_platforms(self, now_ms: int) -> list[str]:
        """Platforms with pending pushes whose time has come."""
        query = (
            select(push_outbox.c.platform_code)
            .where(push_outbox.c.state == PENDING, push_outbox.c.due_at <= now_ms)
            .distinct()
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def due(
        self, now_ms: int, platform_code: str, limit: int, besides: Collection[int] = ()
    ) -> list[OutboxPush]:
        """A platform's pending pushes whose time has come, oldest first, but `besides`."""
        query = (
            select(push_outbox)
            .where(
                push_outbox.c.state == PENDING,
                push_outbox.c.due_at <= now_ms,
                push_outbox.c.platform_code == platform_code,
                push_outbox.c.id.notin_(besides),
            )
            .order_by(push_outbox.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [
                OutboxPush(r.id, r.event_id, r.platform_code, r.kind, r.form, r.attempts)
                for r in rows
            ]

    async def pending_count(self) -> int:
        async with self._engine.connect() as conn:
            query = select(func.count()).where(push_outbox.c.state == PENDING)
            return int((await conn.execute(query)).scalar_one())

    async def record(
        self, push: OutboxPush, attempt: Attempt, state: str, due_at: int | None = None
    ) -> None:
        """Log an attempt and move the push on (delivered, due again, or dead), together."""
        values: dict[str, Any] = {"attempts": push.attempts + 1, "state": state}
        if due_at is not None:
            values["due_at"] = due_at
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(push_attempts).values(
                    outbox_id=push.id,
                    platform_code=push.platform_code,
                    at=attempt.at,
                    http_status=attempt.http_status,
                    latency_ms=attempt.latency_ms,
                    excerpt=attempt.excerpt,
                )
            )
            await conn.execute(
                update(push_outbox).where(push_outbox.c.id == push.id).values(**values)
            )

    async def attempts(self, platform_code: str) -> list[tuple[str, Attempt]]:
        """The delivery log of a platform: (event id, attempt), oldest first."""
        query = (
            select(push_outbox.c.event_id, push_attempts)
            .join(push_outbox, push_outbox.c.id == push_attempts.c.outbox_id)
            .where(push_attempts.c.platform_code == platform_code)
            .order_by(push_attempts.c.id)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [
                (r.event_id, Attempt(r.at, r.http_status, r.latency_ms, r.excerpt)) for r in rows
            ]
