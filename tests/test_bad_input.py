"""Bad input: always HTTP 200 with the envelope and 15004, never a 500, and nothing changes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from segway_gateway.contract.codes import Code
from tests.harness import LOCATION, STATUS, UNLOCK, RunningGateway, code_of

SOUND = "/api/v2/vehicle/control/sound"

LAMP = {"mode": 2, "color": 1}
VALID_BODIES: dict[str, dict[str, Any]] = {
    "/api/v2/mopeds/setting/switch": {"alertSensitivity": 2, "lowPowerValue": 20},
    "/api/v2/mopeds/setting/able-switch": {"assistedMode": 1, "kickstandCheck": 2},
    "/api/v2/vehicle/setting/ambient": {"bright": 2, "parkingMode": LAMP},
    "/api/v2/vehicle/setting/sound": {"workMode": 2, "volume": 2, "ebcqMask": {"toot": 1}},
    "/api/v2/vehicle/setting/bluetooth-key": {"key": "abcd1234"},
    "/api/v2/vehicle/setting/interval": {
        "locationInterval": {"unlockStatus": 10, "lockStatus": 900},
        "statusInterval": {"ridingStatus": 10, "nonRiding": 60, "lockStatus": 65535},
    },
}

OUT_OF_RANGE = [
    ("/api/v2/mopeds/setting/switch", {"alertSensitivity": 0}),
    ("/api/v2/mopeds/setting/switch", {"alertSensitivity": 4}),
    ("/api/v2/mopeds/setting/switch", {"lowPowerValue": 9}),
    ("/api/v2/mopeds/setting/switch", {"lowPowerValue": 31}),
    ("/api/v2/mopeds/setting/switch", {"lowPowerValue": "20"}),
    ("/api/v2/mopeds/setting/able-switch", {"kickstandCheck": 3}),
    ("/api/v2/mopeds/setting/able-switch", {"lowPowerSwitch": -1}),
    ("/api/v2/mopeds/setting/able-switch", {"assistedMode": True}),
    ("/api/v2/vehicle/setting/ambient", {"bright": 0, "parkingMode": LAMP}),
    ("/api/v2/vehicle/setting/ambient", {"bright": 4, "parkingMode": LAMP}),
    ("/api/v2/vehicle/setting/ambient", {"bright": 2}),
    ("/api/v2/vehicle/setting/ambient", {"bright": 2, "parkingMode": {"mode": 3, "color": 1}}),
    ("/api/v2/vehicle/setting/ambient", {"bright": 2, "parkingMode": {"mode": 1, "color": 8}}),
    ("/api/v2/vehicle/setting/ambient", {"bright": 2, "parkingMode": LAMP, "faultMode": 1}),
    ("/api/v2/vehicle/setting/sound", {"volume": 2}),
    ("/api/v2/vehicle/setting/sound", {"workMode": 2, "volume": 0}),
    ("/api/v2/vehicle/setting/sound", {"workMode": 2, "volume": 4}),
    ("/api/v2/vehicle/setting/sound", {"workMode": 2.0}),
    ("/api/v2/vehicle/setting/sound", {"workMode": 2, "ebcqMask": {"toot": 3}}),
    ("/api/v2/vehicle/setting/bluetooth-key", {"key": "abc1234"}),
    ("/api/v2/vehicle/setting/bluetooth-key", {"key": "abcd12345"}),
    ("/api/v2/vehicle/setting/bluetooth-key", {"key": "abcd123é"}),
    ("/api/v2/vehicle/setting/bluetooth-key", {"key": 12345678}),
    ("/api/v2/vehicle/setting/interval", {}),
    ("/api/v2/vehicle/setting/interval", {"locationInterval": {}}),
    ("/api/v2/vehicle/setting/interval", {"statusInterval": {"nonRiding": None}}),
    ("/api/v2/vehicle/setting/interval", {"locationInterval": {"unlockStatus": 9}}),
    ("/api/v2/vehicle/setting/interval", {"statusInterval": {"nonRiding": 65536}}),
    (SOUND, {}),
    (SOUND, {"controlType": "two"}),
    (SOUND, {"controlType": 2.5}),
    (SOUND, {"controlType": True}),
]

BAD_IOT_CODES: list[Any] = [
    None,
    "",
    " 861477038719116",
    "861477038719116 ",
    "86147703871911a",
    "1" * 33,
    -861477038719116,
    8.6e14,
    True,
    ["861477038719116"],
]


@pytest.mark.parametrize(("path", "body"), list(VALID_BODIES.items()))
def test_each_setting_accepts_a_valid_body(
    api: httpx.Client, vehicle: str, path: str, body: dict[str, Any]
) -> None:
    """The control for the out-of-range cases: the same endpoint with good values succeeds."""
    assert code_of(api.post(path, json={"iotCode": vehicle, **body})) == 0


@pytest.mark.parametrize(("path", "body"), OUT_OF_RANGE)
def test_out_of_range_wrong_type_or_missing_field_is_15004_and_changes_nothing(
    server: RunningGateway, api: httpx.Client, vehicle: str, path: str, body: dict[str, Any]
) -> None:
    assert code_of(api.post(path, json={"iotCode": vehicle, **body})) == Code.PARAMETER_ERROR
    state = server.sim_vehicle(vehicle).state
    assert state.settings == {}
    assert state.last_sound is None


@pytest.mark.parametrize("iot_code", BAD_IOT_CODES, ids=repr)
def test_bad_iot_code_in_a_body_is_15004(api: httpx.Client, iot_code: Any) -> None:
    assert code_of(api.post(UNLOCK, json={"iotCode": iot_code})) == Code.PARAMETER_ERROR


@pytest.mark.parametrize("iot_code", ["", " 861477038719116", "abc", "1" * 33, "-1", "8.6e14"])
def test_bad_iot_code_in_a_query_is_15004(api: httpx.Client, iot_code: str) -> None:
    assert code_of(api.get(STATUS, params={"iotCode": iot_code})) == Code.PARAMETER_ERROR


def test_missing_iot_code_in_a_query_is_15004(api: httpx.Client) -> None:
    assert code_of(api.get(STATUS)) == Code.PARAMETER_ERROR


@pytest.mark.parametrize("value", ["maybe", "2", "yes", "truee"])
def test_bad_real_time_location_flag_is_15004(api: httpx.Client, vehicle: str, value: str) -> None:
    params = {"iotCode": vehicle, "realTimeLocation": value}
    assert code_of(api.get(LOCATION, params=params)) == Code.PARAMETER_ERROR


@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b"[1, 2]", b'"861477038719116"', b"null", b"", b"\xff\xfe{}"],
    ids=["truncated", "text", "array", "string", "null", "empty", "not-utf8"],
)
def test_malformed_body_is_15004_and_the_vehicle_stays_locked(
    server: RunningGateway, api: httpx.Client, vehicle: str, raw: bytes
) -> None:
    headers = {"Content-Type": "application/json"}
    assert code_of(api.post(UNLOCK, content=raw, headers=headers)) == Code.PARAMETER_ERROR
    assert server.sim_vehicle(vehicle).state.locked is True


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_wrong_content_type_is_15004(api: httpx.Client, vehicle: str, content_type: str) -> None:
    body = json.dumps({"iotCode": vehicle})
    headers = {"Content-Type": content_type}
    assert code_of(api.post(UNLOCK, content=body, headers=headers)) == Code.PARAMETER_ERROR


def test_two_megabyte_body_is_15004(api: httpx.Client, vehicle: str) -> None:
    body = json.dumps({"iotCode": vehicle, "padding": "x" * (2 * 1024 * 1024)})
    headers = {"Content-Type": "application/json"}
    assert code_of(api.post(UNLOCK, content=body, headers=headers)) == Code.PARAMETER_ERROR


def test_two_megabyte_chunked_body_is_15004(api: httpx.Client, vehicle: str) -> None:
    """Without a Content-Length the limit still holds while the body streams in."""

    def chunks() -> Any:
        yield b'{"iotCode": "%s", "padding": "' % vehicle.encode()
        for _ in range(32):
            yield b"x" * 65536
        yield b'"}'

    headers = {"Content-Type": "application/json"}
    assert code_of(api.post(UNLOCK, content=chunks(), headers=headers)) == Code.PARAMETER_ERROR
