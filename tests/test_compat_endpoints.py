"""The compatibility endpoints, beyond the document (docs/compatibility.md): each answers
the envelope, goes to the vehicle as a command with the same codes as the others, and
acts on the simulated vehicle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from segway_gateway.contract import paths
from segway_gateway.contract.codes import Code
from segway_gateway.gateway.store.db import Database
from segway_gateway.gateway.store.vehicles import COMMANDED
from segway_gateway.sim.faults import Fault
from segway_gateway.sim.state import IOT_VERSION, VehicleState
from tests.harness import STATUS, UNLOCK, RunningGateway, code_of, eventually
from tests.test_report_store import VEHICLES, report, seeded, status_at

T0 = 1_790_000_000_000

IOT_ONLY = {"vehicleCode": "S1234"}
"""What every body and query also carries here: `vehicleCode` is accepted and ignored."""

COMMANDS: list[tuple[str, dict[str, Any]]] = [
    (paths.SPEED_MODE_SETTING, {"speedMode": 1}),
    (
        paths.SCOOTER_SETTING,
        {"buttonSwitchSpeedMode": 0, "lowSpeedLimit": 10, "mediumSpeedLimit": 12},
    ),
    (paths.LIGHT, {"headLight": 1, "tailLight": 1}),
    (paths.HEADLIGHT, {"controlType": 1}),
    (paths.POWER, {"controlType": 1}),
]
"""Every compatibility command but the battery cover (which a locked vehicle refuses)."""


@pytest.fixture
def fault(server: RunningGateway) -> Iterator[Callable[[str, Fault], None]]:
    yield from server.faults()


def post(api: httpx.Client, path: str, iot_code: str, **body: Any) -> int:
    return code_of(api.post(path, json={"iotCode": iot_code, **IOT_ONLY, **body}))


def state(server: RunningGateway, iot_code: str) -> VehicleState:
    vehicle = server.sim_vehicle(iot_code)
    return server.call(lambda: VehicleState.from_dict(vehicle.state.to_dict()))


def version(api: httpx.Client, path: str, iot_code: str) -> httpx.Response:
    return api.get(path, params={"iotCode": iot_code, **IOT_ONLY})


# Version ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [paths.VERSION, paths.VERSION_V2])
def test_version_answers_the_vehicles_firmware(
    server: RunningGateway, api: httpx.Client, vehicle: str, path: str
) -> None:
    response = version(api, path, vehicle)
    assert code_of(response) == 0
    body = response.json()
    assert body["msg"] == "Success"
    kept = state(server, vehicle)
    assert body["data"] == {
        "iotCode": vehicle,
        "iotVersion": kept.iot_version,
        "ecuVersion": kept.ecu_version,
        "bmsVersion": kept.bms_version,
    }
    assert isinstance(body["data"]["iotVersion"], str) and body["data"]["iotVersion"]


def test_version_while_upgrading_is_15500_and_bad_input_15004(
    api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    assert code_of(version(api, paths.VERSION, "12ab")) == Code.PARAMETER_ERROR
    assert code_of(api.get(paths.VERSION_V2)) == Code.PARAMETER_ERROR
    fault(vehicle, Fault.UPGRADING)
    assert code_of(version(api, paths.VERSION, vehicle)) == Code.UPGRADING
    assert code_of(version(api, paths.VERSION_V2, vehicle)) == Code.UPGRADING


# Speed mode and limits ------------------------------------------------------------


def test_speed_mode_shows_in_the_status_at_once(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    for mode in (3, 1, 2, 3):
        assert post(api, paths.SPEED_MODE_SETTING, vehicle, speedMode=mode) == 0
        status = api.get(STATUS, params={"iotCode": vehicle}).json()["data"]
        assert status["speedMode"] == mode
        assert state(server, vehicle).speed_mode == mode
    assert COMMANDED not in status


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (paths.SPEED_MODE_SETTING, {}),
        (paths.SPEED_MODE_SETTING, {"speedMode": 0}),
        (paths.SPEED_MODE_SETTING, {"speedMode": 4}),
        (paths.SPEED_MODE_SETTING, {"speedMode": "2"}),
        (paths.SPEED_MODE_SETTING, {"speedMode": 2.0}),
        (paths.SCOOTER_SETTING, {}),
        (paths.SCOOTER_SETTING, {"vehicleCode": "S1"}),
        (paths.SCOOTER_SETTING, {"lowSpeedLimit": 0}),
        (paths.SCOOTER_SETTING, {"highSpeedLimit": 100}),
        (paths.SCOOTER_SETTING, {"mediumSpeedLimit": "20"}),
        (paths.SCOOTER_SETTING, {"buttonSwitchSpeedMode": 2}),
        (paths.LIGHT, {}),
        (paths.LIGHT, {"headLight": 2}),
        (paths.LIGHT, {"tailLight": True}),
        (paths.HEADLIGHT, {}),
        (paths.HEADLIGHT, {"controlType": 2}),
        (paths.HEADLIGHT, {"controlType": "on"}),
        (paths.POWER, {"controlType": -1}),
        (paths.POWER, {}),
    ],
)
def test_bad_input_is_15004_and_changes_nothing(
    server: RunningGateway, api: httpx.Client, vehicle: str, path: str, body: dict[str, Any]
) -> None:
    before = commandable(state(server, vehicle))
    assert code_of(api.post(path, json={"iotCode": vehicle, **body})) == Code.PARAMETER_ERROR
    assert commandable(state(server, vehicle)) == before


def commandable(vehicle_state: Any) -> dict[str, Any]:
    """What these commands can change (battery and fix drift on their own meanwhile)."""
    whole = vehicle_state.to_dict()
    return {k: whole[k] for k in ("speed_mode", "settings", "head_light", "tail_light", "powered")}


def test_speed_limits_are_settings_of_the_vehicle_and_the_store(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    limits = {"buttonSwitchSpeedMode": 0, "lowSpeedLimit": 8, "mediumSpeedLimit": 12}
    assert post(api, paths.SCOOTER_SETTING, vehicle, **limits) == 0
    assert post(api, paths.SCOOTER_SETTING, vehicle, highSpeedLimit=18) == 0
    expected = {**limits, "highSpeedLimit": 18}
    assert server.stored(vehicle).settings["scooter"] == expected
    assert server.call(lambda: dict(server.sim_settings(vehicle)["scooter"])) == expected


def speeds_while_riding(server: RunningGateway, iot_code: str, steps: int) -> list[int]:
    """The vehicle's speed after each of `steps` 2-second moves of its physics."""
    vehicle = server.sim_vehicle(iot_code)

    def ride() -> list[int]:
        seen = []
        for _ in range(steps):
            vehicle.advance(2.0)
            seen.append(vehicle.state.speed)
        return seen

    return server.call(ride)


