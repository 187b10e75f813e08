"""One simulated C80: a state machine with simple physics, no I/O.

Time comes in as arguments and randomness from an injected generator, so a
vehicle is deterministic under a seed and can run faster than real time.
"""

from __future__ import annotations

import math
import random
import string
from dataclasses import asdict, dataclass, field
from typing import Any

from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import (
    SETTING_GROUPS,
    Command,
    CommandName,
    DeviceLocation,
    DeviceStatus,
    Reply,
    merge_setting,
)
from segway_gateway.contract.models import BatteryPack
from segway_gateway.sim.city import City
from segway_gateway.sim.faults import COMMAND_FAULTS, Fault

FULL_RANGE_M = {1: 70_000, 2: 60_000, 3: 50_000}
"""Range on a full battery per speed mode (1 low, 2 medium, 3 high)."""
TOP_SPEED_KMH = {1: 15, 2: 20, 3: 25}
_EARTH_M_PER_DEG = 111_320.0


@dataclass
class VehicleState:
    """Everything a vehicle remembers across restarts (its flash memory)."""

    iot_code: str
    latitude: float
    longitude: float
    altitude: float
    bluetooth_key: str
    locked: bool = True
    riding: bool = False
    charging: bool = False
    speed_mode: int = 2
    speed: int = 0
    heading: float = 0.0
    odometer_m: float = 0.0
    riding_secs: float = 0.0
    battery_percent: float = 100.0
    cycle_times: int = 0
    temperature: int = 25
    iot_percent: int = 100
    network_signal: int = 24
    satellites: int = 9
    hdop: float = 0.9
    battery_cover_open: bool = False
    last_sound: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VehicleState:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def new_state(iot_code: str, city: City, rng: random.Random) -> VehicleState:
    """A fresh vehicle parked somewhere in the city."""
    return VehicleState(
        iot_code=iot_code,
        latitude=round(rng.uniform(city.south, city.north), 6),
        longitude=round(rng.uniform(city.west, city.east), 6),
        altitude=round(city.altitude + rng.uniform(-5, 5), 1),
        bluetooth_key="".join(rng.choices(string.ascii_letters + string.digits, k=8)),
        battery_percent=float(rng.randint(40, 100)),
        cycle_times=rng.randint(0, 200),
        temperature=rng.randint(18, 32),
        network_signal=rng.randint(12, 30),
        heading=rng.uniform(0, 360),
    )


