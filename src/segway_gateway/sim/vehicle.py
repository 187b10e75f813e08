"""One simulated C80: a state machine with simple physics, no I/O.

Time comes in as arguments and randomness from an injected generator, so a
vehicle is deterministic under a seed and can run faster than real time.
Alerts and faults it raises wait in an outbox until `take_events`.
"""

from __future__ import annotations

import random
from enum import StrEnum
from typing import Any, Literal

from segway_gateway.contract.alerts import Alert
from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import (
    SETTING_GROUPS,
    Command,
    CommandName,
    DeviceBatteryPack,
    DeviceEvent,
    DeviceLocation,
    DeviceStatus,
    Reply,
    merge_setting,
)
from segway_gateway.sim import physics, settings
from segway_gateway.sim.city import City
from segway_gateway.sim.fault_codes import FaultCode
from segway_gateway.sim.faults import COMMAND_FAULTS, Fault
from segway_gateway.sim.situations import CONDITIONS, EventKind
from segway_gateway.sim.state import VehicleState

_ON = 1
"""`controlType`, `headLight` and `tailLight` value for on (0 is off)."""
ILLEGAL_MOVE_CLEARS_AFTER_S = 60.0
"""Alert 1 disappears once a locked vehicle has been still this long."""


class Mode(StrEnum):
    """The state a vehicle is in, highest precedence first."""

    INACTIVE = "inactive"
    OFFLINE = "offline"
    UPGRADING = "firmware-upgrading"
    CHARGING = "charging"
    RIDING = "riding"
    UNLOCKED = "unlocked"
    LOCKED = "locked"