def test_a_ride_never_exceeds_the_limit_of_its_speed_mode(
    server: RunningGateway, api: httpx.Client, admin: httpx.Client, vehicle: str
) -> None:
    limits = {"lowSpeedLimit": 7, "mediumSpeedLimit": 11, "highSpeedLimit": 16}
    assert post(api, paths.SCOOTER_SETTING, vehicle, **limits) == 0
    assert post(api, paths.SPEED_MODE_SETTING, vehicle, speedMode=3) == 0
    assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == 0
    ride = admin.post(f"/vehicles/{vehicle}/ride", json={"action": "start"})
    assert ride.status_code == 200, ride.text
    try:
        assert 0 < state(server, vehicle).speed <= 16
        assert max(speeds_while_riding(server, vehicle, 100)) <= 16
        for mode, limit in ((1, 7), (2, 11)):
            assert post(api, paths.SPEED_MODE_SETTING, vehicle, speedMode=mode) == 0
            assert state(server, vehicle).speed <= limit  # slowed down at once
            seen = speeds_while_riding(server, vehicle, 100)
            assert max(seen) <= limit and min(seen) > 0
        assert post(api, paths.SCOOTER_SETTING, vehicle, mediumSpeedLimit=3) == 0
        assert max(speeds_while_riding(server, vehicle, 50)) <= 3
        eventually(
            lambda: api.get(STATUS, params={"iotCode": vehicle}).json()["data"]["speed"] <= 3,
            "the status reporting the limited speed",
        )
    finally:
        admin.post(f"/vehicles/{vehicle}/ride", json={"action": "stop"}).raise_for_status()


