"""Access tokens, stored as hashes (the token itself is never written)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from segway_gateway.gateway.store.engine import Engine
from segway_gateway.gateway.store.tables import tokens


@dataclass(frozen=True)
class TokenRecord:
    """One issued token: its hash, the id it derives from, and its lifetime (epoch s)."""

    token_hash: str
    token_id: str
    platform_code: str
    issued_at: int
    expires_at: int


class TokenRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def add(self, record: TokenRecord) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(tokens).values(**record.__dict__))

    async def find(self, token_hash: str) -> TokenRecord | None:
        async with self._engine.connect() as conn:
            query = select(tokens).where(tokens.c.token_hash == token_hash)
            row = (await conn.execute(query)).first()
        return None if row is None else TokenRecord(**row._mapping)

    async def newest(self, platform_code: str) -> TokenRecord | None:
        async with self._engine.connect() as conn:
            query = (
                select(tokens)
                .where(tokens.c.platform_code == platform_code)
                .order_by(tokens.c.expires_at.desc())
                .limit(1)
            )
            row = (await conn.execute(query)).first()
        return None if row is None else TokenRecord(**row._mapping)

    async def prune(self, now: int) -> int:
        """Delete expired tokens; returns how many."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(tokens).where(tokens.c.expires_at <= now))
        return result.rowcount
