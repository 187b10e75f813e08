"""The engine as the repositories use it: `connect()` to read, `begin()` to write.

SQLite lets one transaction write at a time. Another one that tries waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20 … ms between tries,
so two writers of one process that meet cost each other milliseconds (the
fleet's flush, the push dispatcher's claims and records: a push's end-to-end
p99 was 30 to 50 ms at 100 pushes/s). On SQLite the writers of one Database
(the gateway's) therefore queue on a lock, and each begins the moment the one
before it has committed. Writers elsewhere (the CLI, another Database on the
same file) still meet the busy handler.
Readers never wait: the database is in WAL mode. PostgreSQL takes concurrent
writers as they come.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

if TYPE_CHECKING:
    import aiosqlite


def json_text(value: Any) -> str:
    """How the store writes a JSON column: orjson, compact (SQLAlchemy's JSON type is
    given it too, `db.py`); measured 4 to 6 times faster than `json.dumps` on a status."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class Engine:
    """An `AsyncEngine` whose transactions, on SQLite, take turns."""

    def __init__(self, engine: AsyncEngine, one_writer: bool) -> None:
        self._engine = engine
        self._writer = asyncio.Lock() if one_writer else None
        self._writing: asyncio.Task[Any] | None = None

    def connect(self) -> AsyncConnection:
        """A connection for reading (no transaction is committed)."""
        return self._engine.connect()

    @contextlib.asynccontextmanager
    async def reading_one(self) -> AsyncIterator[AsyncConnection]:
        """A connection for a single read, with no transaction around it: one round trip to
        PostgreSQL instead of three (BEGIN, the read, ROLLBACK); measured 0.42 against
        0.25 ms a read."""
        async with self._engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A transaction, committed when the block ends and rolled back if it raises.
        Never open one inside another: on SQLite the inner one would wait forever, so it
        raises RuntimeError instead."""
        async with contextlib.AsyncExitStack() as stack:
            if self._writer is not None:
                task = asyncio.current_task()
                if self._writer.locked() and self._writing is task:
                    raise RuntimeError("a transaction opened inside another one")
                await stack.enter_async_context(self._writer)
                self._writing = task
                stack.callback(setattr, self, "_writing", None)
            yield await stack.enter_async_context(self._engine.begin())

    async def dispose(self) -> None:
        await self._engine.dispose()


async def sqlite_driver(conn: AsyncConnection) -> aiosqlite.Connection:
    """aiosqlite's own connection under a SQLAlchemy one, in its transaction: a statement
    sent to it takes one trip to aiosqlite's thread, where SQLAlchemy's execute takes
    three (cursor, execute, close) and about 0.3 ms of CPU more. For the writes a reply
    or an answer waits for; JSON goes as SQLAlchemy writes it (`json_text`)."""
    raw = await conn.get_raw_connection()
    return cast("aiosqlite.Connection", raw.driver_connection)
