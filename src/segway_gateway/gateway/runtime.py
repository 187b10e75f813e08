"""One running gateway: the store, the services and the device link, started in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from segway_gateway.clock import Clock, system_clock
from segway_gateway.devicelink.base import DeviceLink, DevicePort
from segway_gateway.devicelink.guard import DeviceGuard
from segway_gateway.devicelink.memory import MemoryLink
from segway_gateway.devicelink.mosquitto import GATEWAY_USER, gateway_password
from segway_gateway.devicelink.mqtt_gateway import MqttLink
from segway_gateway.devicelink.mqtt_session import Broker
from segway_gateway.devicelink.mqtt_vehicle import MqttPort
from segway_gateway.gateway.access import PlatformAccess
from segway_gateway.gateway.auth import TokenService
from segway_gateway.gateway.config import GatewayConfig
from segway_gateway.gateway.crypto import load_key
from segway_gateway.gateway.faults import FaultInjector
from segway_gateway.gateway.fleet import FleetService
from segway_gateway.gateway.geofences import GeofenceIndex, parse_zone
from segway_gateway.gateway.periodic import every
from segway_gateway.gateway.push.dispatcher import PushDispatcher
from segway_gateway.gateway.readiness import Parts, Readiness
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.throttle import LoginThrottle
from segway_gateway.sim.fleet import SimFleet

log = logging.getLogger(__name__)

REGISTRATION_POLL_SECONDS = 5.0
PRUNE_SECONDS = 3600.0


class Gateway:
    """What the routes call; `start()` before serving, `stop()` after."""

    def __init__(self, config: GatewayConfig, clock: Clock = system_clock) -> None:
        self.config = config
        self.clock = clock
        self.db = Database(config.db_url, config.db_pool_size, config.db_max_overflow)
        key = load_key(config.key_file)
        self.key = key
        """The gateway key (tokens, sealed secrets, the console's session cookies)."""
        self.access = PlatformAccess(self.db.access, clock)
        self.tokens = TokenService(
            self.db.tokens,
            self.db.platforms,
            key,
            clock,
            config.token_ttl,
            throttle=LoginThrottle(self.db.login_failures, clock),
            access=self.access,
        )
        self.guard = DeviceGuard(clock, config.vehicle_rate) if config.broker else None
        """What vehicles send over the broker passes it; in process, the vehicles are ours."""
        self.link, self._port = _device_link(config, key, clock, self.guard)
        self.fleet = FleetService(self.db, self.link, clock, config.command_timeout)
        self.pushes = PushDispatcher(self.db, key, self.fleet.ingest.doorbell, clock)
        self._pushing: asyncio.Task[None] | None = None
        self.stopping = False
        """Set when `stop()` begins: readiness says so while the work in hand finishes."""
        self.readiness = Readiness(
            Parts(
                ping_database=self.db.ping,
                link_connected=lambda: self.link.connected,
                pushes_running=lambda: self._pushing is not None and not self._pushing.done(),
                stopping=lambda: self.stopping,
            ),
            clock,
        )
        self.geofences = GeofenceIndex()
        self._geofences_loading = asyncio.Lock()
        self.sim: SimFleet | None = None
        self.faults: FaultInjector | None = None
        self._follower: asyncio.Task[None] | None = None
        self._pruner: asyncio.Task[None] | None = None
        if config.simulate:
            self.sim = SimFleet(
                self._port,
                self.db.sim,
                clock,
                seed=config.seed,
                speedup=config.speedup,
                autopilot=config.autopilot,
                city=config.city,
            )
            self.faults = FaultInjector(self.sim, self.link, self.fleet, clock)

    async def start(self) -> None:
        applied = await self.db.prepare(self.config.migrate)
        for revision in applied:
            log.info("schema upgraded to %s: %s", revision.id, revision.summary)
        await self._follow_platforms()
        await self.fleet.start()
        self._pushing = asyncio.create_task(self.pushes.run(), name="pushes")
        await self.reload_geofences()
        if self.sim is not None:
            await self.sim.start(*_by_activation(await self.db.vehicles.registrations()))
        self._follower = asyncio.create_task(
            every(
                REGISTRATION_POLL_SECONDS,
                self._follow_registrations,
                "reading registrations",
                self.clock,
            ),
            name="registrations",
        )
        if self.config.push_retention_days > 0:  # beside serving: a backlog takes a while
            self._pruner = asyncio.create_task(
                every(
                    PRUNE_SECONDS,
                    self._prune_pushes,
                    "deleting old pushes",
                    self.clock,
                    at_once=True,
                ),
                name="push-retention",
            )

    async def stop(self) -> None:
        self.stopping = True
        for task in (self._follower, self._pruner):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.sim is not None:
            await self.sim.stop()
            await self._port.drain()
        await self.fleet.stop()
        self.pushes.stop()
        if self._pushing is not None:  # however it ended: a dispatcher that failed stops too
            await asyncio.wait([self._pushing])
        await self.pushes.close()
        await self.access.close()
        await self.db.close()

    async def _follow_registrations(self) -> None:
        """Pick up platforms, vehicles and zones added or removed by the CLI while serving."""
        await self._follow_platforms()
        registered = await self.db.vehicles.registrations()
        await self.fleet.follow_registrations(registered)
        if self.sim is not None:
            await self.sim.follow(*_by_activation(registered))
        await self.reload_geofences()

    async def _prune_pushes(self) -> None:
        """Delete the delivered pushes older than the retention (at start, then hourly)."""
        days = self.config.push_retention_days
        before_ms = int((self.clock() - days * 86_400) * 1000)
        pruned = await self.db.outbox.prune(before_ms)
        if pruned:
            log.info("deleted %d delivered pushes older than %g days", pruned, days)

    async def _follow_platforms(self) -> None:
        """Tokens of removed platforms go; pushes go where the platforms say now; limits
        and suspensions apply as the store holds them."""
        platforms = await self.db.platforms.list_all()
        await self.access.follow()
        self.tokens.retain_platforms({p.code for p in platforms})
        self.fleet.ingest.push_targets = {p.code for p in platforms if p.push_url}
        self.pushes.forget_targets()

    async def reload_geofences(self) -> None:
        """Replace the zone index with what the store holds now.

        Serialized, so a reload that read the store before a change cannot
        overwrite the index after the reload that follows the change.
        """
        async with self._geofences_loading:
            stored = await self.db.geofences.list_all()
            self.geofences.replace(
                (g.platform_code, parse_zone(g.name, g.geometry)) for g in stored
            )


def _device_link(
    config: GatewayConfig, key: bytes, clock: Clock, guard: DeviceGuard | None
) -> tuple[DeviceLink, DevicePort]:
    """The gateway's link and the port its simulated vehicles (if any) connect through."""
    if config.broker is None:
        memory = MemoryLink()
        return memory, memory
    broker = Broker.from_url(config.broker)
    link = MqttLink(
        broker.login(GATEWAY_USER, gateway_password(key)),
        gateway_id=config.gateway_id,
        share_group=config.share_group,
        guard=guard,
    )
    return link, MqttPort(broker, key, clock)


def _by_activation(registered: dict[str, tuple[str, bool]]) -> tuple[set[str], set[str]]:
    """Registered vehicles as (active, inactive) iotCodes."""
    active = {code for code, (_, is_active) in registered.items() if is_active}
    return active, registered.keys() - active
