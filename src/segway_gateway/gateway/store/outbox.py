"""The push outbox: pushes accepted with the state change that caused them, then delivered."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from segway_gateway.gateway.store.engine import Engine
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


@dataclass(frozen=True)
class Outcome:
    """What one attempt did to its push: its new state and, if pending, when it is due."""

    push: OutboxPush
    attempt: Attempt
    state: str
    due_at: int | None = None


@dataclass(frozen=True)
class LogEntry:
    """One line of the delivery log: which push, where it stands, one attempt."""

    event_id: str
    platform_code: str
    kind: str
    iot_code: str
    state: str
    attempt: Attempt
    form: dict[str, str]
    """The push's fields as sent (without the signature)."""


@dataclass(frozen=True)
class LogQuery:
    """Which attempts of the delivery log to list: every condition given applies; times
    are of the attempt, epoch ms (since inclusive, until exclusive)."""

    platform_code: str | None = None
    state: str | None = None
    event_id: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    limit: int = 100
    kind: str | None = None
    iot_code: str | None = None
    newest: int | None = None
    """Look only among the log's newest attempts, this many (whoever's): a bound on what a
    condition no index serves (the vehicle, read from the form) costs."""


@dataclass(frozen=True)
class Replay:
    """Which pushes to send again: by event id, the dead ones, a platform, a time range
    (of acceptance, epoch ms); the conditions given all apply."""

    event_ids: tuple[str, ...] = ()
    dead: bool = False
    platform_code: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    def selects_something(self) -> bool:
        bounds = (self.since_ms, self.until_ms)
        return bool(self.event_ids or self.dead) or any(b is not None for b in bounds)


