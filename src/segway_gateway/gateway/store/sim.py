"""The simulated vehicles' own memory (what a real vehicle keeps in flash)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select

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
        async with self._engine.begin() as conn:
            await conn.execute(delete(sim_vehicles).where(sim_vehicles.c.iot_code.in_(states)))
            await conn.execute(
                insert(sim_vehicles), [{"iot_code": k, "state": v} for k, v in states.items()]
            )
