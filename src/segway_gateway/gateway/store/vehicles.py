"""Vehicles: registration, and the latest status, location and settings they reported."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from segway_gateway.gateway.store.engine import Engine
from segway_gateway.gateway.store.errors import AlreadyExists, NotFound
from segway_gateway.gateway.store.outbox import NewPush, enqueue
from segway_gateway.gateway.store.tables import platforms, vehicles


@dataclass
class Vehicle:
    """A registered vehicle and what the gateway last knew of it."""

    iot_code: str
    platform_code: str
    active: bool
    created_at: int
    status: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VehicleState:
    """The part of a vehicle that changes while it runs."""

    status: dict[str, Any] | None
    location: dict[str, Any] | None
    settings: dict[str, Any]


class VehicleRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def add(self, *new: Vehicle) -> None:
        """Register vehicles, all or none."""
        async with self._engine.begin() as conn:
            owners = {vehicle.platform_code for vehicle in new}
            known = select(platforms.c.code).where(platforms.c.code.in_(owners))
            missing = owners - set((await conn.execute(known)).scalars())
            if missing:
                raise NotFound(f"no platform {', '.join(sorted(missing))}")
            codes = [vehicle.iot_code for vehicle in new]
            taken = select(vehicles.c.iot_code).where(vehicles.c.iot_code.in_(codes))
            existing = sorted((await conn.execute(taken)).scalars())
            if existing:
                raise AlreadyExists(
                    f"vehicle {', '.join(existing)} exists already (nothing was added)"
                )
            try:
                await conn.execute(insert(vehicles), [vehicle.__dict__ for vehicle in new])
            except IntegrityError as err:
                raise AlreadyExists(f"{err.orig} (nothing was added)") from err

    async def list_all(self, platform_code: str | None = None) -> list[Vehicle]:
        query = select(vehicles).order_by(vehicles.c.platform_code, vehicles.c.iot_code)
        if platform_code is not None:
            query = query.where(vehicles.c.platform_code == platform_code)
        async with self._engine.connect() as conn:
            return [Vehicle(**row._mapping) for row in await conn.execute(query)]

    async def registrations(self) -> dict[str, tuple[str, bool]]:
        """Every vehicle's owner and activation: iotCode → (platform code, active)."""
        query = select(vehicles.c.iot_code, vehicles.c.platform_code, vehicles.c.active)
        async with self._engine.connect() as conn:
            return {
                row.iot_code: (row.platform_code, row.active) for row in await conn.execute(query)
            }

    async def list_codes(self, iot_codes: list[str]) -> list[Vehicle]:
        query = select(vehicles).where(vehicles.c.iot_code.in_(iot_codes))
        async with self._engine.connect() as conn:
            return [Vehicle(**row._mapping) for row in await conn.execute(query)]

    async def remove(self, iot_code: str) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(vehicles).where(vehicles.c.iot_code == iot_code))
        if result.rowcount == 0:
            raise NotFound(f"no vehicle {iot_code}")

    async def save_states(
        self, states: Mapping[str, VehicleState], pushes: Sequence[NewPush] = ()
    ) -> None:
        """Write the latest state of many vehicles, and the pushes it causes, in one
        transaction: a push is never lost, nor sent for a state that was not kept."""
        if not states and not pushes:
            return
        async with self._engine.begin() as conn:
            await enqueue(conn, pushes)
            for iot_code, state in states.items():
                await conn.execute(
                    update(vehicles)
                    .where(vehicles.c.iot_code == iot_code)
                    .values(status=state.status, location=state.location, settings=state.settings)
                )
