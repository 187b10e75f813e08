"""One running gateway: the store, the services and the device link, started in order."""

from __future__ import annotations

import logging

from segway_gateway.gateway.auth import TokenService
from segway_gateway.gateway.clock import Clock, system_clock
from segway_gateway.gateway.config import GatewayConfig
from segway_gateway.gateway.crypto import load_key
from segway_gateway.gateway.fleet import FleetService
from segway_gateway.gateway.link.memory import MemoryLink
from segway_gateway.gateway.store.db import Database
from segway_gateway.sim.fleet import SimFleet

log = logging.getLogger(__name__)


class Gateway:
    """What the routes call; `start()` before serving, `stop()` after."""

    def __init__(self, config: GatewayConfig, clock: Clock = system_clock) -> None:
        self.config = config
        self.clock = clock
        self.db = Database(config.db_url)
        self.tokens = TokenService(
            self.db.tokens, self.db.platforms, load_key(config.key_file), clock, config.token_ttl
        )
        self.link = MemoryLink()
        self.fleet = FleetService(self.db, self.link, config.command_timeout)
        self.sim: SimFleet | None = None
        if config.simulate:
            self.sim = SimFleet(
                self.link,
                self.db.sim,
                system_clock,
                seed=config.seed,
                speedup=config.speedup,
                autopilot=config.autopilot,
            )

    async def start(self) -> None:
        await self.db.create_schema()
        await self.fleet.start()
        if self.sim is not None:
            active = [v.iot_code for v in await self.db.vehicles.list_all() if v.active]
            await self.sim.start(active)

    async def stop(self) -> None:
        if self.sim is not None:
            await self.sim.stop()
        await self.fleet.stop()
        await self.db.close()
