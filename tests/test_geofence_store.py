"""Zones in the store on SQLite and PostgreSQL, and a gateway started on them loads them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from segway_gateway.gateway.config import GatewayConfig
from segway_gateway.gateway.crypto import hash_secret
from segway_gateway.gateway.runtime import Gateway
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.errors import AlreadyExists, NotFound
from segway_gateway.gateway.store.geofences import Geofence
from segway_gateway.gateway.store.platforms import Platform

PLATFORM = "A20081"
OTHER_PLATFORM = "A30001"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[114.0, 22.0], [114.1, 22.0], [114.1, 22.1], [114.0, 22.1], [114.0, 22.0]]],
}
TRIANGLE = {
    "type": "Polygon",
    "coordinates": [[[113.0, 21.0], [115.0, 21.0], [115.0, 23.0], [113.0, 21.0]]],
}


def zone(name: str, platform: str = PLATFORM) -> Geofence:
    return Geofence(platform, name, SQUARE, 0)


async def repository_story(url: str) -> None:
    async with Database(url) as db:
        for code in (PLATFORM, OTHER_PLATFORM):
            await db.platforms.add(Platform(code, hash_secret("s"), None, 0))
        await db.geofences.add(zone("depot"))
        await db.geofences.add(zone("depot", OTHER_PLATFORM))
        with pytest.raises(AlreadyExists, match="geofence depot exists already"):
            await db.geofences.add(zone("depot"))
        with pytest.raises(NotFound, match="no platform A99999"):
            await db.geofences.add(zone("depot", "A99999"))

        assert await db.geofences.put(zone("station")) is True
        assert await db.geofences.put(Geofence(PLATFORM, "station", TRIANGLE, 1)) is False
        mine = await db.geofences.list_all(PLATFORM)
        assert [(g.name, g.geometry) for g in mine] == [("depot", SQUARE), ("station", TRIANGLE)]
        assert len(await db.geofences.list_all()) == 3

        await db.geofences.remove(PLATFORM, "depot")
        with pytest.raises(NotFound, match=f"no geofence depot on platform {PLATFORM}"):
            await db.geofences.remove(PLATFORM, "depot")
        await db.platforms.remove(OTHER_PLATFORM)
        assert [g.name for g in await db.geofences.list_all()] == ["station"]


def test_zones_are_stored_unique_per_platform_and_go_with_it(db_url: str) -> None:
    asyncio.run(repository_story(db_url))


async def loaded_after_restart(url: str, tmp_path: Path) -> None:
    async with Database(url) as db:
        await db.platforms.add(Platform(PLATFORM, hash_secret("s"), None, 0))
        await db.geofences.add(zone("depot"))
    gateway = Gateway(GatewayConfig(db_url=url, key_file=tmp_path / "key", simulate=False))
    await gateway.start()
    try:
        found = gateway.geofences.zone_at(PLATFORM, 114.05, 22.05)
        assert found is not None and found.name == "depot"
        assert gateway.geofences.zone_at(PLATFORM, 114.15, 22.05) is None
    finally:
        await gateway.stop()


def test_a_started_gateway_loads_the_stored_zones(db_url: str, tmp_path: Path) -> None:
    asyncio.run(loaded_after_restart(db_url, tmp_path))
