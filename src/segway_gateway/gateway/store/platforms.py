"""Platforms: an operator's account (its code is the OAuth client_id)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from segway_gateway.gateway.store.engine import Engine
from segway_gateway.gateway.store.errors import AlreadyExists, NotFound
from segway_gateway.gateway.store.tables import platforms


@dataclass(frozen=True)
class Platform:
    """A platform as stored; the secret only as a hash."""

    code: str
    secret_hash: str
    push_url: str | None
    created_at: int


_PLATFORM = select(
    platforms.c.code, platforms.c.secret_hash, platforms.c.push_url, platforms.c.created_at
)
"""A `Platform`'s columns (what it may call is store/access_rules.py's)."""


class PlatformRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def add(self, platform: Platform, sealed_secret: str | None = None) -> None:
        """Add a platform with its sealed secret."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(platforms).values(
                        code=platform.code,
                        secret_hash=platform.secret_hash,
                        push_url=platform.push_url,
                        created_at=platform.created_at,
                        sealed_secret=sealed_secret,
                    )
                )
        except IntegrityError as err:
            raise AlreadyExists(f"platform {platform.code} exists already") from err

    async def set_secret(self, code: str, secret_hash: str, sealed_secret: str) -> None:
        """Replace a platform's secret: its hash and its sealed copy, together."""
        await self._set(code, secret_hash=secret_hash, sealed_secret=sealed_secret)

    async def set_push_policy(self, code: str, policy: str) -> None:
        await self._set(code, push_policy=policy)

    async def _set(self, code: str, **values: str | None) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(platforms).where(platforms.c.code == code).values(**values)
            )
        if result.rowcount == 0:
            raise NotFound(f"no platform {code}")

    async def push_policy(self, code: str) -> str | None:
        """The platform's delivery policy, if it chose one."""
        return await self._one_column(code, platforms.c.push_policy)

    async def sealed_secret(self, code: str) -> str | None:
        """The platform's sealed secret; None for a platform added before secrets were kept."""
        return await self._one_column(code, platforms.c.sealed_secret)

    async def _one_column(self, code: str, column: Column[str]) -> str | None:
        async with self._engine.connect() as conn:
            query = select(column).where(platforms.c.code == code)
            return (await conn.execute(query)).scalar_one_or_none()

    async def get(self, code: str) -> Platform | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(_PLATFORM.where(platforms.c.code == code))).first()
        return None if row is None else Platform(**row._mapping)

    async def list_all(self) -> list[Platform]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(_PLATFORM.order_by(platforms.c.code))
            return [Platform(**row._mapping) for row in rows]

    async def remove(self, code: str) -> None:
        """Remove a platform with its vehicles and tokens."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(platforms).where(platforms.c.code == code))
        if result.rowcount == 0:
            raise NotFound(f"no platform {code}")
