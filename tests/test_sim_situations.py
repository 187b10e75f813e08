"""Situations of the simulated C80 that raise the documented alerts and our fault codes,
and what each setting changes in its behaviour (pure: no gateway, no clock)."""

from __future__ import annotations

from segway_gateway.contract.alerts import Alert
from segway_gateway.contract.codes import Code
from segway_gateway.contract.device import CommandName
from segway_gateway.sim.fault_codes import FaultCode
from segway_gateway.sim.faults import Fault
from segway_gateway.sim.vehicle import ILLEGAL_MOVE_CLEARS_AFTER_S, SimVehicle
from tests.test_sim_vehicle import NOW, make, run, unlocked


def events(vehicle: SimVehicle) -> list[tuple[str, int, int]]:
    """What the vehicle raised since the last call, as (kind, code, status)."""
    return [(e.kind, e.code, e.status) for e in vehicle.take_events(NOW)]


def test_a_bump_on_a_locked_vehicle_is_illegal_moving_until_it_rests_a_minute() -> None:
    vehicle = make()
    vehicle.bump(0.5)
    assert events(vehicle) == [("alert", 1, 0)]
    vehicle.advance(ILLEGAL_MOVE_CLEARS_AFTER_S / 2)
    vehicle.bump(0.5)
    vehicle.advance(ILLEGAL_MOVE_CLEARS_AFTER_S / 2)
    assert events(vehicle) == []
    vehicle.advance(ILLEGAL_MOVE_CLEARS_AFTER_S / 2)
    assert events(vehicle) == [("alert", 1, 1)]


def test_unlocking_ends_illegal_moving_and_bumps_on_an_unlocked_vehicle_are_not_illegal() -> None:
    vehicle = make()
    vehicle.bump(0.5)
    run(vehicle, CommandName.UNLOCK)
    assert events(vehicle) == [("alert", 1, 0), ("alert", 1, 1)]
    vehicle.bump(0.5)
    assert events(vehicle) == []


def test_a_fall_while_locked_is_2_and_standing_up_clears_it() -> None:
    vehicle = make()
    vehicle.bump(1.6)
    assert events(vehicle) == [("alert", 2, 0)]
    vehicle.fall()
    assert events(vehicle) == []
    vehicle.stand_up()
    assert events(vehicle) == [("alert", 2, 1)]


def test_a_fall_while_unlocked_is_4_and_ends_the_ride_and_disappears_as_2() -> None:
    """The document lists 4 only as appearing; "vehicle fell down" (2) disappears."""
    vehicle = unlocked()
    vehicle.start_ride()
    vehicle.fall()
    assert vehicle.state.riding is False
    vehicle.stand_up()
    assert events(vehicle) == [("alert", 4, 0), ("alert", 2, 1)]


def test_dismantling_is_3_until_repaired() -> None:
    vehicle = make()
    vehicle.dismantle()
    vehicle.repair()
    assert events(vehicle) == [("alert", 3, 0), ("alert", 3, 1)]


def test_alert_sensitivity_decides_how_hard_a_bump_must_be() -> None:
    gentle, keen = make(), make()
    run(gentle, CommandName.SET_SWITCH, alertSensitivity=1)
    run(keen, CommandName.SET_SWITCH, alertSensitivity=3)
    for vehicle in (gentle, keen):
        vehicle.bump(0.3)
    assert (events(gentle), events(keen)) == ([], [("alert", 1, 0)])
    for vehicle in (gentle, keen):
        vehicle.bump(1.2)
    assert (events(gentle), events(keen)) == ([("alert", 1, 0)], [("alert", 2, 0)])


def ride_down_to(vehicle: SimVehicle, percent: float) -> None:
    vehicle.start_ride()
    while vehicle.state.battery_percent >= percent:
        vehicle.advance(10)
    vehicle.stop_ride()


def test_low_power_appears_when_the_battery_crosses_below_the_value_and_goes_when_charged() -> None:
    vehicle = unlocked()
    vehicle.state.battery_percent = 10.5
    vehicle.advance(1)
    assert events(vehicle) == []
    ride_down_to(vehicle, 10)
    assert events(vehicle) == [("alert", 12, 0)]
    ride_down_to(vehicle, 8)
    assert events(vehicle) == []
    run(vehicle, CommandName.LOCK)
    vehicle.plug_in()
    while vehicle.state.battery_percent < 10:
        vehicle.advance(10)
    assert events(vehicle) == [("alert", 12, 1)]


def test_the_low_power_value_sets_the_threshold() -> None:
    vehicle = unlocked()
    vehicle.state.battery_percent = 31.0
    run(vehicle, CommandName.SET_SWITCH, lowPowerValue=30)
    ride_down_to(vehicle, 30)
    assert events(vehicle) == [("alert", 12, 0)]


def test_no_low_power_alert_while_the_switch_is_off_and_switching_decides_at_once() -> None:
    vehicle = unlocked()
    vehicle.state.battery_percent = 10.5
    run(vehicle, CommandName.SET_ABLE_SWITCH, lowPowerSwitch=1)
    ride_down_to(vehicle, 9)
    assert events(vehicle) == []
    run(vehicle, CommandName.SET_ABLE_SWITCH, lowPowerSwitch=0)
    assert events(vehicle) == []
    run(vehicle, CommandName.SET_ABLE_SWITCH, lowPowerSwitch=2)
    assert events(vehicle) == [("alert", 12, 0)]
    run(vehicle, CommandName.SET_ABLE_SWITCH, lowPowerSwitch=1)
    assert events(vehicle) == [("alert", 12, 1)]


