"""The simulated vehicles' own memory (what a real vehicle keeps in flash)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from segway_gateway.gateway.store.engine import Engine
from segway_gateway.gateway.store.tables import sim_vehicles


class SimStateRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def load(self) -> dict[str, dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(sim_vehicles))
            return {row.iot_code: row.state for row in rows}

    async def save(self, states: Mapping[str, dict[str, Any]]) -> None:
        """Replace the stored state of each given vehicle."""
        if not states:
            return
        rows = [{"iot_code": k, "state": v} for k, v in states.items()]
        async with self._engine.begin() as conn:
            upsert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(
                sim_vehicles
            )
            await conn.execute(
                upsert.on_conflict_do_update(
                    index_elements=["iot_code"], set_={"state": upsert.excluded.state}
                ),
                rows,
            )
