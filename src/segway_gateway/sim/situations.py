"""Level conditions the vehicle watches, and the alert or fault each one raises.

A condition is checked after every step of time and every setting change; the
event appears when it becomes true and disappears when it becomes false. Edge
triggered on purpose: an alert raised by hand (`sim alert`) stays until it is
cleared or its own condition ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from segway_gateway.contract.alerts import Alert
from segway_gateway.sim import settings
from segway_gateway.sim.fault_codes import FaultCode
from segway_gateway.sim.state import VehicleState

EventKind = Literal["alert", "fault"]

OVERHEAT_C = 50.0
OVERHEAT_CLEARS_C = 45.0
IOT_LOW_PERCENT = 10.0
IOT_LOW_CLEARS_PERCENT = 15.0
UNDERVOLTAGE_CLEARS_PERCENT = 5.0


@dataclass(frozen=True)
class Condition:
    name: str
    kind: EventKind
    code: int
    holds: Callable[[VehicleState, bool], bool]
    """(state, held at the last check) -> holds now; the second argument gives hysteresis."""


def _low_power(state: VehicleState, _held: bool) -> bool:
    return settings.low_power_switch_on(state.settings) and state.battery_percent < (
        settings.low_power_value(state.settings)
    )


def _undervoltage(state: VehicleState, held: bool) -> bool:
    return (
        state.battery_percent < UNDERVOLTAGE_CLEARS_PERCENT
        if held
        else (state.battery_percent <= 0)
    )


def _overheat(state: VehicleState, held: bool) -> bool:
    hottest = max((pack.temperature for pack in state.packs), default=0.0)
    return hottest >= (OVERHEAT_CLEARS_C if held else OVERHEAT_C)


def _iot_low(state: VehicleState, held: bool) -> bool:
    return state.iot_percent < (IOT_LOW_CLEARS_PERCENT if held else IOT_LOW_PERCENT)


CONDITIONS = (
    Condition("low-power", "alert", Alert.LOW_POWER, _low_power),
    Condition("undervoltage", "fault", FaultCode.BATTERY_UNDERVOLTAGE, _undervoltage),
    Condition("overheat", "fault", FaultCode.BATTERY_OVERHEAT, _overheat),
    Condition("iot-low", "fault", FaultCode.IOT_BATTERY_LOW, _iot_low),
)