def test_an_empty_battery_is_an_undervoltage_fault_until_charged_to_five_percent() -> None:
    vehicle = unlocked()
    vehicle.state.battery_percent = 0.5
    ride_down_to(vehicle, 0.001)
    assert ("fault", FaultCode.BATTERY_UNDERVOLTAGE, 0) in events(vehicle)
    run(vehicle, CommandName.LOCK)
    vehicle.plug_in()
    vehicle.advance(600)
    assert events(vehicle) == []
    vehicle.advance(600)
    assert events(vehicle) == [("fault", FaultCode.BATTERY_UNDERVOLTAGE, 1)]


def test_a_hot_pack_is_an_overheat_fault_until_it_cools_below_45() -> None:
    vehicle = make()
    vehicle.state.packs[0].temperature = 51.0
    vehicle.advance(1)
    assert events(vehicle) == [("fault", FaultCode.BATTERY_OVERHEAT, 0)]
    vehicle.advance(10)
    while vehicle.state.packs[0].temperature >= 45:
        assert events(vehicle) == []
        vehicle.advance(10)
    assert events(vehicle) == [("fault", FaultCode.BATTERY_OVERHEAT, 1)]


def test_a_low_iot_battery_is_a_fault() -> None:
    vehicle = make()
    vehicle.state.battery_percent = 0.0
    vehicle.state.iot_percent = 10.5
    vehicle.advance(3600)
    assert ("fault", FaultCode.IOT_BATTERY_LOW, 0) in events(vehicle)


def test_alerts_and_fault_codes_raised_by_hand_stay_until_cleared() -> None:
    vehicle = make()
    vehicle.set_alert(Alert.LOW_POWER, True)
    vehicle.set_fault_code(FaultCode.MOTOR_HALL_SENSOR, True)
    vehicle.set_fault_code(FaultCode.MOTOR_HALL_SENSOR, True)
    vehicle.advance(600)
    assert events(vehicle) == [("alert", 12, 0), ("fault", 18, 0)]
    vehicle.set_alert(Alert.LOW_POWER, False)
    vehicle.set_fault_code(FaultCode.MOTOR_HALL_SENSOR, False)
    assert events(vehicle) == [("alert", 12, 1), ("fault", 18, 1)]
    assert (vehicle.state.alerts, vehicle.state.fault_codes) == (set(), set())


def test_the_riding_fault_moves_even_a_locked_vehicle_and_its_lock_is_15997() -> None:
    """15997 when ridden while locked (no unlock through the API); 15600 in a ride."""
    vehicle = make()
    vehicle.faults.add(Fault.RIDING)
    vehicle.advance(10)
    assert vehicle.state.odometer_m > 0
    assert events(vehicle) == [("alert", 1, 0)]
    assert run(vehicle, CommandName.LOCK) == Code.LOCK_RIDING_UNABLE
    run(vehicle, CommandName.UNLOCK)
    assert run(vehicle, CommandName.LOCK) == Code.LOCK_RIDING
    vehicle.faults.clear()
    assert run(vehicle, CommandName.LOCK) == Code.SUCCESS
    assert vehicle.status(NOW).speed == 0


def test_sound_plays_at_the_set_volume_and_not_at_all_when_sound_is_off() -> None:
    vehicle = make()
    run(vehicle, CommandName.SET_SOUND, workMode=2, volume=3)
    assert run(vehicle, CommandName.SOUND, controlType=2) == Code.SUCCESS
    assert (vehicle.state.last_sound, vehicle.state.sound_volume) == (2, 3)
    run(vehicle, CommandName.SET_SOUND, workMode=1)
    assert run(vehicle, CommandName.SOUND, controlType=1) == Code.SUCCESS
    assert vehicle.state.last_sound == 2


def test_the_sound_mask_silences_single_sounds() -> None:
    vehicle = make()
    run(vehicle, CommandName.UNLOCK)
    assert vehicle.state.event_sound == "unlocked"
    run(vehicle, CommandName.SET_SOUND, workMode=0, ebcqMask={"locked": 0, "unlocked": 2})
    run(vehicle, CommandName.LOCK)
    assert vehicle.state.event_sound == "unlocked"
    run(vehicle, CommandName.UNLOCK)
    run(vehicle, CommandName.BATTERY_COVER)
    assert vehicle.state.event_sound == "openBoxes"


def test_the_lamp_shows_the_effect_of_the_current_state() -> None:
    vehicle = make()
    assert vehicle.lamp is None
    run(
        vehicle,
        CommandName.SET_AMBIENT,
        bright=3,
        parkingMode={"mode": 2, "color": 3},
        readyMode={"mode": 2, "color": 1},
        cruiseMode={"mode": 1, "color": 4},
        faultMode={"mode": 2, "color": 2},
    )
    assert vehicle.lamp == (3, 3)
    run(vehicle, CommandName.UNLOCK)
    assert vehicle.lamp == (1, 3)
    vehicle.start_ride()
    assert vehicle.lamp is None
    vehicle.set_fault_code(FaultCode.BRAKE_SENSOR, True)
    assert vehicle.lamp == (2, 3)
