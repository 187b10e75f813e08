"""The database handle: engine from a URL, the schema's revision, and the repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import PoolResetState

from segway_gateway.gateway.store import schema
from segway_gateway.gateway.store.access_rules import AccessRuleRepo
from segway_gateway.gateway.store.engine import Engine, json_text
from segway_gateway.gateway.store.geofences import GeofenceRepo
from segway_gateway.gateway.store.login_failures import LoginFailureRepo
from segway_gateway.gateway.store.outbox import OutboxRepo
from segway_gateway.gateway.store.platforms import PlatformRepo
from segway_gateway.gateway.store.schema import Revision
from segway_gateway.gateway.store.sim import SimStateRepo
from segway_gateway.gateway.store.tokens import TokenRepo
from segway_gateway.gateway.store.vehicles import VehicleRepo

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class UnsupportedDatabase(ValueError):
    """The URL names a database this project does not run on."""


def normalize_url(url: str) -> str:
    """The async-driver form of a SQLAlchemy URL (`sqlite://` and `postgresql://` as given)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise UnsupportedDatabase(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


def _enable_sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _roll_back_if_open(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """The pool's reset of a SQLite connection it gets back: a rollback only when the
    connection is still in a transaction (a COMMIT that failed leaves it open), rather
    than the pool's own rollback every time, a trip to aiosqlite's thread on every write
    (measured: 0.2 ms of CPU per push delivered)."""
    if state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


class Database:
    """One engine and the repositories over it; `async with` opens and disposes it."""

    def __init__(self, url: str, pool_size: int = 5, max_overflow: int = 10) -> None:
        """`pool_size` and `max_overflow`: PostgreSQL's connection pool (SQLite's is
        SQLAlchemy's default: one process writes anyway)."""
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": orjson.loads}
        if self.is_sqlite:
            options["pool_reset_on_return"] = None
        else:  # a connection the server dropped (a restart) is replaced, not handed out
            options.update(pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)
        engine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            event.listen(engine.sync_engine, "connect", _enable_sqlite_wal)
            event.listen(engine.sync_engine, "reset", _roll_back_if_open)
        self.engine = Engine(engine, one_writer=self.is_sqlite)
        self.platforms = PlatformRepo(self.engine)
        self.vehicles = VehicleRepo(self.engine, keep_copies=self.is_sqlite)
        self.tokens = TokenRepo(self.engine)
        self.sim = SimStateRepo(self.engine)
        self.geofences = GeofenceRepo(self.engine)
        self.outbox = OutboxRepo(self.engine)
        self.access = AccessRuleRepo(self.engine)
        self.login_failures = LoginFailureRepo(self.engine, autocommit_reads=not self.is_sqlite)

    async def prepare(self, migrate: bool = True) -> list[Revision]:
        """Bring the schema up to what this code needs (store/schema.py: never a contract
        revision on a database in use); the revisions applied. `migrate` False: only
        check, and raise SchemaBehind if it is not."""
        async with self.engine.begin() as conn:
            if not migrate:
                await conn.run_sync(schema.check)
                return []
            return await conn.run_sync(schema.upgrade, contract=False)

    async def upgrade(self) -> list[Revision]:
        """Apply every pending revision, contract ones too (`db upgrade`)."""
        async with self.engine.begin() as conn:
            return await conn.run_sync(schema.upgrade, contract=True)

    async def revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(schema.current)

    async def ping(self) -> None:
        """One trivial query: raises if the database cannot answer."""
        async with self.engine.reading_one() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        await self.prepare()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
