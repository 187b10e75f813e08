"""Runs many simulated vehicles over a device port: ticks, reports, commands, events.

Each vehicle publishes its status on every change of lock state or mode (and after a
speed mode or speed limit command) and otherwise at its status interval, its location
at its location interval
(NOTES.md defaults; the interval setting overrides them), and its alerts and
faults as they appear and disappear. A vehicle has a session only while it is
activated and online (IoT battery not empty, no `offline` fault).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import pickle
import random
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from segway_gateway.clock import Clock
from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import Command, CommandName, Reply
from segway_gateway.devicelink.base import DeviceConnection, DevicePort
from segway_gateway.sim import autopilot
from segway_gateway.sim.city import SHENZHEN, City
from segway_gateway.sim.faults import Fault
from segway_gateway.sim.schedule import ScheduleStats
from segway_gateway.sim.settings import intervals
from segway_gateway.sim.state import VehicleState, new_state
from segway_gateway.sim.vehicle import Mode, SimVehicle

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
ADVANCE_EVERY_TICKS = 4
"""Each vehicle's physics moves on every 4th tick (2 s) by 2 s, a quarter of the fleet per
tick: the cost of a large fleet, while reports and changes still go out within a tick."""
SAVE_SECONDS = 30.0
"""Each vehicle's state is written this often while running (and at `stop`); a vehicle
whose state a command changed is written before its reply goes out."""
LOCATION_INTERVALS = {"unlockStatus": 10, "lockStatus": 900}
STATUS_INTERVALS = {"ridingStatus": 10, "nonRiding": 60, "lockStatus": 900}
_SESSIONLESS = (Mode.OFFLINE, Mode.INACTIVE)
_REPORTED_AT_ONCE = frozenset({CommandName.SET_SPEED_MODE, CommandName.SET_SCOOTER})
"""Commands that change what the status reports (speed mode, speed): a status goes out
before the reply, as after a change of lock state."""


class Flash(Protocol):
    """Where simulated vehicles keep their state between runs, as real ones keep it in flash."""

    async def load(self) -> dict[str, dict[str, Any]]:
        """Every saved vehicle's state, by iotCode."""
        ...

    async def save(self, states: Mapping[str, dict[str, Any]]) -> None:
        """Replace the saved state of each given vehicle."""
        ...


@dataclass
class _Running:
    vehicle: SimVehicle
    connection: DeviceConnection | None = None
    next_status: float = 0.0
    next_location: float = 0.0
    last_phase: tuple[bool, Mode] | None = None
    changes: int = 0
    """How many commands changed the vehicle's state so far."""
    written: int = 0
    """`changes` as it was when the last successful write of the vehicle took its state."""


