"""The simulated C80 as a pure state machine: truthful answers, physics, determinism."""

from __future__ import annotations

import random

from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import Command, CommandName
from segway_gateway.sim.city import SHENZHEN
from segway_gateway.sim.faults import Fault
from segway_gateway.sim.vehicle import SimVehicle, VehicleState, new_state

NOW = 1_800_000_000.0


def make(seed: int = 1) -> SimVehicle:
    rng = random.Random(seed)
    return SimVehicle(new_state("861477038719116", SHENZHEN, rng), SHENZHEN, rng)


def run(vehicle: SimVehicle, name: CommandName, **args: object) -> int:
    reply = vehicle.execute(Command(opId="op", name=name, args=args, deadline=0), NOW)
    assert reply is not None
    assert reply.op_id == "op"
    return reply.code


def test_same_seed_same_ride() -> None:
    a, b = make(7), make(7)
    for vehicle in (a, b):
        run(vehicle, CommandName.UNLOCK)
        assert vehicle.start_ride()
        for _ in range(600):
            vehicle.advance(1.0)
    assert a.state == b.state
    assert a.state != make(8).state


def test_a_ride_moves_drains_and_counts() -> None:
    vehicle = make()
    start = VehicleState.from_dict(vehicle.state.to_dict())
    run(vehicle, CommandName.UNLOCK)
    assert vehicle.start_ride()
    for _ in range(600):
        vehicle.advance(1.0)
    state = vehicle.state
    assert 600 * 5 / 3.6 <= state.odometer_m <= 600 * 25 / 3.6
    assert state.riding_secs == 600
    assert state.battery_percent < start.battery_percent
    assert (state.latitude, state.longitude) != (start.latitude, start.longitude)
    assert SHENZHEN.contains(state.latitude, state.longitude)
    status = vehicle.status(NOW)
    assert status.odometer == int(state.odometer_m)
    assert status.total_riding_secs == 600
    assert status.power_percent == round(state.battery_percent)


def test_a_locked_vehicle_cannot_be_ridden() -> None:
    vehicle = make()
    assert not vehicle.start_ride()
    vehicle.advance(60)
    assert vehicle.state.odometer_m == 0


def test_lock_while_riding_is_refused_and_lock_after_the_ride_works() -> None:
    vehicle = make()
    run(vehicle, CommandName.UNLOCK)
    vehicle.start_ride()
    assert run(vehicle, CommandName.LOCK) == Code.LOCK_RIDING
    assert vehicle.state.locked is False
    vehicle.stop_ride()
    assert run(vehicle, CommandName.LOCK) == Code.SUCCESS
    assert vehicle.state.locked is True


def test_battery_cover_opens_only_while_unlocked() -> None:
    vehicle = make()
    assert run(vehicle, CommandName.BATTERY_COVER) == Code.BATTERY_COVER_LOCKED
    run(vehicle, CommandName.UNLOCK)
    assert run(vehicle, CommandName.BATTERY_COVER) == Code.SUCCESS
    assert vehicle.state.battery_cover_open is True


def test_settings_merge_deeply_and_the_key_is_kept() -> None:
    vehicle = make()
    run(vehicle, CommandName.SET_INTERVAL, locationInterval={"unlockStatus": 20})
    run(vehicle, CommandName.SET_INTERVAL, locationInterval={"lockStatus": 600})
    assert vehicle.state.settings["interval"] == {
        "locationInterval": {"unlockStatus": 20, "lockStatus": 600}
    }
    run(vehicle, CommandName.SET_BLUETOOTH_KEY, key="Ab3dE6g8")
    reply = vehicle.execute(Command(opId="k", name=CommandName.GET_BLUETOOTH_KEY, deadline=0), NOW)
    assert reply is not None and reply.data == {"key": "Ab3dE6g8"}


def test_a_silent_vehicle_does_not_reply() -> None:
    vehicle = make()
    vehicle.faults.add(Fault.NO_REPLY)
    assert vehicle.execute(Command(opId="x", name=CommandName.UNLOCK, deadline=0), NOW) is None
    assert vehicle.state.locked is True


def test_state_survives_a_round_trip_through_a_dict() -> None:
    vehicle = make()
    assert VehicleState.from_dict(vehicle.state.to_dict()) == vehicle.state
