"""One platform never sees or moves another platform's vehicles."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from segway_gateway.contract.codes import Code
from tests.conftest import OTHER_VEHICLE
from tests.harness import RunningGateway

LAMP = {"mode": 2, "color": 1}
QUERIES = [
    "/api/v2/vehicle/query/current/status",
    "/api/v2/mebike/query/current/status",
    "/api/v2/vehicle/query/current/location",
    "/api/v2/mopeds/query/current/battery-info",
    "/api/v2/vehicle/query/current/battery-info",
    "/api/v2/vehicle/query/current/bluetooth-key",
]
COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("/api/v2/vehicle/control/unlock", {}),
    ("/api/v2/vehicle/control/lock", {}),
    ("/api/v2/vehicle/control/battery-cover", {}),
    ("/api/v2/vehicle/control/sound", {"controlType": 2}),
    ("/api/v2/mopeds/setting/switch", {"lowPowerValue": 20}),
    ("/api/v2/mopeds/setting/able-switch", {"kickstandCheck": 2}),
    ("/api/v2/vehicle/setting/ambient", {"bright": 1, "parkingMode": LAMP}),
    ("/api/v2/vehicle/setting/sound", {"workMode": 1}),
    ("/api/v2/vehicle/setting/bluetooth-key", {"key": "zzzz9999"}),
    ("/api/v2/vehicle/setting/interval", {"locationInterval": {"lockStatus": 60}}),
]


@pytest.mark.parametrize("path", QUERIES)
def test_queries_of_another_platforms_vehicle_are_15102(api: httpx.Client, path: str) -> None:
    body = api.get(path, params={"iotCode": OTHER_VEHICLE}).json()
    assert (body["code"], body["data"]) == (Code.DEVICE_NOT_FOUND, None)


@pytest.mark.parametrize(("path", "args"), COMMANDS)
def test_commands_to_another_platforms_vehicle_are_15102_and_change_nothing(
    server: RunningGateway, api: httpx.Client, path: str, args: dict[str, Any]
) -> None:
    before = server.sim_vehicle(OTHER_VEHICLE).state.to_dict()
    body = api.post(path, json={"iotCode": OTHER_VEHICLE, **args}).json()
    assert (body["code"], body["data"]) == (Code.DEVICE_NOT_FOUND, None)
    after = server.sim_vehicle(OTHER_VEHICLE).state.to_dict()
    assert (after["locked"], after["settings"], after["bluetooth_key"], after["last_sound"]) == (
        before["locked"],
        before["settings"],
        before["bluetooth_key"],
        before["last_sound"],
    )


def test_the_owner_can_still_use_its_vehicle(other_api: httpx.Client) -> None:
    """The control for the tests above: the same vehicle answers its own platform."""
    body = other_api.get("/api/v2/vehicle/query/current/status", params={"iotCode": OTHER_VEHICLE})
    assert body.json()["code"] == 0
