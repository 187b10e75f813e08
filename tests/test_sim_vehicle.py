"""The simulated C80 as a pure state machine: modes, truthful answers, physics, determinism."""

from __future__ import annotations

import random

from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import Command, CommandName
from segway_gateway.sim.city import SHENZHEN
from segway_gateway.sim.faults import Fault
from segway_gateway.sim.state import PackState, VehicleState, new_state
from segway_gateway.sim.vehicle import Mode, SimVehicle

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


def unlocked(seed: int = 1) -> SimVehicle:
    vehicle = make(seed)
    assert run(vehicle, CommandName.UNLOCK) == Code.SUCCESS
    return vehicle


def test_modes_follow_the_lifecycle_of_a_shared_bike() -> None:
    vehicle = make()
    assert vehicle.mode is Mode.LOCKED
    assert not vehicle.start_ride()
    assert vehicle.plug_in()
    assert vehicle.mode is Mode.CHARGING
    run(vehicle, CommandName.UNLOCK)
    assert (vehicle.mode, vehicle.state.charging) == (Mode.UNLOCKED, False)
    assert not vehicle.plug_in()
    assert vehicle.start_ride()
    assert vehicle.mode is Mode.RIDING
    vehicle.stop_ride()
    run(vehicle, CommandName.LOCK)
    assert vehicle.mode is Mode.LOCKED


def test_upgrading_offline_and_inactive_take_precedence_and_end() -> None:
    vehicle = make()
    vehicle.faults.add(Fault.UPGRADING)
    assert vehicle.mode is Mode.UPGRADING
    assert run(vehicle, CommandName.UNLOCK) == Code.UPGRADING
    vehicle.faults.add(Fault.OFFLINE)
    assert vehicle.mode is Mode.OFFLINE
    vehicle.state.activated = False
    assert vehicle.mode is Mode.INACTIVE
    vehicle.state.activated = True
    vehicle.faults.clear()
    assert vehicle.mode is Mode.LOCKED


def test_an_inactive_vehicle_does_not_change() -> None:
    vehicle = make()
    vehicle.state.activated = False
    before = vehicle.state.to_dict()
    vehicle.advance(3600)
    assert vehicle.state.to_dict() == before


def test_the_same_distance_drains_more_in_a_faster_speed_mode() -> None:
    drained = {}
    for mode in (1, 3):
        vehicle = unlocked()
        vehicle.state.speed_mode = mode
        vehicle.start_ride()
        start = vehicle.state.battery_percent
        while vehicle.state.odometer_m < 5_000:
            vehicle.advance(1.0)
        drained[mode] = (start - vehicle.state.battery_percent) / vehicle.state.odometer_m
    assert drained[3] > drained[1] * 1.3


def test_remaining_range_follows_battery_and_speed_mode() -> None:
    vehicle = make()
    vehicle.state.battery_percent = 50.0
    vehicle.state.speed_mode = 1
    assert vehicle.status(NOW).remaining_range == 70_000 * 0.5 / 10
    vehicle.state.speed_mode = 3
    assert vehicle.status(NOW).remaining_range == 50_000 * 0.5 / 10


def test_an_empty_battery_charges_full_in_four_hours_and_counts_one_cycle() -> None:
    vehicle = make()
    vehicle.state.battery_percent = 0.0
    cycles = [pack.cycles for pack in vehicle.state.packs]
    assert vehicle.plug_in()
    for _ in range(2 * 60):
        vehicle.advance(60)
    assert 49 <= vehicle.state.battery_percent <= 51
    assert vehicle.status(NOW).charging is True
    for _ in range(3 * 60):
        vehicle.advance(60)
    assert vehicle.state.battery_percent == 100
    assert [pack.cycles for pack in vehicle.state.packs] == [c + 1 for c in cycles]


def test_a_partial_charge_counts_no_cycle() -> None:
    vehicle = make()
    vehicle.state.battery_percent = 40.0
    cycles = [pack.cycles for pack in vehicle.state.packs]
    vehicle.plug_in()
    vehicle.advance(3600)
    vehicle.unplug()
    assert vehicle.state.battery_percent == 65.0
    assert [pack.cycles for pack in vehicle.state.packs] == cycles


def test_packs_warm_while_charging_or_riding_and_cool_at_rest() -> None:
    vehicle = make()
    vehicle.state.battery_percent = 10.0
    air = SHENZHEN.ambient_c
    vehicle.plug_in()
    vehicle.advance(3600)
    charged = vehicle.state.packs[0].temperature
    assert air + 5 < charged <= air + 8
    vehicle.unplug()
    vehicle.advance(3600)
    assert vehicle.state.packs[0].temperature < air + 0.5
    run(vehicle, CommandName.UNLOCK)
    vehicle.start_ride()
    for _ in range(1800):
        vehicle.advance(1.0)
    assert vehicle.state.packs[0].temperature > air + 2


def test_an_empty_battery_drains_the_iot_battery_to_offline_and_charging_revives_it() -> None:
    vehicle = make()
    assert vehicle.status(NOW).iot_voltage == 412
    vehicle.state.battery_percent = 0.0
    vehicle.advance(3600)
    status = vehicle.status(NOW)
    assert status.iot_percent == 98
    assert status.iot_voltage < 412
    for _ in range(50):
        vehicle.advance(3600)
    assert vehicle.state.iot_percent == 0
    assert vehicle.mode is Mode.OFFLINE
    assert vehicle.plug_in()
    vehicle.advance(60)
    assert vehicle.mode is Mode.CHARGING
    assert vehicle.state.iot_percent > 0


def test_hdop_is_lower_with_more_satellites() -> None:
    many, few = make(), make()
    many.state.satellites, few.state.satellites = 14, 4
    many.advance(1)
    few.advance(1)
    assert many.state.hdop < few.state.hdop
    assert 0.6 <= many.state.hdop <= few.state.hdop <= 3.0


def test_the_battery_info_lists_every_pack_with_its_cycles_and_temperature() -> None:
    vehicle = make()
    vehicle.state.packs = [PackState(10, 24.6), PackState(12, 31.2)]
    packs = vehicle.status(NOW).battery_data
    assert [(p.battery_port, p.cycle_times, p.temperatrue) for p in packs] == [
        (1, 10, 25),
        (2, 12, 31),
    ]


def test_a_state_saved_by_an_older_version_loads() -> None:
    """Old states had one pack's `cycle_times`/`temperature` at the top; unknown keys are
    ignored and missing ones take defaults."""
    old = {
        "iot_code": "861477038719116",
        "latitude": 22.6,
        "longitude": 114.1,
        "altitude": 12.0,
        "bluetooth_key": "Ab3dE6g8",
        "locked": False,
        "cycle_times": 23,
        "temperature": 25,
        "iot_percent": 100,
        "last_sound": 3,
        "from_the_future": True,
    }
    state = VehicleState.from_dict(old)
    assert state.packs == [PackState(23, 25)]
    assert (state.locked, state.last_sound, state.alerts, state.activated) == (
        False,
        3,
        set(),
        True,
    )
    vehicle = SimVehicle(state, SHENZHEN, random.Random(1))
    vehicle.advance(1)
    assert VehicleState.from_dict(vehicle.state.to_dict()) == vehicle.state
