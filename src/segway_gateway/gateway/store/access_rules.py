"""What each platform may call: its rate limit and suspension, and the shared token buckets.

A rule is written by the CLI or the admin API and read by every instance (gateway/access.py
follows them). A bucket holds a limited platform's tokens for all instances together; an
instance takes several at once (`take`) and gives back those it did not use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, case, cast, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from segway_gateway.gateway.store.engine import Engine
from segway_gateway.gateway.store.errors import NotFound
from segway_gateway.gateway.store.tables import platforms, rate_buckets


@dataclass(frozen=True)
class AccessRule:
    """A platform's limit (`rate` calls/s, bursts of `burst`; None: none) and suspension."""

    platform_code: str
    rate: float | None = None
    burst: int | None = None
    suspended: bool = False


@dataclass(frozen=True)
class Grant:
    """What a take got: `granted` whole tokens, and the `left` (a fraction) in the bucket."""

    granted: int
    left: float


class AccessRuleRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def rules(self) -> list[AccessRule]:
        """The rules of the platforms that are limited or suspended."""
        t = platforms.c
        query = select(t.code, t.rate, t.burst, t.suspended).where(
            or_(t.rate.is_not(None), t.suspended.is_(True))
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query.order_by(t.code))
            return [_rule(*row) for row in rows]

    async def rule(self, code: str) -> AccessRule:
        """The platform's rule, or NotFound."""
        t = platforms.c
        query = select(t.code, t.rate, t.burst, t.suspended).where(t.code == code)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"no platform {code}")
        return _rule(*row)

    async def set_limit(self, code: str, rate: float | None, burst: int | None) -> AccessRule:
        """Limit the platform to `rate` calls/s with bursts of `burst` (None: no limit). Its
        bucket starts again, full."""
        async with self._engine.begin() as conn:
            await _update(conn, code, rate=rate, burst=burst)
            await conn.execute(delete(rate_buckets).where(rate_buckets.c.platform_code == code))
        return await self.rule(code)

    async def set_suspended(self, code: str, suspended: bool) -> AccessRule:
        async with self._engine.begin() as conn:
            await _update(conn, code, suspended=suspended)
        return await self.rule(code)

    async def take(
        self, code: str, want: int, back: int, rate: float, burst: int, now: int
    ) -> Grant:
        """Take up to `want` whole tokens from the platform's bucket, after giving `back`
        the unused ones of an earlier take, in one statement (the row is locked by it, so
        instances taking at once each get their own). The bucket refills at `rate` a
        second up to `burst`; it starts full. `now`: epoch ms."""
        t = rate_buckets.c
        elapsed = case((t.at < now, now - t.at), else_=0)
        refilled = t.tokens + back + elapsed * (rate / 1000.0)
        available = case((refilled > burst, float(burst)), else_=refilled)
        first = min(want, burst)
        async with self._engine.begin() as conn:
            truncated = cast(available, Integer) if conn.dialect.name == "sqlite" else None
            whole = func.floor(available) if truncated is None else truncated
            granted = case((available >= want, want), (available >= 1, whole), else_=0)
            statement = (
                _insert(conn.dialect.name)(rate_buckets)
                .values(platform_code=code, tokens=float(burst - first), at=now, granted=first)
                .on_conflict_do_update(
                    index_elements=[t.platform_code],
                    set_={
                        "tokens": available - granted,
                        "at": case((t.at < now, now), else_=t.at),
                        "granted": granted,
                    },
                )
                .returning(t.granted, t.tokens)
            )
            row = (await conn.execute(statement)).one()
        return Grant(int(row.granted), float(row.tokens))


def _rule(code: str, rate: float | None, burst: int | None, suspended: bool | None) -> AccessRule:
    return AccessRule(code, rate, burst, bool(suspended))


async def _update(conn: AsyncConnection, code: str, **values: Any) -> None:
    result = await conn.execute(update(platforms).where(platforms.c.code == code).values(**values))
    if result.rowcount == 0:
        raise NotFound(f"no platform {code}")


def _insert(dialect: str) -> Any:
    """The dialect's INSERT, which has ON CONFLICT."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
