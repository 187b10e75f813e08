"""On SQLite the writers of one process take turns (store/engine.py); on PostgreSQL they
write side by side."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

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


def test_a_failed_commit_leaves_no_transaction_open_for_the_next_writer(db_url: str) -> None:
    """A COMMIT that fails (here a deferred foreign key; in life a full disk) leaves the
    connection in its transaction: the pool must roll it back before anyone else gets it
    (on SQLite it does so only then: store/db.py)."""

    async def scenario() -> None:
        async with Database(db_url) as db:
            async with db.engine.begin() as conn:
                await conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
                await conn.execute(
                    text(
                        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER"
                        " REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
                    )
                )
            with pytest.raises(IntegrityError):
                async with db.engine.begin() as conn:
                    await conn.execute(text("INSERT INTO child VALUES (1, 99)"))
            for n in range(1, 6):  # more writers than the pool keeps connections
                async with asyncio.timeout(10), db.engine.begin() as conn:
                    await conn.execute(insert(platforms).values(**_platform(n)))
            assert await _platforms(db) == 5
            async with db.engine.connect() as conn:
                assert await conn.scalar(text("SELECT count(*) FROM child")) == 0

    asyncio.run(scenario())


def test_a_transaction_opened_inside_another_is_refused_not_left_waiting(db_url: str) -> None:
    async def scenario() -> None:
        async with Database(db_url) as db, db.engine.begin() as conn:
            await conn.execute(insert(platforms).values(**_platform(1)))
            if db.is_sqlite:
                with pytest.raises(RuntimeError, match="inside another"):
                    async with db.engine.begin():
                        pass

    asyncio.run(asyncio.wait_for(scenario(), 10))
