"""Fault injection for the embedded fleet: what the admin API and `sim …` drive."""

from __future__ import annotations

from segway_gateway.clock import Clock, Timer
from segway_gateway.contract.alerts import Alert
from segway_gateway.devicelink.base import DeviceLink
from segway_gateway.gateway.fleet import FleetService
from segway_gateway.sim.fault_codes import FaultCode
from segway_gateway.sim.faults import Fault
from segway_gateway.sim.fleet import SimFleet


class UnknownVehicle(KeyError):
    """The vehicle is not simulated by this gateway."""


class FaultInjector:
    """Sets and clears faults on simulated vehicles, the in-process link and the fleet
    service, and makes vehicles raise alerts and fault codes on demand."""

    def __init__(self, sim: SimFleet, link: DeviceLink, fleet: FleetService, clock: Clock) -> None:
        self._sim = sim
        self._clock = clock
        self._gateway_side: dict[Fault, set[str]] = {
            Fault.SEND_FAIL: link.refuse_sends_to,
            Fault.RESTRICTED: fleet.restricted,
        }
        """Faults that act on the gateway's side: the vehicles that have each."""
        self._timers: dict[tuple[str, Fault], Timer] = {}

    def inject(
        self, iot_code: str, fault: Fault, seconds: float | None = None, delay: float = 0.0
    ) -> None:
        """Give a vehicle a fault, for `seconds` or until cleared (`delay`: see `slow-reply`)."""
        self._known(iot_code)
        if fault in self._gateway_side:
            self._gateway_side[fault].add(iot_code)
        else:
            self._sim.set_fault(iot_code, fault, delay=delay)
        previous = self._timers.pop((iot_code, fault), None)
        if previous is not None:
            previous.cancel()
        if seconds is not None:
            self._timers[(iot_code, fault)] = self._clock.call_later(
                seconds, self._clear_one, iot_code, fault
            )

    def clear(self, iot_code: str) -> None:
        """Clear every fault of a vehicle."""
        self._known(iot_code)
        for key in [key for key in self._timers if key[0] == iot_code]:
            self._timers.pop(key).cancel()
        for vehicles in self._gateway_side.values():
            vehicles.discard(iot_code)
        self._sim.clear_faults(iot_code)

    def ride(self, iot_code: str, start: bool) -> bool:
        """Start or end a ride; False if a ride cannot start (locked or empty battery)."""
        self._known(iot_code)
        vehicle = self._sim.vehicle(iot_code)
        if not start:
            vehicle.stop_ride()
            return True
        return vehicle.start_ride()

    def alert(self, iot_code: str, code: Alert, active: bool) -> None:
        """Make a vehicle raise (or clear) an alert; the event reaches the gateway next tick."""
        self._known(iot_code)
        self._sim.vehicle(iot_code).set_alert(code, active)

    def fault_code(self, iot_code: str, code: FaultCode, active: bool) -> None:
        """Make a vehicle raise (or clear) a fault code."""
        self._known(iot_code)
        self._sim.vehicle(iot_code).set_fault_code(code, active)

    def _clear_one(self, iot_code: str, fault: Fault) -> None:
        self._timers.pop((iot_code, fault), None)
        if fault in self._gateway_side:
            self._gateway_side[fault].discard(iot_code)
        elif self._sim.simulates(iot_code):
            self._sim.clear_faults(iot_code, only=fault)

    def _known(self, iot_code: str) -> None:
        if not self._sim.simulates(iot_code):
            raise UnknownVehicle(iot_code)