# Battery cover, lights, power --------------------------------------------------------


def test_the_older_battery_cover_path_is_the_battery_cover(
    server: RunningGateway, api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None]
) -> None:
    assert post(api, paths.BATTERY_COVER_LEGACY, vehicle) == Code.BATTERY_COVER_LOCKED
    assert state(server, vehicle).battery_cover_open is False
    assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == 0
    assert post(api, paths.BATTERY_COVER_LEGACY, vehicle) == 0
    assert state(server, vehicle).battery_cover_open is True
    fault(vehicle, Fault.EXECUTE_FAIL)
    assert post(api, paths.BATTERY_COVER_LEGACY, vehicle) == Code.EXECUTE_FAILED


def test_lights_and_the_headlight_spelling(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    def lights() -> tuple[bool, bool]:
        kept = state(server, vehicle)
        return kept.head_light, kept.tail_light

    assert lights() == (False, False)
    assert post(api, paths.LIGHT, vehicle, headLight=1, tailLight=1) == 0
    assert lights() == (True, True)
    assert post(api, paths.LIGHT, vehicle, tailLight=0) == 0
    assert lights() == (True, False)
    assert post(api, paths.HEADLIGHT, vehicle, controlType=0) == 0
    assert lights() == (False, False)
    assert post(api, paths.HEADLIGHT, vehicle, controlType="1") == 0
    assert lights() == (True, False)


def test_a_powered_off_vehicle_refuses_to_unlock_with_15611(
    server: RunningGateway, api: httpx.Client, admin: httpx.Client, vehicle: str
) -> None:
    assert post(api, paths.POWER, vehicle, controlType=0) == 0
    assert state(server, vehicle).powered is False
    assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == Code.UNLOCK_FAILED
    assert state(server, vehicle).locked is True
    assert api.get(STATUS, params={"iotCode": vehicle}).json()["data"]["locked"] is True
    assert post(api, paths.POWER, vehicle, controlType="1") == 0
    assert code_of(api.post(UNLOCK, json={"iotCode": vehicle})) == 0
    ride = admin.post(f"/vehicles/{vehicle}/ride", json={"action": "start"})
    assert ride.status_code == 200, ride.text
    try:
        assert post(api, paths.POWER, vehicle, controlType=0) == Code.EXECUTE_FAILED
        assert state(server, vehicle).powered is True
    finally:
        admin.post(f"/vehicles/{vehicle}/ride", json={"action": "stop"}).raise_for_status()


# The codes of every command --------------------------------------------------------


@pytest.mark.parametrize(("path", "body"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_each_command_answers_0_and_the_codes_of_the_others(
    server: RunningGateway,
    api: httpx.Client,
    vehicle: str,
    fault: Callable[[str, Fault], None],
    path: str,
    body: dict[str, Any],
) -> None:
    assert post(api, path, vehicle, **body) == 0
    assert post(api, path, "123456789012345", **body) == Code.DEVICE_NOT_FOUND
    fault(vehicle, Fault.UPGRADING)
    assert post(api, path, vehicle, **body) == Code.UPGRADING
    server.call(lambda: server.gateway.faults.clear(vehicle))  # type: ignore[union-attr]
    fault(vehicle, Fault.SEND_FAIL)
    assert post(api, path, vehicle, **body) == Code.SEND_FAILED
    server.call(lambda: server.gateway.faults.clear(vehicle))  # type: ignore[union-attr]
    fault(vehicle, Fault.RESTRICTED)
    assert post(api, path, vehicle, **body) == Code.RESTRICTED


@pytest.mark.parametrize(
    "path",
    [*(p for p, _ in COMMANDS), paths.BATTERY_COVER_LEGACY, paths.VERSION, paths.VERSION_V2],
)
def test_an_offline_vehicle_is_15301(
    api: httpx.Client, vehicle: str, fault: Callable[[str, Fault], None], path: str
) -> None:
    fault(vehicle, Fault.OFFLINE)
    eventually(
        lambda: api.get(STATUS, params={"iotCode": vehicle}).json()["data"]["online"] is False,
        "the vehicle's session ended",
    )
    if path in (paths.VERSION, paths.VERSION_V2):
        assert code_of(version(api, path, vehicle)) == Code.DEVICE_OFFLINE
    else:
        body = dict(COMMANDS).get(path, {})
        assert post(api, path, vehicle, **body) == Code.DEVICE_OFFLINE


# OpenAPI, saved state, the store ---------------------------------------------------

COMPATIBLE = {
    paths.VERSION: "get",
    paths.VERSION_V2: "get",
    paths.SPEED_MODE_SETTING: "post",
    paths.SCOOTER_SETTING: "post",
    paths.LIGHT: "post",
    paths.HEADLIGHT: "post",
    paths.POWER: "post",
    paths.BATTERY_COVER_LEGACY: "post",
}


def test_openapi_lists_them_under_the_compatibility_tag(server: RunningGateway) -> None:
    document = httpx.get(f"{server.base_url}/openapi.json", timeout=30).json()
    for path, method in COMPATIBLE.items():
        assert document["paths"][path][method]["tags"] == ["compatibility"], path
    tagged = {
        path
        for path, operations in document["paths"].items()
        for operation in operations.values()
        if "compatibility" in operation.get("tags", [])
    }
    assert tagged == set(COMPATIBLE)
    schemas = document["components"]["schemas"]
    assert {"SpeedModeRequest", "ScooterSettingRequest", "LightControlRequest"} <= set(schemas)


def test_the_new_state_is_saved_and_old_saved_states_still_load(
    server: RunningGateway, vehicle: str
) -> None:
    kept = state(server, vehicle)
    kept.speed_mode, kept.head_light, kept.powered, kept.ecu_version = 3, True, False, "9.9"
    assert VehicleState.from_dict(kept.to_dict()) == kept
    old = {k: v for k, v in kept.to_dict().items() if k in _BEFORE_COMPATIBILITY}
    loaded = VehicleState.from_dict(old)
    assert (loaded.head_light, loaded.tail_light, loaded.powered) == (False, False, True)
    assert loaded.iot_version == IOT_VERSION and loaded.speed_mode == 3


_BEFORE_COMPATIBILITY = {
    "iot_code",
    "latitude",
    "longitude",
    "altitude",
    "bluetooth_key",
    "locked",
    "speed_mode",
    "settings",
}


def test_a_report_made_before_a_speed_mode_command_does_not_undo_it(db_url: str) -> None:
    async def story() -> None:
        db = await seeded(db_url)
        try:
            vehicle = VEHICLES[5]
            await db.vehicles.apply_reports([report(vehicle, status_at(T0, speed_mode=2))])
            await db.vehicles.apply_command(vehicle, T0 + 5000, reported={"speedMode": 3})
            stale = status_at(T0 + 4000, speed_mode=2, odometer=7)  # made before the command
            assert await db.vehicles.apply_reports([report(vehicle, stale)]) != []
            other = Database(db_url)
            try:
                for reader in (db, other):
                    kept = await reader.vehicles.state(vehicle)
                    assert kept is not None and kept.status is not None
                    assert (kept.status["speedMode"], kept.status["odometer"]) == (3, 7)
            finally:
                await other.close()
            later = status_at(T0 + 6000, speed_mode=1)  # the rider changed it since
            await db.vehicles.apply_reports([report(vehicle, later)])
            kept = await db.vehicles.state(vehicle)
            assert kept is not None and kept.status is not None
            assert kept.status["speedMode"] == 1 and COMMANDED not in kept.status
        finally:
            await db.close()

    asyncio.run(story())
