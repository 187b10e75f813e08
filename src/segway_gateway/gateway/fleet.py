"""The fleet service: which vehicles exist and are online, and commands to them.

Registrations are read from the store at start and followed while serving; presence
comes from the device link (every instance hears every vehicle's presence). What a
vehicle reported lives in the store, written by `Ingest` whichever instance took the
report: queries read it from there (`state`). A command goes out over the device link
and awaits the vehicle's reply until a deadline; a reply 0 writes what the command
changed (lock state, settings) to the store before the caller hears of it, so every
instance reads it at once (a speed mode goes into the stored status too).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from segway_gateway.clock import Clock
from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import (
    SETTING_GROUPS,
    Command,
    CommandName,
    DeviceEvent,
    DeviceLocation,
    DeviceStatus,
    Reply,
)
from segway_gateway.devicelink.base import DeviceLink, LinkError, Stored
from segway_gateway.devicelink.guard import FUTURE_SECONDS
from segway_gateway.gateway.errors import ApiError
from segway_gateway.gateway.ingest import Ingest
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.vehicles import VehicleState

log = logging.getLogger(__name__)

LOCK_STATES = {CommandName.UNLOCK: False, CommandName.LOCK: True}
"""Commands that set the lock state, and the state they set."""
REPORTED_FIELDS = {CommandName.SET_SPEED_MODE: ("speedMode",)}
"""Commands that change fields of the vehicle's status report, and those fields (taken
from the command's arguments): written into the stored status at the answer 0."""


@dataclass
class VehicleEntry:
    """A registered vehicle: its owner, its activation, and whether it is online now."""

    iot_code: str
    platform_code: str
    active: bool
    online: bool = False


