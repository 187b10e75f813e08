"""On SQLite the writers of one process take turns (store/engine.py); on PostgreSQL they
write side by side."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import func, insert, select

from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.tables import platforms

WAIT = 0.3
"""How long a second writer is given to start while the first is still open."""


def _platform(n: int) -> dict[str, object]:
    return {"code": f"P{n}", "secret_hash": "-", "push_url": None, "created_at": 0}


async def _platforms(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(platforms)) or 0)


def test_a_second_writer_waits_for_the_first_on_sqlite_only(db_url: str) -> None:
    async def scenario() -> bool:
        first_open, second_open, first_may_end = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def first(db: Database) -> None:
            async with db.engine.begin() as conn:
                await conn.execute(insert(platforms).values(**_platform(1)))
                first_open.set()
                await first_may_end.wait()

        async def second(db: Database) -> None:
            await first_open.wait()
            async with db.engine.begin() as conn:
                second_open.set()
                await conn.execute(insert(platforms).values(**_platform(2)))

        async with Database(db_url) as db:
            writers = asyncio.gather(first(db), second(db))
            await first_open.wait()
            try:
                await asyncio.wait_for(second_open.wait(), WAIT)
                overlapped = True
            except TimeoutError:
                overlapped = False
            first_may_end.set()
            await asyncio.wait_for(writers, 10)
            assert await _platforms(db) == 2
        return overlapped

    overlapped = asyncio.run(scenario())
    assert overlapped == db_url.startswith("postgresql")


def test_a_failed_transaction_rolls_back_and_lets_the_next_writer_in(db_url: str) -> None:
    async def scenario() -> None:
        async with Database(db_url) as db:
            with pytest.raises(RuntimeError, match="changed its mind"):
                async with db.engine.begin() as conn:
                    await conn.execute(insert(platforms).values(**_platform(1)))
                    raise RuntimeError("changed its mind")
            async with asyncio.timeout(10), db.engine.begin() as conn:
                await conn.execute(insert(platforms).values(**_platform(2)))
            assert await _platforms(db) == 1

    asyncio.run(scenario())


def test_a_writer_cancelled_mid_statement_leaves_the_database_to_the_next(db_url: str) -> None:
    """No transaction is left open on a pooled connection (the pool does not roll back
    what it gets back on SQLite: store/db.py)."""

    async def scenario() -> None:
        async with Database(db_url) as db:
            inside = asyncio.Event()

            async def writer() -> None:
                async with db.engine.begin() as conn:
                    await conn.execute(insert(platforms).values(**_platform(1)))
                    inside.set()
                    while True:  # statement after statement until cancelled
                        await conn.execute(select(func.count()).select_from(platforms))

            task = asyncio.create_task(writer())
            await inside.wait()
            await asyncio.sleep(0.05)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for n in range(2, 12):  # more writers than the pool has connections
                async with asyncio.timeout(10), db.engine.begin() as conn:
                    await conn.execute(insert(platforms).values(**_platform(n)))
            assert await _platforms(db) == 10

    asyncio.run(scenario())
