"""The simulated vehicles' own memory (what a real vehicle keeps in flash)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from segway_gateway.gateway.store.engine import Engine, json_text, sqlite_driver
from segway_gateway.gateway.store.tables import sim_vehicles

_SQLITE_UPSERT = (  # JSON as SQLAlchemy writes it (json_text), so `load` reads it back
    "INSERT INTO sim_vehicles (iot_code, state) VALUES (?, ?)"
    " ON CONFLICT (iot_code) DO UPDATE SET state = excluded.state"
)


class SimStateRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def load(self) -> dict[str, dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(sim_vehicles))
            return {row.iot_code: row.state for row in rows}

    async def save(self, states: Mapping[str, dict[str, Any]]) -> None:
        """Replace the stored state of each given vehicle.

        A commanded vehicle replies once this returns, so on SQLite the statement goes to
        aiosqlite's connection itself: one trip to its thread, where SQLAlchemy takes three
        (cursor, execute, close) and about 0.3 ms of CPU more (one vehicle's write measured
        0.7 against 1.5 ms). The transaction, and on the gateway's database the writers'
        turn, stay SQLAlchemy's.
        """
        if not states:
            return
        async with self._engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                driver = await sqlite_driver(conn)
                rows = [(iot_code, json_text(state)) for iot_code, state in states.items()]
                await driver.executemany(_SQLITE_UPSERT, rows)
            else:
                upsert = postgresql.insert(sim_vehicles)
                await conn.execute(
                    upsert.on_conflict_do_update(
                        index_elements=["iot_code"], set_={"state": upsert.excluded.state}
                    ),
                    [{"iot_code": k, "state": v} for k, v in states.items()],
                )