class FleetService:
    """Implements `TelemetrySink` for the device link; reports go on to `ingest`."""

    def __init__(
        self, db: Database, link: DeviceLink, clock: Clock, command_timeout: float
    ) -> None:
        self._db = db
        self._link = link
        self._clock = clock
        self.command_timeout = command_timeout
        self.ingest = Ingest(db, clock, self, link.acknowledge)
        self._vehicles: dict[str, VehicleEntry] = {}
        self.received_by_kind: Counter[str] = Counter()
        """Messages from vehicles handled, by kind (presence, status, location, event, reply)."""
        """Messages from vehicles handled so far (the admin API and benchmarks read it)."""
        self._present: set[str] = set()
        """Vehicles with a live session, registered or not yet (a vehicle may connect
        to the broker before the CLI registers it)."""
        self._pending: dict[tuple[str, str], asyncio.Future[Reply]] = {}
        """(iotCode, opId) → the command awaiting its reply: only the vehicle that got a
        command can answer it."""
        self.restricted: set[str] = set()
        """Vehicles whose commands are refused with 15990 before they are sent (the
        `restricted` fault today; rate limits and suspensions would land here)."""

    async def start(self) -> None:
        await self.follow_registrations(await self._db.vehicles.registrations())
        await self.ingest.start()
        await self._link.start(self)

    async def stop(self) -> None:
        """Write what came in first: then the link can acknowledge it before it leaves."""
        await self.ingest.stop()
        await self._link.stop()

    # Lookup ---------------------------------------------------------------

    async def vehicle(self, platform_code: str, iot_code: str) -> VehicleEntry:
        """The platform's vehicle, or 15102 (also for another platform's) and 15300.

        Answered from memory only, so an unknown vehicle and a foreign one take
        the same path and the same time.
        """
        entry = self._vehicles.get(iot_code)
        if entry is None or entry.platform_code != platform_code:
            raise ApiError(Code.DEVICE_NOT_FOUND)
        if not entry.active:
            raise ApiError(Code.DEVICE_INACTIVE)
        return entry

    async def state(self, entry: VehicleEntry) -> VehicleState:
        """What the store holds of the vehicle, whichever instance wrote it."""
        state = await self._db.vehicles.state(entry.iot_code)
        if state is None:  # removed a moment ago
            raise ApiError(Code.DEVICE_NOT_FOUND)
        return state

    @property
    def received(self) -> int:
        """Messages from vehicles handled so far."""
        return sum(self.received_by_kind.values())

    def online_count(self) -> int:
        """Registered vehicles with a live session."""
        return sum(entry.online for entry in self._vehicles.values())

    def entry(self, iot_code: str) -> VehicleEntry | None:
        """The registered vehicle, whoever owns it."""
        return self._vehicles.get(iot_code)

    async def follow_registrations(self, registered: dict[str, tuple[str, bool]]) -> None:
        """Apply registrations (iotCode → platform, active). A vehicle removed or moved to
        another platform (by the CLI, behind this instance's back) has a new row: the
        store's copy of the old one goes."""
        changed = list(self._vehicles.keys() - registered.keys())
        for gone in changed:
            del self._vehicles[gone]
        for code, (platform_code, active) in registered.items():
            entry = self._vehicles.get(code)
            if entry is None:
                self._vehicles[code] = VehicleEntry(
                    code, platform_code, active, online=code in self._present
                )
                continue
            if entry.platform_code != platform_code:
                changed.append(code)
            entry.platform_code, entry.active = platform_code, active
        self._db.vehicles.forget(*changed)

    # Commands -------------------------------------------------------------

    async def command(
        self, entry: VehicleEntry, op_id: str, name: CommandName, args: dict[str, Any]
    ) -> Reply:
        """Send a command and await its reply; a non-zero reply code is raised, a zero
        one is written to the store before this returns."""
        if entry.iot_code in self.restricted:
            raise ApiError(Code.RESTRICTED, f"calls to {entry.iot_code} are restricted")
        if not entry.online:
            raise ApiError(Code.DEVICE_OFFLINE)
        deadline = int((self._clock() + self.command_timeout) * 1000)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[(entry.iot_code, op_id)] = future
        try:
            try:
                command = Command(opId=op_id, name=name, args=args, deadline=deadline)
                await self._link.send(entry.iot_code, command)
            except LinkError as err:
                raise ApiError(Code.SEND_FAILED, str(err)) from err
            try:
                reply = await self._clock.wait_for(future, self.command_timeout)
            except TimeoutError as err:
                raise ApiError(Code.DEVICE_TIMEOUT) from err
        finally:
            self._pending.pop((entry.iot_code, op_id), None)
        if reply.code != Code.SUCCESS:
            raise ApiError(
                _known_code(reply.code), f"vehicle {entry.iot_code} refused {name.value}"
            )
        await self._remember(entry, name, args, reply)
        return reply

    async def _remember(
        self, entry: VehicleEntry, name: CommandName, args: dict[str, Any], reply: Reply
    ) -> None:
        locked = LOCK_STATES.get(name)
        setting = (name, args) if name in SETTING_GROUPS else None
        fields = REPORTED_FIELDS.get(name, ())
        reported = {field: args[field] for field in fields if field in args} or None
        if locked is not None or setting is not None or reported is not None:
            await self._db.vehicles.apply_command(
                entry.iot_code,
                self._carried_out_at(reply),
                locked=locked,
                setting=setting,
                reported=reported,
            )

    def _carried_out_at(self, reply: Reply) -> int:
        """When the vehicle carried the command out (epoch ms), by the clock its reports
        are dated by: the reply's time, or the gateway's clock when the reply has none, or
        one further ahead of it than any report may be (FUTURE_SECONDS)."""
        now_ms = int(self._clock() * 1000)
        at = reply.reported_at
        if at is None or at > now_ms + FUTURE_SECONDS * 1000:
            return now_ms
        return at

    # TelemetrySink --------------------------------------------------------

    def on_link_reset(self) -> None:
        self._present.clear()
        for entry in self._vehicles.values():
            entry.online = False

    def on_presence(self, iot_code: str, online: bool) -> None:
        self.received_by_kind["presence"] += 1
        if online:
            self._present.add(iot_code)
        else:
            self._present.discard(iot_code)
        entry = self._vehicles.get(iot_code)
        if entry is not None:
            entry.online = online

    def on_status(self, iot_code: str, status: DeviceStatus) -> Stored:
        self.received_by_kind["status"] += 1
        return self.ingest.status(iot_code, status)

    def on_location(self, iot_code: str, location: DeviceLocation) -> Stored:
        self.received_by_kind["location"] += 1
        return self.ingest.location(iot_code, location)

    def on_event(self, iot_code: str, event: DeviceEvent) -> Stored:
        self.received_by_kind["event"] += 1
        log.info("vehicle %s %s %s status %s", iot_code, event.kind, event.code, event.status)
        return self.ingest.event(iot_code, event)

    def on_reply(self, iot_code: str, reply: Reply) -> None:
        self.received_by_kind["reply"] += 1
        future = self._pending.get((iot_code, reply.op_id))
        if future is not None and not future.done():
            future.set_result(reply)


def _known_code(code: int) -> Code:
    try:
        return Code(code)
    except ValueError:
        log.warning("vehicle answered with unknown code %s", code)
        return Code.SERVER_ERROR