class SimVehicle:
    """A C80's behaviour: answers commands truthfully, moves, charges and raises events."""

    def __init__(self, state: VehicleState, city: City, rng: random.Random) -> None:
        self.state = state
        self.city = city
        self.rng = rng
        self.faults: set[Fault] = set()
        self.reply_delay = 0.0
        """Seconds the reply takes while the vehicle has the `slow-reply` fault."""
        self._outbox: list[tuple[EventKind, int, Literal[0, 1]]] = []

    @property
    def mode(self) -> Mode:
        s = self.state
        if not s.activated:
            return Mode.INACTIVE
        if Fault.OFFLINE in self.faults or s.iot_percent <= 0:
            return Mode.OFFLINE
        if Fault.UPGRADING in self.faults:
            return Mode.UPGRADING
        if s.charging:
            return Mode.CHARGING
        if self.riding:
            return Mode.RIDING
        return Mode.LOCKED if s.locked else Mode.UNLOCKED

    @property
    def riding(self) -> bool:
        """Wheels turning: a ride, or the `riding` fault (ridden whatever the lock says)."""
        return self.state.riding or Fault.RIDING in self.faults

    # Commands -------------------------------------------------------------

    def execute(self, command: Command, now: float) -> Reply | None:
        """The reply to a command, or None when the vehicle stays silent."""
        if Fault.NO_REPLY in self.faults:
            return None
        code, data = self._outcome(command, now)
        return Reply(opId=command.op_id, code=int(code), data=data)

    def _outcome(self, command: Command, now: float) -> tuple[Code, dict[str, Any] | None]:
        if self.mode is Mode.UPGRADING:
            return Code.UPGRADING, None
        for fault, (name, code) in COMMAND_FAULTS.items():
            if fault in self.faults and name is command.name:
                return code, None
        if command.name in SETTING_GROUPS:
            self.state.settings = merge_setting(self.state.settings, command.name, command.args)
            self._check_conditions()
            self._keep_to_limit()
            return Code.SUCCESS, None
        if command.name is CommandName.LOCATE:
            return Code.SUCCESS, self.location(now).model_dump(by_alias=True)
        return _HANDLERS[command.name](self, command.args)

    def _unlock(self, _args: dict[str, Any]) -> tuple[Code, None]:
        """Refused (15611) while the vehicle is powered off."""
        if not self.state.powered:
            return Code.UNLOCK_FAILED, None
        self.unlock()
        return Code.SUCCESS, None

    def _lock(self, _args: dict[str, Any]) -> tuple[Code, None]:
        """Refused while the wheels turn: 15600 if the vehicle is unlocked (a ride),
        15997 if it is locked yet ridden (the `riding` fault on a locked vehicle)."""
        s = self.state
        if self.riding:
            return (Code.LOCK_RIDING_UNABLE if s.locked else Code.LOCK_RIDING), None
        s.locked = True
        s.speed = 0
        s.battery_cover_open = False
        self._play("locked")
        return Code.SUCCESS, None

    def _battery_cover(self, _args: dict[str, Any]) -> tuple[Code, None]:
        if self.state.locked:
            return Code.BATTERY_COVER_LOCKED, None
        self.state.battery_cover_open = True
        self._play("openBoxes")
        return Code.SUCCESS, None

    def _sound(self, args: dict[str, Any]) -> tuple[Code, None]:
        """Played at the set volume unless sound is off (`workMode` 1); succeeds either way."""
        if settings.sound_on(self.state.settings):
            self.state.last_sound = int(args["controlType"])
            self.state.sound_volume = settings.volume(self.state.settings)
        return Code.SUCCESS, None

    def _get_bluetooth_key(self, _args: dict[str, Any]) -> tuple[Code, dict[str, Any]]:
        return Code.SUCCESS, {"key": self.state.bluetooth_key}

    def _set_bluetooth_key(self, args: dict[str, Any]) -> tuple[Code, None]:
        self.state.bluetooth_key = str(args["key"])
        return Code.SUCCESS, None

    def _get_version(self, _args: dict[str, Any]) -> tuple[Code, dict[str, Any]]:
        s = self.state
        versions = {
            "iotVersion": s.iot_version,
            "ecuVersion": s.ecu_version,
            "bmsVersion": s.bms_version,
        }
        return Code.SUCCESS, versions

    def _set_speed_mode(self, args: dict[str, Any]) -> tuple[Code, None]:
        self.state.speed_mode = int(args["speedMode"])
        self._keep_to_limit()
        return Code.SUCCESS, None

    def _light(self, args: dict[str, Any]) -> tuple[Code, None]:
        if "headLight" in args:
            self.state.head_light = args["headLight"] == _ON
        if "tailLight" in args:
            self.state.tail_light = args["tailLight"] == _ON
        return Code.SUCCESS, None

    def _headlight(self, args: dict[str, Any]) -> tuple[Code, None]:
        self.state.head_light = int(args["controlType"]) == _ON
        return Code.SUCCESS, None

    def _power(self, args: dict[str, Any]) -> tuple[Code, None]:
        """Power on (1) or off (0). Powering off is refused (15638) while the wheels turn;
        a powered-off vehicle keeps its lock state and its IoT session, refuses to unlock
        and cannot be ridden."""
        on = int(args["controlType"]) == _ON
        if not on and self.riding:
            return Code.EXECUTE_FAILED, None
        self.state.powered = on
        return Code.SUCCESS, None

    def _keep_to_limit(self) -> None:
        """A new speed mode or limit applies at once: a faster ride slows down to it."""
        self.state.speed = min(self.state.speed, physics.top_speed(self.state))

    def _play(self, sound: str) -> None:
        """An `ebcqMask` sound, if sound is on and its mask member is not disabled."""
        if settings.sound_on(self.state.settings) and settings.mask_allows(
            self.state.settings, sound
        ):
            self.state.event_sound = sound
            self.state.sound_volume = settings.volume(self.state.settings)

    # What happens to the vehicle ------------------------------------------

    def unlock(self) -> None:
        """Unlocked (by a command, or by a load test setting riders on every vehicle)."""
        s = self.state
        s.charging = False
        s.locked = False
        self._disappear("alert", Alert.ILLEGAL_MOVING)
        self._play("unlocked")

    def start_ride(self) -> bool:
        """A rider sets off; only an unlocked, parked vehicle with charge can be ridden."""
        s = self.state
        if self.mode is not Mode.UNLOCKED or s.battery_percent <= 0 or not s.powered:
            return False
        s.riding = True
        top = physics.top_speed(s)
        s.speed = max(min(physics.MIN_RIDING_SPEED_KMH, top), top - self.rng.randint(0, 4))
        return True

    def stop_ride(self) -> None:
        self.state.riding = False
        self.state.speed = 0

    def plug_in(self) -> bool:
        """Connect the charger; only a locked vehicle standing still charges."""
        s = self.state
        if not s.activated or not s.locked or self.riding or s.charging:
            return False
        s.charging = True
        return True

    def unplug(self) -> None:
        self.state.charging = False

    def bump(self, strength_g: float) -> None:
        """A knock: a fall, or on a locked vehicle an illegal move, if it is strong enough
        for the alert sensitivity setting (more sensitive, smaller bumps count)."""
        sensitivity = settings.alert_sensitivity(self.state.settings)
        if strength_g >= settings.FALL_THRESHOLD_G[sensitivity]:
            self.fall()
        elif self.state.locked and strength_g >= settings.MOVE_THRESHOLD_G[sensitivity]:
            self._moved_while_locked()

    def fall(self) -> None:
        """The vehicle falls over (alert 2 when locked, 4 when unlocked); a ride ends."""
        s = self.state
        if s.fallen:
            return
        s.fallen = True
        self.stop_ride()
        code = Alert.FELL_WHEN_LOCKED if s.locked else Alert.FELL_WHEN_UNLOCKED
        self._appear("alert", code)

    def stand_up(self) -> None:
        if self.state.fallen:
            self.state.fallen = False
            self._disappear("alert", Alert.FELL_WHEN_LOCKED)
            self._disappear("alert", Alert.FELL_WHEN_UNLOCKED)

    def dismantle(self) -> None:
        """Someone takes the vehicle apart (alert 3) until `repair`."""
        self.state.dismantled = True
        self._appear("alert", Alert.ILLEGAL_DISMANTLING)

    def repair(self) -> None:
        self.state.dismantled = False
        self._disappear("alert", Alert.ILLEGAL_DISMANTLING)

    def set_alert(self, code: Alert, active: bool) -> None:
        """Raise or clear an alert by hand (`sim alert`), whatever the situation."""
        if active:
            self._appear("alert", code)
        else:
            self._disappear("alert", code)

    def set_fault_code(self, code: FaultCode, active: bool) -> None:
        """Raise or clear a fault code by hand (`sim fault-code`)."""
        if active:
            self._appear("fault", code)
        else:
            self._disappear("fault", code)

    def advance(self, seconds: float) -> None:
        """Move time on: ride, charge, warm or cool, power the IoT, drift radio and GPS."""
        s = self.state
        if not s.activated:
            return
        if self.riding:
            physics.move(s, physics.ride(s, seconds, self.rng), self.rng, self.city)
            if s.locked:
                self._moved_while_locked()
            if s.battery_percent <= 0:
                self.stop_ride()
        elif Alert.ILLEGAL_MOVING in s.alerts:
            s.still_secs += seconds
            if s.still_secs >= ILLEGAL_MOVE_CLEARS_AFTER_S:
                self._disappear("alert", Alert.ILLEGAL_MOVING)
        if s.charging:
            physics.charge(s, seconds)
        physics.power_iot(s, seconds)
        physics.warm(s, seconds, self.city.ambient_c, self.riding)
        physics.drift_radio(s, self.rng)
        self._check_conditions()

    def _moved_while_locked(self) -> None:
        self.state.still_secs = 0.0
        self._appear("alert", Alert.ILLEGAL_MOVING)

    # Events ---------------------------------------------------------------

    def take_events(self, now: float) -> list[DeviceEvent]:
        """The alerts and faults that appeared or disappeared since the last call."""
        events = [
            DeviceEvent(
                kind=kind,
                code=code,
                status=status,
                status_utc_time=int(now),
                reported_at=int(now * 1000),
            )
            for kind, code, status in self._outbox
        ]
        self._outbox.clear()
        return events

    def _active(self, kind: EventKind) -> set[int]:
        return self.state.alerts if kind == "alert" else self.state.fault_codes

    def _appear(self, kind: EventKind, code: int) -> None:
        if code not in self._active(kind):
            self._active(kind).add(code)
            self._outbox.append((kind, code, 0))

    def _disappear(self, kind: EventKind, code: int) -> None:
        if code in self._active(kind):
            self._active(kind).discard(code)
            pushed = Alert(code).disappearing_code if kind == "alert" else code
            self._outbox.append((kind, pushed, 1))

    def _check_conditions(self) -> None:
        s = self.state
        for condition in CONDITIONS:
            held = condition.name in s.tripped
            holds = condition.holds(s, held)
            if holds and not held:
                s.tripped.add(condition.name)
                self._appear(condition.kind, condition.code)
            elif held and not holds:
                s.tripped.discard(condition.name)
                self._disappear(condition.kind, condition.code)

    # Reports --------------------------------------------------------------

    @property
    def lamp(self) -> tuple[int, int] | None:
        """(color, brightness) the atmosphere lamp shows now, or None when it is off:
        the fault effect while a fault code is active, else cruise, ready or parking."""
        s = self.state
        if s.fault_codes:
            effect = "faultMode"
        elif self.riding:
            effect = "cruiseMode"
        else:
            effect = "parkingMode" if s.locked else "readyMode"
        return settings.lamp(s.settings, effect)

    def status(self, now: float) -> DeviceStatus:
        s = self.state
        percent = round(s.battery_percent)
        voltage = physics.pack_voltage(s)
        iot_voltage = physics.iot_voltage_cv(s)
        return DeviceStatus(
            locked=s.locked,
            lock_voltage=iot_voltage - 70,
            network_signal=s.network_signal,
            charging=s.charging,
            power_percent=percent,
            speed_mode=s.speed_mode,
            speed=s.speed if self.riding else 0,
            odometer=int(s.odometer_m),
            remaining_range=int(physics.remaining_range_m(s) / 10),
            total_riding_secs=int(s.riding_secs),
            status_utc_time=int(now),
            reported_at=int(now * 1000),
            driving_voltage=voltage,
            current_power=physics.current_power_w(s, self.riding),
            iot_percent=round(s.iot_percent),
            iot_voltage=iot_voltage,
            battery_data=[
                DeviceBatteryPack(
                    battery_port=port,
                    battery_percent=percent,
                    battery_voltage=voltage,
                    cycle_times=pack.cycles,
                    temperatrue=round(pack.temperature),
                )
                for port, pack in enumerate(s.packs, start=1)
            ],
        )

    def location(self, now: float) -> DeviceLocation:
        s = self.state
        return DeviceLocation(
            location_status="valid",
            latitude=s.latitude,
            longitude=s.longitude,
            satellite_number=s.satellites,
            hdop=s.hdop,
            altitude=s.altitude,
            gps_utc_time=int(now),
            reported_at=int(now * 1000),
        )


_HANDLERS = {
    CommandName.UNLOCK: SimVehicle._unlock,
    CommandName.LOCK: SimVehicle._lock,
    CommandName.BATTERY_COVER: SimVehicle._battery_cover,
    CommandName.SOUND: SimVehicle._sound,
    CommandName.GET_BLUETOOTH_KEY: SimVehicle._get_bluetooth_key,
    CommandName.SET_BLUETOOTH_KEY: SimVehicle._set_bluetooth_key,
    CommandName.GET_VERSION: SimVehicle._get_version,
    CommandName.SET_SPEED_MODE: SimVehicle._set_speed_mode,
    CommandName.LIGHT: SimVehicle._light,
    CommandName.HEADLIGHT: SimVehicle._headlight,
    CommandName.POWER: SimVehicle._power,
}
