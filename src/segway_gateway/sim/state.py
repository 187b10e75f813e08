"""What a simulated vehicle remembers across restarts (its flash memory), as plain data."""

from __future__ import annotations

import random
import string
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from segway_gateway.sim.city import City

IOT_VERSION = "2.3.5"
ECU_VERSION = "1.6.2"
BMS_VERSION = "1.1.8"
"""Firmware versions a simulated C80 ships with (plausible, not Segway's)."""


@dataclass
class PackState:
    """One battery pack; packs share the vehicle's charge, each ages and warms on its own."""

    cycles: int = 0
    temperature: float = 25.0


@dataclass
class VehicleState:
    """Everything a vehicle keeps; `to_dict`/`from_dict` are its saved form."""

    iot_code: str
    latitude: float
    longitude: float
    altitude: float
    bluetooth_key: str
    activated: bool = True
    locked: bool = True
    riding: bool = False
    charging: bool = False
    speed_mode: int = 2
    speed: int = 0
    heading: float = 0.0
    odometer_m: float = 0.0
    riding_secs: float = 0.0
    battery_percent: float = 100.0
    packs: list[PackState] = field(default_factory=lambda: [PackState()])
    iot_percent: float = 100.0
    network_signal: int = 24
    satellites: int = 9
    hdop: float = 0.9
    battery_cover_open: bool = False
    fallen: bool = False
    dismantled: bool = False
    still_secs: float = 0.0
    """Seconds since the vehicle was last moved while locked (alert 1 ends after a while)."""
    alerts: set[int] = field(default_factory=set)
    """Alert codes that appeared and have not disappeared."""
    fault_codes: set[int] = field(default_factory=set)
    tripped: set[str] = field(default_factory=set)
    """Names of the level conditions (sim/situations.py) met at the last check."""
    last_sound: int | None = None
    """`controlType` of the last sound control the vehicle played."""
    sound_volume: int | None = None
    """Volume (1-3) of the last sound played."""
    event_sound: str | None = None
    """The last `ebcqMask` sound played (`unlocked`, `locked`, `openBoxes`)."""
    settings: dict[str, Any] = field(default_factory=dict)
    head_light: bool = False
    tail_light: bool = False
    """The lights (the light and headlight controls)."""
    powered: bool = True
    """Powered on (the power control): powered off, the vehicle refuses to unlock and
    cannot be ridden; its IoT module stays online."""
    iot_version: str = IOT_VERSION
    ecu_version: str = ECU_VERSION
    bms_version: str = BMS_VERSION
    """Firmware versions of the IoT module, the motor controller and the battery
    management system (the version query answers them)."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("alerts", "fault_codes", "tripped"):
            data[name] = sorted(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VehicleState:
        """Load a saved state; unknown keys are ignored, missing ones take defaults.

        States saved before battery packs existed carry one pack's `cycle_times`
        and `temperature` at the top level.
        """
        values = _known(cls, data)
        if "packs" in values:
            values["packs"] = [PackState(**_known(PackState, p)) for p in values["packs"]]
        elif "cycle_times" in data or "temperature" in data:
            legacy = PackState(data.get("cycle_times", 0), data.get("temperature", 25.0))
            values["packs"] = [legacy]
        for name in ("alerts", "fault_codes", "tripped"):
            if name in values:
                values[name] = set(values[name])
        return cls(**values)


def _known(kind: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    """The entries of `data` that are fields of the dataclass `kind`."""
    names = {f.name for f in fields(kind)}
    return {k: v for k, v in data.items() if k in names}


def new_state(iot_code: str, city: City, rng: random.Random) -> VehicleState:
    """A fresh vehicle parked somewhere in the city, its batteries at air temperature."""
    cycles = rng.randint(0, 200)
    return VehicleState(
        iot_code=iot_code,
        latitude=round(rng.uniform(city.south, city.north), 6),
        longitude=round(rng.uniform(city.west, city.east), 6),
        altitude=round(city.altitude + rng.uniform(-5, 5), 1),
        bluetooth_key="".join(rng.choices(string.ascii_letters + string.digits, k=8)),
        battery_percent=float(rng.randint(40, 100)),
        packs=[
            PackState(cycles + rng.randint(0, 5), city.ambient_c) for _ in range(rng.randint(1, 2))
        ],
        network_signal=rng.randint(12, 30),
        satellites=rng.randint(6, 12),
        heading=rng.uniform(0, 360),
    )