class SimFleet:
    """Simulated vehicles connected to a `DevicePort`, moved on by a tick loop."""

    def __init__(
        self,
        port: DevicePort,
        flash: Flash,
        clock: Clock,
        *,
        seed: int = 0,
        speedup: float = 1.0,
        autopilot: bool = False,
        city: City = SHENZHEN,
    ) -> None:
        self._port = port
        self._flash = flash
        self._clock = clock
        self._rng = random.Random(seed)
        self.speedup = speedup
        self.autopilot = autopilot
        self.city = city
        self._running: dict[str, _Running] = {}
        self._task: asyncio.Task[None] | None = None
        self.schedule = ScheduleStats()
        self._saving: list[str] = []
        """Vehicles still to save in this round of `_save_some`."""
        self._unwritten: set[str] = set()
        """Vehicles the next write takes, each with its state as it is when that write begins."""
        self._after_write: list[Callable[[bool], None]] = []
        """Called with whether the next write succeeded: replies waiting for it, `save()`."""
        self._slice_waiting = False
        """A slice of `_save_some` is in `_unwritten`, not yet taken by a write."""
        self._writer: asyncio.Task[None] | None = None
        self._ticks = 0
        self._touched: set[str] = set()
        """Vehicles handed out by `vehicle()` since the last tick."""

    async def start(self, iot_codes: Iterable[str], inactive: Collection[str] = ()) -> None:
        await self.follow(set(iot_codes), inactive)
        self._task = asyncio.create_task(self._tick_forever(), name="sim-fleet")
        online = sum(running.connection is not None for running in self._running.values())
        log.info("simulated fleet: %d vehicles, %d online", len(self._running), online)

    async def follow(self, iot_codes: set[str], inactive: Collection[str] = ()) -> None:
        """Simulate exactly these vehicles: start new ones (from saved state), end others.

        `inactive` vehicles are simulated too, in the inactive state (no session).
        """
        wanted = iot_codes | set(inactive)
        for gone in self._running.keys() - wanted:
            running = self._running.pop(gone)
            if running.connection is not None:
                running.connection.close()
                running.connection = None  # replies still waiting for a write are dropped
        new = sorted(wanted - self._running.keys())
        saved = await self._flash.load() if new else {}
        for iot_code in new:
            state = (
                VehicleState.from_dict(saved[iot_code])
                if iot_code in saved
                else new_state(iot_code, self.city, self._rng)
            )
            rng = random.Random(f"{self._rng.random()}:{iot_code}")
            self._running[iot_code] = _Running(SimVehicle(state, self.city, rng))
        for iot_code, running in self._running.items():
            running.vehicle.state.activated = iot_code not in inactive
            self._sync_session(running)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.save()
        for running in self._running.values():
            if running.connection is not None:
                running.connection.close()

    async def save(self) -> bool:
        """Write every vehicle's state, after the write under way if any; False (logged)
        if the write failed."""
        written: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._write_soon(self._running, then=partial(_settle, written))
        return await written

    def vehicle(self, iot_code: str) -> SimVehicle:
        """A vehicle to act upon; what it does in consequence goes out on the next tick."""
        vehicle = self._running[iot_code].vehicle
        self._touched.add(iot_code)
        return vehicle

    def set_fault(self, iot_code: str, fault: Fault, *, delay: float = 0.0) -> None:
        """Give a vehicle a fault; `delay` is the reply delay of `slow-reply`, in seconds."""
        running = self._running[iot_code]
        running.vehicle.faults.add(fault)
        if fault is Fault.SLOW_REPLY:
            running.vehicle.reply_delay = delay
        self._sync_session(running)

    def clear_faults(self, iot_code: str, only: Fault | None = None) -> None:
        """Clear every fault of a vehicle, or `only` that one; reconnect it if it was offline."""
        running = self._running[iot_code]
        if only is None:
            running.vehicle.faults.clear()
        else:
            running.vehicle.faults.discard(only)
        self._sync_session(running)

    def ride_all(self, within: float = 10.0) -> None:
        """Unlock every vehicle and set a rider on it, each at a random moment in the next
        `within` seconds: the most traffic a fleet makes, but not in lockstep."""
        for iot_code in self._running:
            self._clock.call_later(self._rng.uniform(0, within), self._ride, iot_code)

    def _ride(self, iot_code: str) -> None:
        if iot_code in self._running:
            vehicle = self.vehicle(iot_code)
            vehicle.unlock()
            vehicle.start_ride()

    def simulates(self, iot_code: str) -> bool:
        return iot_code in self._running

    # Internals ------------------------------------------------------------

    def _sync_session(self, running: _Running) -> None:
        """Open or close the vehicle's session to match its mode."""
        vehicle = running.vehicle
        if vehicle.mode in _SESSIONLESS:
            if running.connection is not None:
                running.connection.close()
                running.connection = None
            return
        if running.connection is None:
            iot_code = vehicle.state.iot_code
            running.connection = self._port.connect(
                iot_code, lambda command: self._on_command(running, command)
            )
            now = self._clock()
            self._publish_status(running, now)
            self._publish_location(running, now)
            self._publish_events(running, now)
            self._stagger(running, now)

    def _stagger(self, running: _Running, now: float) -> None:
        """Make the next reports due at a random point of their interval: vehicles that
        connect together (a fleet start, a broker restart) then report spread out,
        as real ones do, instead of in one burst per interval."""
        running.next_status = now + (running.next_status - now) * self._rng.random()
        running.next_location = now + (running.next_location - now) * self._rng.random()

    def _on_command(self, running: _Running, command: Command) -> None:
        """Execute a command and reply. A vehicle keeps what a command did as a real one
        keeps it in flash: when the command changed its state, the reply goes out once that
        state is written (the reply is what makes the API answer), so an answer 0 survives a
        crash. So does any reply while a change is not written yet (still waiting, or its
        write failed): a vehicle never vouches for a state it has not written. Reports go
        out at once. The reply carries when the command was carried out, by this vehicle's
        clock, as its reports do."""
        now = self._clock()
        connection = running.connection
        if now * 1000 > command.deadline or connection is None:
            return
        vehicle = running.vehicle
        before = _fingerprint(vehicle.state)
        reply = vehicle.execute(command, now)
        if reply is None:
            return
        reply = reply.model_copy(update={"reported_at": int(now * 1000)})
        if _fingerprint(vehicle.state) != before:
            running.changes += 1
        reports = command.name in _REPORTED_AT_ONCE and reply.code == Code.SUCCESS
        if reports or self._phase(running) != running.last_phase:
            self._publish_status(running, now)
        if command.name is CommandName.SET_INTERVAL and reply.code == Code.SUCCESS:
            self._reschedule(running, now)
        self._publish_events(running, now)
        slow = Fault.SLOW_REPLY in vehicle.faults and vehicle.reply_delay > 0
        due = now + vehicle.reply_delay if slow else now  # from the command, not the write
        if running.changes > running.written:
            release = partial(self._release_reply, running, connection, reply, due)
            self._write_soon([vehicle.state.iot_code], then=release)
        else:
            self._reply_at(due, running, connection, reply)

    def _release_reply(
        self,
        running: _Running,
        connection: DeviceConnection,
        reply: Reply,
        due: float,
        written: bool,
    ) -> None:
        """The write a reply waited for ended: reply if it succeeded, else stay silent (the
        gateway answers its timeout, which promises nothing; the next command of the vehicle
        or its periodic save writes the state again)."""
        if written:
            self._reply_at(due, running, connection, reply)
        else:
            iot_code = running.vehicle.state.iot_code
            log.warning("%s: state not written, reply to %s withheld", iot_code, reply.op_id)

    def _reply_at(
        self, due: float, running: _Running, connection: DeviceConnection, reply: Reply
    ) -> None:
        delay = due - self._clock()
        if delay > 0:
            self._clock.call_later(delay, self._late_reply, running, connection, reply)
        else:
            self._late_reply(running, connection, reply)

    @staticmethod
    def _late_reply(running: _Running, connection: DeviceConnection, reply: Reply) -> None:
        """A reply, on the session the command came on, if that is still open."""
        if running.connection is connection:
            connection.publish_reply(reply)

    async def _tick_forever(self) -> None:
        """Tick every TICK_SECONDS of the clock; a slow tick makes the next one late, not
        the schedule drift (`schedule` shows whether the fleet keeps up)."""
        clock = self._clock
        due = clock.monotonic()
        while True:
            due += TICK_SECONDS
            await clock.sleep(max(0.0, due - clock.monotonic()))
            started = clock.monotonic()
            try:
                self._tick(TICK_SECONDS * self.speedup)
                self._save_some()
            except Exception:  # one bad tick must not stop the fleet
                log.exception("a tick of the simulated fleet failed")
            self.schedule.record(late=started - due, work=clock.monotonic() - started)
            if started - due > TICK_SECONDS:
                due = started  # far behind: catch up from now rather than in a burst

    def _save_some(self) -> None:
        """Hand the next slice of the fleet to the writer, so that each vehicle is saved
        once per SAVE_SECONDS at an even cost per tick (`stop` saves them all). Writes run
        beside the ticks; while a slice still waits for its write, the next one waits for
        the next tick."""
        if self._slice_waiting:
            return
        if not self._saving:
            self._saving = list(self._running)
        share = max(1, math.ceil(len(self._running) * TICK_SECONDS / SAVE_SECONDS))
        codes, self._saving = self._saving[:share], self._saving[share:]
        self._slice_waiting = True
        self._write_soon(codes)

    def _write_soon(
        self, iot_codes: Iterable[str], then: Callable[[bool], None] | None = None
    ) -> None:
        """Have these vehicles written by the next write, and `then` called with whether it
        succeeded. The one way vehicle states reach the flash (slices, commanded vehicles,
        `save`): one write at a time, each taking every vehicle waiting then."""
        self._unwritten.update(iot_codes)
        if then is not None:
            self._after_write.append(then)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="sim-save")

    async def _write(self) -> None:
        """Write until no vehicle waits. Each write holds the states as they are when it
        begins and writes follow each other, so the last write of a vehicle holds its
        newest state: a slice and a commanded vehicle never overwrite each other with an
        older state. Waiting vehicles share one write (a burst of commands is one write)."""
        while self._unwritten or self._after_write:
            codes, self._unwritten = self._unwritten, set()
            then, self._after_write = self._after_write, []
            self._slice_waiting = False
            taken = [self._running[c] for c in codes if c in self._running]
            marks = [(running, running.changes) for running in taken]
            states = {r.vehicle.state.iot_code: r.vehicle.state.to_dict() for r in taken}
            try:
                if states:
                    await self._flash.save(states)
                written = True
            except asyncio.CancelledError:
                _call_all(then, False)
                raise
            except Exception:
                log.exception("saving %d simulated vehicles failed", len(states))
                written = False
            if written:
                for running, changes in marks:
                    running.written = max(running.written, changes)
            _call_all(then, written)

    def _tick(self, seconds: float) -> None:
        """Move one slice of the fleet on (by the time since its last move) and send every
        report that is due. Only vehicles that moved or were handed out by `vehicle()`
        can have changed phase or raised events, so only they are checked for those."""
        now = self._clock()
        self._ticks += 1
        moving = self._ticks % ADVANCE_EVERY_TICKS
        touched, self._touched = self._touched, set()
        for index, (iot_code, running) in enumerate(self._running.items()):
            changed = index % ADVANCE_EVERY_TICKS == moving
            if changed:
                self._advance(running, seconds * ADVANCE_EVERY_TICKS)
            elif iot_code in touched:
                self._sync_session(running)
                changed = True
            if running.connection is None:
                continue
            if now >= running.next_status or (
                changed and self._phase(running) != running.last_phase
            ):
                self._publish_status(running, now)
            if now >= running.next_location:
                self._publish_location(running, now)
            if changed:
                self._publish_events(running, now)

    def _advance(self, running: _Running, seconds: float) -> None:
        vehicle = running.vehicle
        if self.autopilot:
            autopilot.steer(vehicle, seconds, self._rng)
        vehicle.advance(seconds)
        self._sync_session(running)

    @staticmethod
    def _phase(running: _Running) -> tuple[bool, Mode]:
        return (running.vehicle.state.locked, running.vehicle.mode)

    def _publish_status(self, running: _Running, now: float) -> None:
        """Report the status; after a change of phase the location interval may be shorter
        now (10 s unlocked against 900 s locked), so the next fix is due by then at most.
        A status that changes the lock state asks to be acknowledged: the vehicle keeps it
        until a gateway has stored it."""
        if running.connection is None:
            return
        phase = self._phase(running)
        status = running.vehicle.status(now)
        if running.last_phase is not None and phase[0] != running.last_phase[0]:
            status = status.model_copy(update={"ack": True})
        running.connection.publish_status(status)
        if phase != running.last_phase:
            soonest = now + self._location_interval(running.vehicle) / self.speedup
            running.next_location = min(running.next_location, soonest)
        running.last_phase = phase
        interval = self._status_interval(running.vehicle) / self.speedup
        running.next_status = _next_due(running.next_status, now, interval)

    def _reschedule(self, running: _Running, now: float) -> None:
        """After an interval setting, the next reports are due within the new intervals at
        most: a shorter interval applies at once, not after the (say 900 s) wait under way."""
        vehicle = running.vehicle
        status = now + self._status_interval(vehicle) / self.speedup
        location = now + self._location_interval(vehicle) / self.speedup
        running.next_status = min(running.next_status, status)
        running.next_location = min(running.next_location, location)

    def _publish_events(self, running: _Running, now: float) -> None:
        """Send what the vehicle raised; while it has no session, events wait in it."""
        if running.connection is None:
            return
        for event in running.vehicle.take_events(now):
            running.connection.publish_event(event)

    def _publish_location(self, running: _Running, now: float) -> None:
        if running.connection is None:
            return
        running.connection.publish_location(running.vehicle.location(now))
        interval = self._location_interval(running.vehicle) / self.speedup
        running.next_location = _next_due(running.next_location, now, interval)

    @staticmethod
    def _status_interval(vehicle: SimVehicle) -> int:
        chosen = {**STATUS_INTERVALS, **intervals(vehicle.state.settings, "statusInterval")}
        if vehicle.riding:
            return int(chosen["ridingStatus"])
        return int(chosen["lockStatus"] if vehicle.state.locked else chosen["nonRiding"])

    @staticmethod
    def _location_interval(vehicle: SimVehicle) -> int:
        chosen = {**LOCATION_INTERVALS, **intervals(vehicle.state.settings, "locationInterval")}
        return int(chosen["lockStatus"] if vehicle.state.locked else chosen["unlockStatus"])


def _fingerprint(state: VehicleState) -> bytes:
    """The whole state as bytes, to tell whether a command changed it: as deep as
    `to_dict` (which deep-copies every field) at a tenth of its cost, on the path of every
    reply (measured 12 against 160 µs)."""
    return pickle.dumps(state)


def _next_due(due: float, now: float, interval: float) -> float:
    """When the next periodic report is due after one sent at `now`: one interval after the
    one that fell due (a tick's lateness does not stretch the cadence), or one interval
    from now after a report out of turn (a change) or when far behind."""
    if due <= now < due + interval:
        return due + interval
    return now + interval


def _settle(future: asyncio.Future[bool], result: bool) -> None:
    if not future.done():  # its waiter may have been cancelled
        future.set_result(result)


def _call_all(callbacks: Iterable[Callable[[bool], None]], written: bool) -> None:
    """Tell each waiter how its write went; one that fails does not stop the others."""
    for callback in callbacks:
        try:
            callback(written)
        except Exception:
            log.exception("after a write of simulated vehicles")