async def enqueue(conn: AsyncConnection, pushes: Sequence[NewPush]) -> None:
    """Add pushes inside the caller's transaction (the one writing their cause); one whose
    eventId the outbox holds already (the same report again) is not added twice."""
    if pushes:
        await conn.execute(
            _insert_new(conn),
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


def _insert_new(conn: AsyncConnection) -> Insert:
    """An insert into the outbox that skips rows whose eventId is there already."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(push_outbox).on_conflict_do_nothing(index_elements=["event_id"])
    return sqlite.insert(push_outbox).on_conflict_do_nothing(index_elements=["event_id"])


class OutboxRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def pending_count(self) -> int:
        """Pushes accepted and not yet delivered (nor given up)."""
        query = select(func.count()).select_from(push_outbox).where(push_outbox.c.state == PENDING)
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def due_platforms(self, now_ms: int) -> list[str]:
        """Platforms with pending pushes whose time has come."""
        query = (
            select(push_outbox.c.platform_code)
            .where(push_outbox.c.state == PENDING, push_outbox.c.due_at <= now_ms)
            .distinct()
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def claim(
        self, now_ms: int, platform_code: str, limit: int, lease_ms: int
    ) -> list[OutboxPush]:
        """Take up to `limit` of a platform's due pushes, oldest first, for `lease_ms`.

        Claiming moves a push's due time past the lease, so no other dispatcher
        (another gateway instance on the same database) takes it meanwhile; on
        PostgreSQL, rows another instance is claiming at this moment are skipped
        rather than waited for. A push whose claimer dies before recording an
        attempt falls due again when the lease ends.
        """
        claimable = (
            select(push_outbox.c.id)
            .where(
                push_outbox.c.state == PENDING,
                push_outbox.c.due_at <= now_ms,
                push_outbox.c.platform_code == platform_code,
            )
            .order_by(push_outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claiming = (
            update(push_outbox)
            .where(push_outbox.c.id.in_(claimable.scalar_subquery()))
            .values(due_at=now_ms + lease_ms)
            .returning(push_outbox)
        )
        async with self._engine.begin() as conn:
            rows = sorted((await conn.execute(claiming)).all(), key=lambda row: row.id)
        return [
            OutboxPush(r.id, r.event_id, r.platform_code, r.kind, r.form, r.attempts) for r in rows
        ]

    async def record(self, outcomes: Sequence[Outcome]) -> None:
        """Log attempts and move their pushes on (delivered, due again, or dead), in one
        transaction: one writer keeps up with many deliveries on SQLite's single lock.

        A push whose platform was removed meanwhile went with it and is skipped. A push
        is moved on only if no one recorded an attempt of it since it was claimed (an
        instance whose lease ran out may have claimed and sent it again); the attempt is
        logged either way.
        """
        by_id = sorted(outcomes, key=lambda o: o.push.id)  # one lock order for all writers
        if not by_id:
            return
        try:
            async with self._engine.begin() as conn:
                await self._record(conn, by_id)
        except IntegrityError:  # a platform was removed meanwhile, and its pushes with it
            async with self._engine.begin() as conn:
                ids = [o.push.id for o in by_id]
                existing = select(push_outbox.c.id).where(push_outbox.c.id.in_(ids))
                live = set((await conn.execute(existing)).scalars())
                await self._record(conn, [o for o in by_id if o.push.id in live])

    @staticmethod
    async def _record(conn: AsyncConnection, outcomes: Sequence[Outcome]) -> None:
        if not outcomes:
            return
        await conn.execute(
            insert(push_attempts),
            [
                {
                    "outbox_id": o.push.id,
                    "platform_code": o.push.platform_code,
                    "at": o.attempt.at,
                    "http_status": o.attempt.http_status,
                    "latency_ms": o.attempt.latency_ms,
                    "excerpt": o.attempt.excerpt,
                }
                for o in outcomes
            ],
        )
        await conn.execute(
            update(push_outbox)
            .where(
                push_outbox.c.id == bindparam("push_id"),
                push_outbox.c.state == PENDING,
                push_outbox.c.attempts == bindparam("old_attempts"),
            )
            .values(
                attempts=bindparam("new_attempts"),
                state=bindparam("new_state"),
                due_at=bindparam("new_due_at"),
            ),
            [
                {
                    "push_id": o.push.id,
                    "old_attempts": o.push.attempts,
                    "new_attempts": o.push.attempts + 1,
                    "new_state": o.state,
                    "new_due_at": o.attempt.at if o.due_at is None else o.due_at,
                }
                for o in outcomes
            ],
        )

    async def release(self, ids: Collection[int], now_ms: int) -> None:
        """Give claimed pushes back before their lease ends: due now, for whoever claims."""
        async with self._engine.begin() as conn:
            await conn.execute(
                update(push_outbox)
                .where(push_outbox.c.id.in_(ids), push_outbox.c.state == PENDING)
                .values(due_at=now_ms)
            )

    async def log(self, wanted: LogQuery) -> list[LogEntry]:
        """The latest delivery attempts that match, newest first, with what each push was."""
        query = (
            select(
                push_outbox.c.event_id,
                push_outbox.c.platform_code,
                push_outbox.c.kind,
                push_outbox.c.form,
                push_outbox.c.state,
                push_attempts.c.at,
                push_attempts.c.http_status,
                push_attempts.c.latency_ms,
                push_attempts.c.excerpt,
            )
            .join(push_outbox, push_outbox.c.id == push_attempts.c.outbox_id)
            .order_by(push_attempts.c.id.desc())
            .limit(wanted.limit)
        )
        if wanted.platform_code is not None:
            query = query.where(push_outbox.c.platform_code == wanted.platform_code)
        if wanted.state is not None:
            query = query.where(push_outbox.c.state == wanted.state)
        if wanted.event_id is not None:
            query = query.where(push_outbox.c.event_id == wanted.event_id)
        if wanted.kind is not None:
            query = query.where(push_outbox.c.kind == wanted.kind)
        if wanted.iot_code is not None:
            query = query.where(push_outbox.c.form["iotCode"].as_string() == wanted.iot_code)
        if wanted.newest is not None:
            last = select(func.max(push_attempts.c.id)).scalar_subquery()
            query = query.where(push_attempts.c.id > last - wanted.newest)
        if wanted.since_ms is not None:
            query = query.where(push_attempts.c.at >= wanted.since_ms)
        if wanted.until_ms is not None:
            query = query.where(push_attempts.c.at < wanted.until_ms)
        async with self._engine.connect() as conn:
            return [
                LogEntry(
                    r.event_id,
                    r.platform_code,
                    r.kind,
                    r.form.get("iotCode", ""),
                    r.state,
                    Attempt(r.at, r.http_status, r.latency_ms, r.excerpt),
                    r.form,
                )
                for r in await conn.execute(query)
            ]

    async def replay(self, selection: Replay, now_ms: int) -> int:
        """Send the selected pushes again from now (as new: two attempts); how many."""
        conditions = [push_outbox.c.state != PENDING]
        if selection.event_ids:
            conditions.append(push_outbox.c.event_id.in_(selection.event_ids))
        if selection.dead:
            conditions.append(push_outbox.c.state == DEAD)
        if selection.platform_code is not None:
            conditions.append(push_outbox.c.platform_code == selection.platform_code)
        if selection.since_ms is not None:
            conditions.append(push_outbox.c.created_at >= selection.since_ms)
        if selection.until_ms is not None:
            conditions.append(push_outbox.c.created_at < selection.until_ms)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(push_outbox)
                .where(*conditions)
                .values(state=PENDING, due_at=now_ms, attempts=0)
            )
        return int(result.rowcount)

    async def prune(self, before_ms: int, dead: bool = False, batch: int = 5_000) -> int:
        """Delete the delivered pushes accepted before `before_ms` (and the dead ones too
        when `dead`), their delivery log with them; how many pushes. A batch at a time,
        so no one transaction keeps other writers waiting long."""
        states = [DELIVERED, DEAD] if dead else [DELIVERED]
        chosen = (
            select(push_outbox.c.id)
            .where(push_outbox.c.state.in_(states), push_outbox.c.created_at < before_ms)
            .limit(batch)
        )
        pruned = 0
        while True:
            async with self._engine.begin() as conn:
                ids = list((await conn.execute(chosen)).scalars())
                if ids:  # the attempts go with their push (ON DELETE CASCADE)
                    await conn.execute(delete(push_outbox).where(push_outbox.c.id.in_(ids)))
            pruned += len(ids)
            if len(ids) < batch:
                return pruned
