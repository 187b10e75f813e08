"""Platforms: an operator's account (its code is the OAuth client_id)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from segway_gateway.gateway.store.errors import AlreadyExists, NotFound
from segway_gateway.gateway.store.tables import platforms


@dataclass(frozen=True)
class Platform:
    """A platform as stored; the secret only as a hash."""

    code: str
    secret_hash: str
    push_url: str | None
    created_at: int


class PlatformRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, platform: Platform) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(platforms).values(
                        code=platform.code,
                        secret_hash=platform.secret_hash,
                        push_url=platform.push_url,
                        created_at=platform.created_at,
                    )
                )
        except IntegrityError as err:
            raise AlreadyExists(f"platform {platform.code} exists already") from err

    async def get(self, code: str) -> Platform | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(platforms).where(platforms.c.code == code))).first()
        return None if row is None else Platform(**row._mapping)

    async def list_all(self) -> list[Platform]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(platforms).order_by(platforms.c.code))
            return [Platform(**row._mapping) for row in rows]

    async def remove(self, code: str) -> None:
        """Remove a platform with its vehicles and tokens."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(platforms).where(platforms.c.code == code))
        if result.rowcount == 0:
            raise NotFound(f"no platform {code}")
