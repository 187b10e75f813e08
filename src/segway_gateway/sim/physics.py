"""The simulated C80's physics: battery, charging, heat, IoT battery, radio and GPS.

Plain functions of a `VehicleState`, a time step and a seeded generator: no
clock, no I/O. Figures are plausible for a shared e-bike, not measured.
"""

from __future__ import annotations

import math
import random

from segway_gateway.sim import settings
from segway_gateway.sim.city import City
from segway_gateway.sim.state import VehicleState

FULL_RANGE_M = {1: 70_000, 2: 60_000, 3: 50_000}
"""Range on a full battery per speed mode (1 low, 2 medium, 3 high)."""
TOP_SPEED_KMH = {1: 15, 2: 20, 3: 25}
"""Top speed per speed mode, unless the scooter setting limits the mode otherwise."""
MOTOR_TOP_SPEED_KMH = 32
"""What the motor can do at most, whatever limit a mode is given."""
MIN_RIDING_SPEED_KMH = 5
CHARGE_PERCENT_PER_S = 100 / (4 * 3600)
"""Empty to full in four hours."""
STANDBY_PERCENT_PER_S = 0.05 / 3600
"""What the IoT module and the lock take from the main battery at rest."""
IOT_DRAIN_PERCENT_PER_S = 2 / 3600
"""The IoT battery on its own (main battery empty): about two days until offline."""
IOT_RECHARGE_PERCENT_PER_S = 20 / 3600
"""The main battery recharges the IoT battery in about five hours."""
THERMAL_TIME_CONSTANT_S = 600.0
CHARGING_WARMTH_C = 8.0
RIDING_WARMTH_C_PER_KMH = 0.3
CHARGING_POWER_W = 260
RIDING_POWER_W_PER_KMH = 12
STANDBY_POWER_W = 2
_EARTH_M_PER_DEG = 111_320.0


def ride(state: VehicleState, seconds: float, rng: random.Random) -> float:
    """Ride for `seconds`: speed wanders below the mode's top speed; the distance drains
    the battery by the mode's range. Returns the distance in metres."""
    top = top_speed(state)
    slowest = min(MIN_RIDING_SPEED_KMH, top)
    state.speed = max(slowest, min(top, state.speed + rng.randint(-2, 2)))
    distance = state.speed / 3.6 * seconds
    state.odometer_m += distance
    state.riding_secs += seconds
    drained = distance / FULL_RANGE_M[state.speed_mode] * 100
    state.battery_percent = max(0.0, state.battery_percent - drained)
    return distance


def top_speed(state: VehicleState) -> int:
    """The fastest the vehicle goes in its speed mode (km/h): the mode's speed limit
    (scooter setting) if set, else its default top speed, and never beyond the motor's."""
    limit = settings.speed_limit(state.settings, state.speed_mode)
    return min(MOTOR_TOP_SPEED_KMH, TOP_SPEED_KMH[state.speed_mode] if limit is None else limit)


def move(state: VehicleState, distance: float, rng: random.Random, city: City) -> None:
    """Move `distance` metres roughly along the heading; turn back at the city's edge."""
    state.heading = (state.heading + rng.uniform(-20, 20)) % 360
    rad = math.radians(state.heading)
    lat = state.latitude + distance * math.cos(rad) / _EARTH_M_PER_DEG
    lon = state.longitude + distance * math.sin(rad) / (
        _EARTH_M_PER_DEG * math.cos(math.radians(state.latitude))
    )
    if not city.contains(lat, lon):
        state.heading = (state.heading + 180) % 360
        return
    state.latitude, state.longitude = round(lat, 6), round(lon, 6)


def charge(state: VehicleState, seconds: float) -> None:
    """Charge for `seconds`; each pack counts a cycle when a charge completes."""
    if state.battery_percent >= 100:
        return
    state.battery_percent = min(100.0, state.battery_percent + CHARGE_PERCENT_PER_S * seconds)
    if state.battery_percent >= 100:
        for pack in state.packs:
            pack.cycles += 1


def power_iot(state: VehicleState, seconds: float) -> None:
    """The charger or the main battery keep the IoT battery full (the main battery pays a
    standby drain for it); with neither, the IoT battery drains."""
    powered = state.charging or state.battery_percent > 0
    if powered and not state.charging:
        state.battery_percent = max(0.0, state.battery_percent - STANDBY_PERCENT_PER_S * seconds)
    rate = IOT_RECHARGE_PERCENT_PER_S if powered else -IOT_DRAIN_PERCENT_PER_S
    state.iot_percent = max(0.0, min(100.0, state.iot_percent + rate * seconds))


def warm(state: VehicleState, seconds: float, ambient_c: float, riding: bool) -> None:
    """Packs warm towards a target (air, plus charging or riding heat), exponentially."""
    target = ambient_c
    if state.charging and state.battery_percent < 100:
        target += CHARGING_WARMTH_C
    if riding:
        target += RIDING_WARMTH_C_PER_KMH * state.speed
    share = 1 - math.exp(-seconds / THERMAL_TIME_CONSTANT_S)
    for pack in state.packs:
        pack.temperature += (target - pack.temperature) * share


def drift_radio(state: VehicleState, rng: random.Random) -> None:
    """Network signal (2-32) and satellites wander; hdop follows the satellites."""
    state.network_signal = max(2, min(32, state.network_signal + rng.randint(-1, 1)))
    state.satellites = max(4, min(14, state.satellites + rng.randint(-1, 1)))
    hdop = 7.5 / state.satellites + rng.uniform(-0.1, 0.1)
    state.hdop = round(max(0.6, min(3.0, hdop)), 2)


def remaining_range_m(state: VehicleState) -> float:
    return FULL_RANGE_M[state.speed_mode] * state.battery_percent / 100


def pack_voltage(state: VehicleState) -> int:
    """A 48 V pack: 36 V empty, 48 V full."""
    return round(36 + 12 * state.battery_percent / 100)


def iot_voltage_cv(state: VehicleState) -> int:
    """The IoT battery's voltage in 10 mV (412 is 4.12 V, full)."""
    return round(340 + 72 * state.iot_percent / 100)


def current_power_w(state: VehicleState, riding: bool) -> int:
    if riding:
        return state.speed * RIDING_POWER_W_PER_KMH
    if state.charging and state.battery_percent < 100:
        return CHARGING_POWER_W
    return STANDBY_POWER_W
