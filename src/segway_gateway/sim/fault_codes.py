"""Our fault codes: the API document lists none, so the simulated C80 uses this table.

The codes are this project's own (numbers in the style of Segway dashboards'
error codes, not taken from any Segway document). docs/simulation.md shows
the table; `segway-gateway sim fault-code` raises any of them.
"""

from __future__ import annotations

from enum import IntEnum


class FaultCode(IntEnum):
    """`code` of the fault push, as the simulated vehicle reports it."""

    DASHBOARD_LINK = 10
    BRAKE_SENSOR = 15
    MOTOR_HALL_SENSOR = 18
    BMS_LINK = 21
    BATTERY_UNDERVOLTAGE = 24
    BATTERY_OVERHEAT = 39
    IOT_BATTERY_LOW = 50

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


COMPONENTS: dict[FaultCode, str] = {
    FaultCode.DASHBOARD_LINK: "display/dashboard",
    FaultCode.BRAKE_SENSOR: "brake",
    FaultCode.MOTOR_HALL_SENSOR: "motor",
    FaultCode.BMS_LINK: "battery/BMS",
    FaultCode.BATTERY_UNDERVOLTAGE: "battery/BMS",
    FaultCode.BATTERY_OVERHEAT: "battery/BMS",
    FaultCode.IOT_BATTERY_LOW: "IoT",
}
"""The part of the vehicle each fault belongs to."""


def describe(code: FaultCode) -> str:
    """E.g. `18 motor hall sensor (motor)`."""
    return f"{code.value} {code.label} ({COMPONENTS[code]})"
