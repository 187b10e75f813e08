"""No-parking zones of a platform, stored as GeoJSON geometries (validated before they get here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Delete, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from segway_gateway.gateway.store.engine import Engine
from segway_gateway.gateway.store.errors import AlreadyExists, NotFound
from segway_gateway.gateway.store.tables import geofences, platforms


@dataclass(frozen=True)
class Geofence:
    """A zone as stored: its platform, name and GeoJSON geometry."""

    platform_code: str
    name: str
    geometry: dict[str, Any]
    created_at: int


class GeofenceRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def add(self, geofence: Geofence) -> None:
        """Add a zone; a platform's zone names are unique."""
        try:
            async with self._engine.begin() as conn:
                await _require_platform(conn, geofence.platform_code)
                await conn.execute(insert(geofences).values(**geofence.__dict__))
        except IntegrityError as err:
            raise AlreadyExists(
                f"geofence {geofence.name} exists already on platform {geofence.platform_code}"
            ) from err

    async def put(self, geofence: Geofence) -> bool:
        """Add a zone or replace the one with its name; True if it is new."""
        async with self._engine.begin() as conn:
            await _require_platform(conn, geofence.platform_code)
            result = await conn.execute(_delete(geofence.platform_code, geofence.name))
            await conn.execute(insert(geofences).values(**geofence.__dict__))
        return result.rowcount == 0

    async def list_all(self, platform_code: str | None = None) -> list[Geofence]:
        query = select(geofences).order_by(geofences.c.platform_code, geofences.c.name)
        if platform_code is not None:
            query = query.where(geofences.c.platform_code == platform_code)
        async with self._engine.connect() as conn:
            return [Geofence(**row._mapping) for row in await conn.execute(query)]

    async def remove(self, platform_code: str, name: str) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(_delete(platform_code, name))
        if result.rowcount == 0:
            raise NotFound(f"no geofence {name} on platform {platform_code}")


async def _require_platform(conn: AsyncConnection, platform_code: str) -> None:
    query = select(platforms.c.code).where(platforms.c.code == platform_code)
    if (await conn.execute(query)).first() is None:
        raise NotFound(f"no platform {platform_code}")


def _delete(platform_code: str, name: str) -> Delete:
    return delete(geofences).where(
        geofences.c.platform_code == platform_code, geofences.c.name == name
    )
