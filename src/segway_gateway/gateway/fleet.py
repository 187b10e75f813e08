"""The fleet service: which vehicles exist, what they last said, and commands to them.

Everything a query answers comes from memory (loaded at start, kept current by
telemetry, written behind to the store once a second, or within PUSH_DELAY when
a report caused pushes, so operators hear of it soon). Commands go through the
device link and await the vehicle's reply until a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from segway_gateway.clock import Clock
from segway_gateway.contract.alerts import clears
from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import (
    SETTING_GROUPS,
    Command,
    CommandName,
    DeviceEvent,
    DeviceLocation,
    DeviceStatus,
    Reply,
    merge_setting,
)
from segway_gateway.contract.pushes import PushEvent
from segway_gateway.devicelink.base import DeviceLink, LinkError
from segway_gateway.gateway.errors import ApiError
from segway_gateway.gateway.periodic import every
from segway_gateway.gateway.push.doorbell import Doorbell
from segway_gateway.gateway.push.forms import event_push, location_push, outgoing, status_push
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.outbox import NewPush
from segway_gateway.gateway.store.vehicles import Vehicle, VehicleState

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 1.0
PUSH_DELAY = 0.05
"""How long a report that causes pushes waits for others to share its transaction."""


@dataclass
class VehicleEntry:
    """One vehicle as the gateway knows it right now."""

    iot_code: str
    platform_code: str
    active: bool
    online: bool = False
    status: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    alerts: set[int] = field(default_factory=set)
    """Alert codes the vehicle reported appearing and not yet disappearing (memory only)."""
    fault_codes: set[int] = field(default_factory=set)

    @classmethod
    def from_record(cls, vehicle: Vehicle) -> VehicleEntry:
        return cls(
            iot_code=vehicle.iot_code,
            platform_code=vehicle.platform_code,
            active=vehicle.active,
            status=vehicle.status,
            location=vehicle.location,
            settings=dict(vehicle.settings),
        )

    def state(self) -> VehicleState:
        return VehicleState(self.status, self.location, self.settings)


class FleetService:
    """Implements `TelemetrySink` for the device link."""

    def __init__(
        self,
        db: Database,
        link: DeviceLink,
        clock: Clock,
        command_timeout: float,
    ) -> None:
        self._db = db
        self._link = link
        self._clock = clock
        self.command_timeout = command_timeout
        self._vehicles: dict[str, VehicleEntry] = {}
        self.received = 0
        """Messages from vehicles handled so far (the admin API and benchmarks read it)."""
        self.push_targets: set[str] = set()
        """Platforms with a push URL: their vehicles' reports become pushes."""
        self._pushes: list[NewPush] = []
        self._pushes_waiting = asyncio.Event()
        self.push_doorbell = Doorbell(clock)
        """Rung when a flush wrote pushes to the outbox (the dispatcher waits on it)."""
        self._present: set[str] = set()
        """Vehicles with a live session, registered or not yet (a vehicle may connect
        to the broker before the CLI registers it)."""
        self._pending: dict[tuple[str, str], asyncio.Future[Reply]] = {}
        """(iotCode, opId) → the command awaiting its reply: only the vehicle that got a
        command can answer it."""
        self._dirty: set[str] = set()
        self._flusher: asyncio.Task[None] | None = None
        self.restricted: set[str] = set()
        """Vehicles whose commands are refused with 15990 before they are sent (the
        `restricted` fault today; rate limits and suspensions would land here)."""

    async def start(self) -> None:
        for vehicle in await self._db.vehicles.list_all():
            self._vehicles[vehicle.iot_code] = VehicleEntry.from_record(vehicle)
        await self._link.start(self)
        self._flusher = asyncio.create_task(
            every(
                FLUSH_INTERVAL,
                self.flush,
                "writing vehicle state",
                self._clock,
                hurry=self._pushes_waiting,
                hurried=PUSH_DELAY,
            ),
            name="fleet-flush",
        )

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self._link.stop()
        await self.flush()

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

    def online_count(self) -> int:
        """Registered vehicles with a live session."""
        return sum(entry.online for entry in self._vehicles.values())

    def entry(self, iot_code: str) -> VehicleEntry | None:
        """What the gateway knows of a vehicle right now, whoever owns it."""
        return self._vehicles.get(iot_code)

    async def follow_registrations(self, registered: dict[str, tuple[str, bool]]) -> None:
        """Apply registrations (iotCode → platform, active) changed since start."""
        for gone in self._vehicles.keys() - registered.keys():
            del self._vehicles[gone]
        new = [code for code in registered if code not in self._vehicles]
        for record in await self._db.vehicles.list_codes(new) if new else []:
            self._vehicles[record.iot_code] = VehicleEntry.from_record(record)
            self._vehicles[record.iot_code].online = record.iot_code in self._present
        for code, (platform_code, active) in registered.items():
            entry = self._vehicles.get(code)
            if entry is not None:
                entry.platform_code, entry.active = platform_code, active

    # Commands -------------------------------------------------------------

    async def command(
        self, entry: VehicleEntry, op_id: str, name: CommandName, args: dict[str, Any]
    ) -> Reply:
        """Send a command and await its reply; a non-zero reply code is raised."""
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
        self._remember_setting(entry, name, args)
        return reply

    def _remember_setting(
        self, entry: VehicleEntry, name: CommandName, args: dict[str, Any]
    ) -> None:
        if name in SETTING_GROUPS:
            entry.settings = merge_setting(entry.settings, name, args)
            self._dirty.add(entry.iot_code)

    # TelemetrySink --------------------------------------------------------

    def on_link_reset(self) -> None:
        self._present.clear()
        for entry in self._vehicles.values():
            entry.online = False

    def on_presence(self, iot_code: str, online: bool) -> None:
        self.received += 1
        if online:
            self._present.add(iot_code)
        else:
            self._present.discard(iot_code)
        entry = self._vehicles.get(iot_code)
        if entry is not None:
            entry.online = online

    def on_status(self, iot_code: str, status: DeviceStatus) -> None:
        self.received += 1
        entry = self._vehicles.get(iot_code)
        if entry is not None:
            entry.status = status.model_dump(by_alias=True, mode="json")
            self._dirty.add(iot_code)
            if entry.platform_code in self.push_targets:
                self._push(status_push(iot_code, entry.platform_code, entry.online, status))

    def on_location(self, iot_code: str, location: DeviceLocation) -> None:
        self.received += 1
        entry = self._vehicles.get(iot_code)
        if entry is None:
            return
        if location.location_status == "valid":
            entry.location = location.model_dump(by_alias=True, mode="json")
            self._dirty.add(iot_code)
        if entry.platform_code in self.push_targets:
            self._push(location_push(iot_code, entry.platform_code, location))

    def on_event(self, iot_code: str, event: DeviceEvent) -> None:
        self.received += 1
        log.info("vehicle %s %s %s status %s", iot_code, event.kind, event.code, event.status)
        entry = self._vehicles.get(iot_code)
        if entry is None:
            return
        if entry.platform_code in self.push_targets:
            self._push(event_push(iot_code, entry.platform_code, event))
        active = entry.alerts if event.kind == "alert" else entry.fault_codes
        if event.status == 0:
            active.add(event.code)
        elif event.kind == "alert":
            active -= clears(event.code)
        else:
            active.discard(event.code)

    def on_reply(self, iot_code: str, reply: Reply) -> None:
        self.received += 1
        future = self._pending.get((iot_code, reply.op_id))
        if future is not None and not future.done():
            future.set_result(reply)

    # Write-behind ---------------------------------------------------------

    def _push(self, push: PushEvent) -> None:
        self._pushes.append(outgoing(push, self._clock()))
        self._pushes_waiting.set()

    async def flush(self) -> None:
        """Write the state of every vehicle that changed since the last flush, and the
        pushes those changes cause, in one transaction; then ring the push doorbell."""
        dirty, self._dirty = self._dirty, set()
        pushes, self._pushes = self._pushes, []
        states = {code: self._vehicles[code].state() for code in dirty if code in self._vehicles}
        try:
            await self._db.vehicles.save_states(states, pushes)
        except BaseException:  # cancelled by a stop too: the last flush writes them
            self._dirty |= dirty
            self._pushes[:0] = pushes
            raise
        if pushes:
            self.push_doorbell.ring({push.platform_code for push in pushes})


def _known_code(code: int) -> Code:
    try:
        return Code(code)
    except ValueError:
        log.warning("vehicle answered with unknown code %s", code)
        return Code.SERVER_ERROR