class SimVehicle:
    """A C80's behaviour: answers commands truthfully and moves while ridden."""

    def __init__(self, state: VehicleState, city: City, rng: random.Random) -> None:
        self.state = state
        self.city = city
        self.rng = rng
        self.faults: set[Fault] = set()

    # Commands -------------------------------------------------------------

    def execute(self, command: Command, now: float) -> Reply | None:
        """The reply to a command, or None when the vehicle stays silent."""
        if Fault.NO_REPLY in self.faults:
            return None
        code, data = self._outcome(command, now)
        return Reply(opId=command.op_id, code=int(code), data=data)

    def _outcome(self, command: Command, now: float) -> tuple[Code, dict[str, Any] | None]:
        if Fault.UPGRADING in self.faults:
            return Code.UPGRADING, None
        for fault, (name, code) in COMMAND_FAULTS.items():
            if fault in self.faults and name is command.name:
                return code, None
        if command.name in SETTING_GROUPS:
            self.state.settings = merge_setting(self.state.settings, command.name, command.args)
            return Code.SUCCESS, None
        if command.name is CommandName.LOCATE:
            return Code.SUCCESS, self.location(now).model_dump(by_alias=True)
        return _HANDLERS[command.name](self, command.args)

    def _unlock(self, _args: dict[str, Any]) -> tuple[Code, None]:
        self.state.locked = False
        return Code.SUCCESS, None

    def _lock(self, _args: dict[str, Any]) -> tuple[Code, None]:
        if self.state.riding:
            return Code.LOCK_RIDING, None
        self.state.locked = True
        self.state.speed = 0
        self.state.battery_cover_open = False
        return Code.SUCCESS, None

    def _battery_cover(self, _args: dict[str, Any]) -> tuple[Code, None]:
        if self.state.locked:
            return Code.BATTERY_COVER_LOCKED, None
        self.state.battery_cover_open = True
        return Code.SUCCESS, None

    def _sound(self, args: dict[str, Any]) -> tuple[Code, None]:
        self.state.last_sound = int(args["controlType"])
        return Code.SUCCESS, None

    def _get_bluetooth_key(self, _args: dict[str, Any]) -> tuple[Code, dict[str, Any]]:
        return Code.SUCCESS, {"key": self.state.bluetooth_key}

    def _set_bluetooth_key(self, args: dict[str, Any]) -> tuple[Code, None]:
        self.state.bluetooth_key = str(args["key"])
        return Code.SUCCESS, None

    # Rides and physics ----------------------------------------------------

    def start_ride(self) -> bool:
        """A rider sets off; only an unlocked vehicle with charge can be ridden."""
        if self.state.locked or self.state.battery_percent <= 0:
            return False
        self.state.riding = True
        self.state.speed = TOP_SPEED_KMH[self.state.speed_mode] - self.rng.randint(0, 4)
        return True

    def stop_ride(self) -> None:
        self.state.riding = False
        self.state.speed = 0

    def advance(self, seconds: float) -> None:
        """Move time on: ride, drain the battery, drift the GPS and the signal."""
        s = self.state
        if s.riding:
            s.speed = max(5, min(TOP_SPEED_KMH[s.speed_mode], s.speed + self.rng.randint(-2, 2)))
            distance = s.speed / 3.6 * seconds
            s.odometer_m += distance
            s.riding_secs += seconds
            s.battery_percent = max(
                0.0, s.battery_percent - distance / FULL_RANGE_M[s.speed_mode] * 100
            )
            self._move(distance)
            if s.battery_percent <= 0:
                self.stop_ride()
        s.network_signal = max(2, min(32, s.network_signal + self.rng.randint(-1, 1)))
        s.satellites = max(4, min(14, s.satellites + self.rng.randint(-1, 1)))
        s.hdop = round(max(0.6, min(3.0, s.hdop + self.rng.uniform(-0.1, 0.1))), 2)

    def _move(self, distance: float) -> None:
        s = self.state
        s.heading = (s.heading + self.rng.uniform(-20, 20)) % 360
        rad = math.radians(s.heading)
        lat = s.latitude + distance * math.cos(rad) / _EARTH_M_PER_DEG
        lon = s.longitude + distance * math.sin(rad) / (
            _EARTH_M_PER_DEG * math.cos(math.radians(s.latitude))
        )
        if not self.city.contains(lat, lon):
            s.heading = (s.heading + 180) % 360
            return
        s.latitude, s.longitude = round(lat, 6), round(lon, 6)

    # Reports --------------------------------------------------------------

    def status(self, now: float) -> DeviceStatus:
        s = self.state
        percent = round(s.battery_percent)
        driving_voltage = round(36 + 12 * s.battery_percent / 100)
        return DeviceStatus(
            locked=s.locked,
            lock_voltage=400 + s.iot_percent // 10,
            network_signal=s.network_signal,
            charging=s.charging,
            power_percent=percent,
            speed_mode=s.speed_mode,
            speed=s.speed,
            odometer=int(s.odometer_m),
            remaining_range=int(FULL_RANGE_M[s.speed_mode] * s.battery_percent / 100 / 10),
            total_riding_secs=int(s.riding_secs),
            status_utc_time=int(now),
            driving_voltage=driving_voltage,
            current_power=s.speed * 12 if s.riding else 2,
            iot_percent=s.iot_percent,
            iot_voltage=370 + s.iot_percent * 45 // 100,
            battery_data=[
                BatteryPack(
                    battery_port=1,
                    battery_percent=percent,
                    battery_voltage=driving_voltage,
                    cycle_times=s.cycle_times,
                    temperatrue=s.temperature,
                )
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
        )


_HANDLERS = {
    CommandName.UNLOCK: SimVehicle._unlock,
    CommandName.LOCK: SimVehicle._lock,
    CommandName.BATTERY_COVER: SimVehicle._battery_cover,
    CommandName.SOUND: SimVehicle._sound,
    CommandName.GET_BLUETOOTH_KEY: SimVehicle._get_bluetooth_key,
    CommandName.SET_BLUETOOTH_KEY: SimVehicle._set_bluetooth_key,
}
