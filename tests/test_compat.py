"""What public client code relies on beyond the letter of the document (NOTES.md).

One test per compatibility point: how clients authorise, how they spell
iotCode and controlType, the extra fields they send, where they put token
credentials, the `msg` they compare, and the field names they read.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from segway_gateway.sim.physics import FULL_RANGE_M
from tests.conftest import PLATFORM, get_token
from tests.harness import DOC_SECRET, LOCATION, LOCK, STATUS, UNLOCK, RunningGateway, eventually

TIMEOUT = 30.0
"""Seconds an HTTP call may take (a fresh server on a loaded machine is slow at first)."""
TOKEN = "/oauth/token"
BATTERY_COVER = "/api/v2/vehicle/control/battery-cover"
SOUND = "/api/v2/vehicle/control/sound"


def data_of(response: httpx.Response, msg: str | None = None) -> Any:
    """`data` of a successful envelope (code 0), checking `msg` when given."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 0, body
    if msg is not None:
        assert body["msg"] == msg, body
    return body["data"]


def is_locked(server: RunningGateway, iot_code: str) -> bool:
    return server.call(lambda: server.sim_vehicle(iot_code).state.locked)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_authorization_scheme_is_case_insensitive(
    server: RunningGateway, vehicle: str, scheme: str
) -> None:
    headers = {"Authorization": f"{scheme} {get_token(server.base_url)}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=TIMEOUT) as client:
        data = data_of(client.get(STATUS, params={"iotCode": vehicle}), "Success")
    assert data["iotCode"] == vehicle


@pytest.mark.parametrize("as_number", [True, False], ids=["number", "string"])
def test_iot_code_is_accepted_as_json_number_or_string(
    server: RunningGateway, api: httpx.Client, vehicle: str, as_number: bool
) -> None:
    iot_code: int | str = int(vehicle) if as_number else vehicle
    data_of(api.post(UNLOCK, json={"iotCode": iot_code}), "Success")
    assert is_locked(server, vehicle) is False
    eventually(
        lambda: data_of(api.get(STATUS, params={"iotCode": vehicle}))["locked"] is False,
        "the status saying unlocked",
    )


def test_extra_vehicle_code_beside_iot_code_is_ignored(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    body = {"iotCode": vehicle, "vehicleCode": "C80-000123"}
    data_of(api.post(UNLOCK, json=body), "Success")
    assert is_locked(server, vehicle) is False


@pytest.mark.parametrize(
    "content_type", [None, "application/x-www-form-urlencoded"], ids=["no-type", "form-type"]
)
def test_token_credentials_in_the_query_string_with_an_empty_body(
    server: RunningGateway, vehicle: str, content_type: str | None
) -> None:
    params = {
        "client_id": PLATFORM,
        "client_secret": DOC_SECRET,
        "grant_type": "client_credentials",
    }
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = httpx.post(
        f"{server.base_url}{TOKEN}", params=params, headers=headers, content=b"", timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert isinstance(body["access_token"], str) and body["access_token"]
    headers = {"Authorization": f"bearer {body['access_token']}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=TIMEOUT) as client:
        assert data_of(client.get(STATUS, params={"iotCode": vehicle}))["iotCode"] == vehicle


def test_msg_is_exactly_capital_success_on_every_control_and_setting(
    api: httpx.Client, vehicle: str
) -> None:
    """Clients compare `msg === 'Success'`: every control and setting, on one vehicle."""
    lamp = {"mode": 2, "color": 4}
    calls: list[tuple[str, dict[str, Any]]] = [
        (UNLOCK, {}),
        (BATTERY_COVER, {}),
        (SOUND, {"controlType": 2}),
        ("/api/v2/mopeds/setting/switch", {"alertSensitivity": 1, "lowPowerValue": 10}),
        ("/api/v2/mopeds/setting/able-switch", {"assistedMode": 0, "kickstandCheck": 2}),
        ("/api/v2/vehicle/setting/ambient", {"bright": 3, "parkingMode": lamp, "faultMode": lamp}),
        ("/api/v2/vehicle/setting/sound", {"workMode": 1, "volume": 3, "ebcqMask": {"toot": 0}}),
        ("/api/v2/vehicle/setting/bluetooth-key", {"key": "Zz901234"}),
        ("/api/v2/vehicle/setting/interval", {"statusInterval": {"nonRiding": 65535}}),
        (LOCK, {}),
    ]
    msgs = {
        path: api.post(path, json={"iotCode": vehicle, **extra}).json() for path, extra in calls
    }
    assert {path: (b["code"], b["msg"]) for path, b in msgs.items()} == {
        path: (0, "Success") for path, _ in calls
    }


def test_clients_read_remaining_range_from_status(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    data = data_of(api.get(STATUS, params={"iotCode": vehicle}), "Success")
    assert type(data["remainingRange"]) is int
    state = server.call(lambda: server.sim_vehicle(vehicle).state)
    full_range_m = FULL_RANGE_M[state.speed_mode]
    now = int(full_range_m * state.battery_percent / 100 / 10)
    assert now <= data["remainingRange"] <= now + 1, "standby drain since the report, at most"
    assert data["remainingRange"] == data["remainderRange"]


def test_clients_read_gps_utc_time_from_location(
    server: RunningGateway, api: httpx.Client, vehicle: str
) -> None:
    before = server.clock()  # the gateway's time: other tests may have moved its clock ahead
    params = {"iotCode": vehicle, "realTimeLocation": "true"}
    data = data_of(api.get(LOCATION, params=params), "success")
    after = server.clock()
    assert type(data["gpsUTCTime"]) is int
    assert int(before) - 1 <= data["gpsUTCTime"] <= after + 1, "epoch seconds of a fresh fix"
    assert data["gpsUTCTime"] == data["gpsUtcTime"]


@pytest.mark.parametrize("control_type", ["2", 2], ids=["string", "number"])
def test_control_type_is_accepted_as_string_or_number(
    server: RunningGateway, api: httpx.Client, vehicle: str, control_type: str | int
) -> None:
    assert server.call(lambda: server.sim_vehicle(vehicle).state.last_sound) is None
    body = {"iotCode": vehicle, "controlType": control_type}
    data_of(api.post(SOUND, json=body), "Success")
    assert server.call(lambda: server.sim_vehicle(vehicle).state.last_sound) == 2
